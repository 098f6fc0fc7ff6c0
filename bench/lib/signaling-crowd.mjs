// What the signaling crowd benches share: servers (framewire-signaling, PeerJS) in child processes that collect
// garbage on SIGUSR2, their resident memory from /proc, redis-server, and client processes holding thousands of
// WebSockets each (bench/lib/signaling-crowd-client.mjs).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { SECRET, signalingArgs, startChild } from './signaling-harness.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const GC = new URL('./gc-on-signal.cjs', import.meta.url).pathname;
const CLIENT = new URL('./signaling-crowd-client.mjs', import.meta.url).pathname;

/** PeerJS (npm `peer`) as its README starts it, without a client limit below the crowd. */
const PEERJS = `
import { PeerServer } from 'peer';
PeerServer({ port: 0, host: '127.0.0.1', path: '/', concurrent_limit: 1000000 }, (server) =>
  console.log('listening on http://127.0.0.1:' + server.address().port));
`;

/** Spawns a Node server that collects garbage on SIGUSR2; `rss()` collects garbage, then reads VmRSS. */
async function startServer(args) {
  const server = await startChild(['--expose-gc', '--require', GC, ...args], ROOT);
  return {
    ...server,
    rss: async () => {
      server.child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))[1]) * 1024;
    },
  };
}

/** framewire-signaling (the CLI) with limits that let one address open the whole crowd. */
export function startFramewire(extra = []) {
  return startServer(signalingArgs(extra));
}

/** The PeerJS server, no authentication (it has none). */
export function startPeerjs() {
  return startServer(['--input-type=module', '-e', PEERJS]);
}

/** redis-server on loopback, no persistence. */
export async function startRedis() {
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const child = spawn('/usr/bin/redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  let output = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    },
  };
}

/**
 * Starts one client process per entry of `groups` ({ kind, port, count, first, rooms, server }) at once; resolves
 * when all have joined, with the time they took (`joinMs`) and the clients (`relay()` asks every process to relay, `stop()`).
 */
export async function crowd(groups) {
  const clients = await Promise.all(
    groups.map(async (group) => {
      const child = spawn(process.execPath, [CLIENT, JSON.stringify({ secret: SECRET, ...group })], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      const next = (prefix) =>
        new Promise((resolve, reject) => {
          const onExit = (code) => reject(new Error(`a client process exited with ${code}`));
          const onLine = (line) => {
            if (!line.startsWith(prefix)) return;
            lines.off('line', onLine);
            child.off('exit', onExit);
            resolve(line.split(' ').slice(1).map(Number));
          };
          lines.on('line', onLine);
          child.once('exit', onExit);
        });
      const [startMs, endMs] = await next('joined');
      return { child, next, startMs, endMs };
    }),
  );
  // From the first client's first connect to the last client's last welcome, across processes.
  const joinMs = Math.max(...clients.map((c) => c.endMs)) - Math.min(...clients.map((c) => c.startMs));
  return {
    joinMs,
    /** Every client relays once; resolves with [sent, delivered] once all arrived or 120 s passed. */
    relay: async () => {
      const ask = (command, prefix) =>
        Promise.all(
          clients.map((c) => {
            const answer = c.next(prefix);
            c.child.stdin.write(`${command}\n`);
            return answer;
          }),
        ).then((answers) => answers.reduce((sum, [n]) => sum + n, 0));
      const sent = await ask('relay', 'sent');
      const deadline = Date.now() + 120_000;
      let delivered = await ask('count', 'received');
      while (delivered < sent && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        delivered = await ask('count', 'received');
      }
      return [sent, delivered];
    },
    stop: async () => {
      for (const c of clients) c.child.kill('SIGKILL');
      await Promise.all(clients.map((c) => once(c.child, 'exit').catch(() => undefined)));
    },
  };
}
