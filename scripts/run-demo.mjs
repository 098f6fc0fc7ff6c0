// `npm run demo`: starts the signaling server, a bridge with the built-in test pattern, and the demo page.
// `npm run demo -- --tls-cert bridge.pem --tls-key bridge-key.pem` serves all three over https and wss (with
// FRAMEWIRE_DEMO_HOST=0.0.0.0, for phones on the LAN: see docs/guides/node-bridge.md).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readTlsFiles } from '@framewire/node-bridge';
import { startDemoServer } from './demo-server.mjs';

const { values: flags } = parseArgs({ options: { 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } } });
if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) {
  console.error('[demo] --tls-cert and --tls-key go together');
  process.exit(2);
}
const TLS_FILES = flags['tls-cert'] ? ['--tls-cert', flags['tls-cert'], '--tls-key', flags['tls-key']] : [];
let tls;
try {
  tls = flags['tls-cert'] ? await readTlsFiles(flags['tls-cert'], flags['tls-key']) : undefined;
} catch (error) {
  console.error(`[demo] ${error.code}: ${error.message}`);
  process.exit(2);
}
const [HTTP, WS] = tls ? ['https', 'wss'] : ['http', 'ws'];

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
// Served to the LAN, the page is opened by this machine's name (what `framewire-bridge tls` certifies by default).
const lanNames = HOST === '0.0.0.0' ? [hostname(), `${hostname()}.local`] : [];
const demoOrigins = [...new Set([local, '127.0.0.1', 'localhost', ...lanNames])].map(
  (name) => `${HTTP}://${name}:${DEMO_PORT}`,
);
start(
  'signaling',
  'packages/signaling/bin/framewire-signaling.js',
  [
    '--host',
    HOST,
    '--port',
    String(SIGNALING_PORT),
    ...TLS_FILES,
    ...demoOrigins.flatMap((origin) => ['--allowed-origin', origin]),
  ],
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
  ...TLS_FILES,
  '--source',
  'testpattern',
  '--webrtc',
  // Motion events for the bridge page's badge (the test pattern always moves).
  '--motion',
  // On loopback, WebRTC needs no other candidate (and offers none of this machine's other addresses).
  ...(HOST === '127.0.0.1' ? ['--webrtc-ice-address', '127.0.0.1'] : []),
  // The test pattern to the broker, and /mqtt relaying browsers to it.
  ...(mqttUrl ? ['--mqtt-url', mqttUrl, '--mqtt-relay'] : []),
  // The Recordings page: one-minute files, at most 200 MB kept.
  ...['--record', join(tmpdir(), 'framewire-demo-recordings'), '--record-segment-minutes', '1'],
  ...['--record-max-bytes', '200000000'],
]);

let server;
try {
  server = await startDemoServer({
    host: HOST,
    port: DEMO_PORT,
    signalingSecret: SIGNALING_SECRET,
    ...(tls ? { tls } : {}),
    config: {
      // {host}: the name the page was opened with (localhost here, raspberrypi.local on a phone).
      bridgeUrl: `${HTTP}://{host}:${BRIDGE_PORT}/`,
      signalingUrl: `${HTTP}://{host}:${SIGNALING_PORT}/`,
      ...(mqttUrl ? { mqttUrl: `${WS}://{host}:${BRIDGE_PORT}/mqtt` } : {}),
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
    `\n  framewire demo: ${HTTP}://localhost:${DEMO_PORT}/\n  (bridge on :${BRIDGE_PORT}, signaling on :${SIGNALING_PORT}; Ctrl-C stops everything)\n`,
  );
}
