// Shared pieces of the signaling benches: the real CLI and a bare `ws` relay in child processes, protocol clients.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { WebSocket } from 'ws';

export const SECRET = 'bench-secret-0123456789abcdef';

/** The bare `ws` baseline: a relay with no auth, no validation, no limits; `GET /rss` answers its RSS. */
const BARE_RELAY = `
const { createServer } = require('node:http');
const { WebSocketServer } = require('ws');
const server = createServer((req, res) => res.end(String(process.memoryUsage().rss)));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const peers = new Map();
let next = 0;
wss.on('connection', (ws) => {
  const id = String(next++);
  peers.set(id, ws);
  ws.on('error', () => {});
  ws.send(JSON.stringify({ type: 'welcome', peerId: id }));
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    const to = peers.get(m.to);
    if (to) to.send(JSON.stringify({ type: 'relay', from: id, data: m.data }));
  });
  ws.on('close', () => peers.delete(id));
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

/** Spawns `node <args>` in `cwd` and resolves once it prints its port, with `child` and `stop()` (SIGKILL). */
export async function startChild(args, cwd) {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  return {
    port,
    child,
    stop: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    },
  };
}

/** The CLI and its arguments: limits high enough to measure throughput, then `extra`. */
export function signalingArgs(extra = []) {
  return [
    'packages/signaling/bin/framewire-signaling.js',
    '--port',
    '0',
    '--secret',
    SECRET,
    '--messages-per-second',
    '1000000',
    '--max-peers-per-room',
    '1000',
    '--max-connections-per-ip',
    '100000',
    '--log-level',
    'info',
    ...extra,
  ].map(String);
}

/** Starts framewire-signaling with limits high enough to measure throughput. */
export function startSignaling(extra = []) {
  return startChild(signalingArgs(extra), new URL('../..', import.meta.url).pathname).then((s) => ({
    ...s,
    rss: async () =>
      Number(
        /process_resident_memory_bytes (\d+)/.exec(await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text())[1],
      ),
  }));
}

/** Starts the bare `ws` relay (the baseline). */
export function startBareRelay() {
  return startChild(['-e', BARE_RELAY], new URL('../..', import.meta.url).pathname).then((s) => ({
    ...s,
    rss: async () => Number(await (await fetch(`http://127.0.0.1:${s.port}/rss`)).text()),
  }));
}

/** Opens a client; for framewire it offers the token and joins `room`. Resolves with { ws, peerId, inbox }. */
export async function openClient(port, { token, room } = {}) {
  const protocols = token ? ['framewire.v1', `framewire-token.${token}`] : [];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, protocols, { perMessageDeflate: false });
  ws.on('error', () => {});
  const client = { ws, peerId: '', received: 0 };
  const welcomed = new Promise((resolve) => {
    ws.on('message', (data) => {
      const text = String(data);
      if (client.peerId === '') {
        const m = JSON.parse(text);
        if (m.type === 'welcome') {
          client.peerId = m.peerId;
          resolve();
        }
        return;
      }
      client.received++;
    });
  });
  await once(ws, 'open');
  if (token) ws.send(JSON.stringify({ type: 'join', room }));
  await welcomed;
  return client;
}
