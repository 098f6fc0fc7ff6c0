/** Runs the Python NetGear peer (test/fixtures/netgear_peer.py) with the system interpreter and its Debian modules. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** The interpreter that has python3-zmq, numpy, OpenCV and msgpack (the one on PATH may be another). */
export const PYTHON = process.env['FRAMEWIRE_PYTHON'] ?? '/usr/bin/python3';
const PEER = 'test/fixtures/netgear_peer.py';

/** A running Python peer: its JSON lines, and its exit. */
export interface PythonPeer {
  events: Record<string, unknown>[];
  exited: Promise<number | null>;
  stderr(): string;
  kill(): void;
}

/** Starts the peer with `args`; every stdout line is parsed into `events`. */
export function startPeer(args: string[]): PythonPeer {
  const child = spawn(PYTHON, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { events, exited, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}

/** Runs the peer to completion; rejects with its stderr when it exits non-zero. */
export async function runPeer(args: string[]): Promise<Record<string, unknown>[]> {
  const peer = startPeer(args);
  const code = await peer.exited;
  if (code !== 0)
    throw new Error(
      `netgear_peer.py ${args.join(' ')} exited ${code}: ${peer.stderr()}\n${JSON.stringify(peer.events)}`,
    );
  return peer.events;
}

/** A TCP port that was free a moment ago (ZeroMQ endpoints need a number up front). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
