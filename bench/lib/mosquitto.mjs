// A mosquitto broker for benchmarks (shared by bench/mqtt.bench.mjs and bench/av-offset.bench.mjs): anonymous, on
// loopback, with a plain MQTT (TCP) listener and a WebSocket one, in a temporary folder removed by `stop()`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const freePort = () =>
  new Promise((resolve) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const portOpen = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() && true));
    socket.once('error', () => resolve(false));
  });

/**
 * Starts `/usr/sbin/mosquitto` on two free loopback ports and resolves once both accept connections.
 *
 * @returns {Promise<{ url: string, wsUrl: string, stop: () => void }>} the TCP (`mqtt://`) and WebSocket (`ws://`)
 *   URLs, and `stop()`
 */
export async function startMosquitto() {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-bench-mqtt-'));
  const [port, wsPort] = [await freePort(), await freePort()];
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    `persistence false\nlog_dest none\nallow_anonymous true\nlistener ${port} 127.0.0.1\nprotocol mqtt\nlistener ${wsPort} 127.0.0.1\nprotocol websockets\n`,
  );
  const child = spawn('/usr/sbin/mosquitto', ['-c', config], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !((await portOpen(port)) && (await portOpen(wsPort))); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
