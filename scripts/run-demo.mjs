// `npm run demo`: starts the signaling server, a bridge with the built-in test pattern, and the demo page.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoServer } from './demo-server.mjs';

const DEMO_PORT = Number(process.env.FRAMEWIRE_DEMO_PORT ?? 8080);
const BRIDGE_PORT = Number(process.env.FRAMEWIRE_BRIDGE_PORT ?? 8090);
const SIGNALING_PORT = Number(process.env.FRAMEWIRE_SIGNALING_PORT ?? 8443);
const HOST = process.env.FRAMEWIRE_DEMO_HOST ?? '127.0.0.1';
const MQTT_PORT = Number(process.env.FRAMEWIRE_MQTT_PORT ?? 1883);

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
/** True when something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * An MQTT broker for the MQTT page: one already listening on 127.0.0.1:MQTT_PORT (Debian's mosquitto service), or
 * mosquitto started here on loopback; none when mosquitto is not installed (the page then says so).
 */
async function mqttBroker() {
  if (await listening(MQTT_PORT)) return `mqtt://127.0.0.1:${MQTT_PORT}`;
  const binary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((path) => existsSync(path));
  if (!binary) {
    console.warn('[demo] mosquitto is not installed: the MQTT page stays empty (bash scripts/setup.sh installs it)');
    return undefined;
  }
  const conf = join(mkdtempSync(join(tmpdir(), 'framewire-demo-')), 'mosquitto.conf');
  writeFileSync(conf, `listener ${MQTT_PORT} 127.0.0.1\nallow_anonymous true\n`);
  const broker = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  broker.on('exit', (code) => {
    if (!stopping) console.warn(`[demo] mosquitto stopped (code ${code}); the MQTT page stops receiving`);
  });
  children.push(broker);
  return `mqtt://127.0.0.1:${MQTT_PORT}`;
}

const mqttUrl = await mqttBroker();
start('bridge', 'packages/node-bridge/bin/framewire-bridge.js', [
  '--host',
  HOST,
  '--port',
  String(BRIDGE_PORT),
  '--source',
  'testpattern',
  '--webrtc',
  // Motion events for the bridge page's badge (the test pattern always moves).
  '--motion',
  // On loopback, WebRTC needs no other candidate (and offers none of this machine's other addresses).
  ...(HOST === '127.0.0.1' ? ['--webrtc-ice-address', '127.0.0.1'] : []),
  // The test pattern to the broker, and /mqtt relaying browsers to it.
  ...(mqttUrl ? ['--mqtt-url', mqttUrl, '--mqtt-relay'] : []),
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
      ...(mqttUrl ? { mqttUrl: `ws://${local}:${BRIDGE_PORT}/mqtt` } : {}),
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
