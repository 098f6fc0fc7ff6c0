// `npm run demo`: starts the signaling server, a bridge with the built-in test pattern, and the demo page.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startDemoServer } from './demo-server.mjs';

const DEMO_PORT = Number(process.env.FRAMEWIRE_DEMO_PORT ?? 8080);
const BRIDGE_PORT = Number(process.env.FRAMEWIRE_BRIDGE_PORT ?? 8090);
const SIGNALING_PORT = Number(process.env.FRAMEWIRE_SIGNALING_PORT ?? 8443);
const HOST = process.env.FRAMEWIRE_DEMO_HOST ?? '127.0.0.1';

// The demo server mints room tokens with the same secret (as an application's server would); it travels in the
// environment, not on a command line other users can read.
const SIGNALING_SECRET = process.env.FRAMEWIRE_SIGNALING_SECRET ?? randomBytes(32).toString('base64url');

const children = [];
function start(name, script, args, env = {}) {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[demo] ${name} stopped (code ${code}, signal ${signal}); shutting down`);
      stop(1);
    }
  });
  children.push(child);
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  server?.close();
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const local = HOST === '127.0.0.1' || HOST === '0.0.0.0' ? 'localhost' : HOST;
const demoOrigins = [...new Set([local, '127.0.0.1', 'localhost'])].map((name) => `http://${name}:${DEMO_PORT}`);
start(
  'signaling',
  'packages/signaling/bin/framewire-signaling.js',
  ['--host', HOST, '--port', String(SIGNALING_PORT), ...demoOrigins.flatMap((origin) => ['--allowed-origin', origin])],
  { FRAMEWIRE_SIGNALING_SECRET: SIGNALING_SECRET },
);
start('bridge', 'packages/node-bridge/bin/framewire-bridge.js', [
  '--host',
  HOST,
  '--port',
  String(BRIDGE_PORT),
  '--source',
  'testpattern',
  '--webrtc',
  // On loopback, WebRTC needs no other candidate (and offers none of this machine's other addresses).
  ...(HOST === '127.0.0.1' ? ['--webrtc-ice-address', '127.0.0.1'] : []),
]);

let server;
try {
  server = await startDemoServer({
    host: HOST,
    port: DEMO_PORT,
    signalingSecret: SIGNALING_SECRET,
    config: {
      bridgeUrl: `http://${local}:${BRIDGE_PORT}/`,
      signalingUrl: `http://${local}:${SIGNALING_PORT}/`,
      // The SDK's workers must come from the page's own origin: the page finds them at /sdk/ by default, whichever
      // host name it was opened with (localhost or 127.0.0.1).
    },
  });
} catch (error) {
  console.error(`[demo] cannot serve the demo on ${HOST}:${DEMO_PORT}: ${error.message}`);
  stop(1);
}
if (server) {
  console.log(
    `\n  framewire demo: http://localhost:${DEMO_PORT}/\n  (bridge on :${BRIDGE_PORT}, signaling on :${SIGNALING_PORT}; Ctrl-C stops everything)\n`,
  );
}
