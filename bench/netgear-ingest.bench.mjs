// NetGear ingest at 1280×720 raw BGR over loopback: frames per second the bridge's NetGearSource (its built-in ZMTP
// receiver, with reused buffers as the bridge runs it, and with a new buffer per frame as the library default) receives from a Python NetGear sender written to vidgear's wire format (test/fixtures/netgear_peer.py: pyzmq +
// numpy, JSON header + raw ndarray, vidgear's reply after every frame), vs a Python NetGear receiver (the same
// peer program in receiver mode, as vidgear's NetGear(receive_mode=True)) fed by the same sender in the same run.
// Each receiver runs in its own process (bench/lib/netgear-receiver.mjs for the bridge side) and counts from its
// first frame to its last; higher is better. More rows: a bare zeromq.js receive loop with no bridge code
// (bench/lib/zeromq-bare-receiver.mjs; what NetGearSource used before its ZMTP receiver) against the same Python
// receiver, and the receiving process's CPU time per frame (less sensitive to other load than fps; lower is better).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = 600;
const PATTERNS = [
  [0, 'PAIR'],
  [1, 'REQ/REP'],
];
const PEER = join(import.meta.dirname, '..', 'test', 'fixtures', 'netgear_peer.py');
const PYTHON = process.env.FRAMEWIRE_PYTHON ?? '/usr/bin/python3';
const RECEIVER = join(import.meta.dirname, 'lib', 'netgear-receiver.mjs');
const BARE = join(import.meta.dirname, 'lib', 'zeromq-bare-receiver.mjs');

export const name = `NetGear ingest, ${WIDTH}×${HEIGHT} raw BGR from a Python vidgear-format sender on loopback: NetGearSource vs a Python NetGear receiver`;

/** A TCP port that was free a moment ago (ZeroMQ endpoints need a number up front). */
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a peer program to its end; resolves with its JSON lines (rejects on a non-zero exit). */
function peer(args, command = [PYTHON, PEER]) {
  const [executable, ...first] = command;
  const child = spawn(executable, [...first, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const events = stdout
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line));
      if (code === 0) resolve(events);
      else reject(new Error(`${command.join(' ')} ${args.join(' ')} exited ${code}: ${stderr}`));
    }),
  );
  return { child, done };
}

const senderArgs = (port, pattern) => [
  'sender',
  '--port',
  String(port),
  '--pattern',
  String(pattern),
  '--size',
  `${WIDTH}x${HEIGHT}`,
  '--frames',
  String(FRAMES),
];

/** Runs a receiver (`argsFor(port)`) against the Python sender; resolves with its "done" event and every event. */
async function receive(command, argsFor, pattern) {
  const port = await freePort();
  const receiver = peer(argsFor(String(port)), command);
  await new Promise((resolve) => receiver.child.stdout.once('data', resolve)); // "listening"
  const [events] = await Promise.all([receiver.done, peer(senderArgs(port, pattern)).done]);
  return { done: events.find((event) => event.event === 'done'), events };
}

/** NetGearSource (in a Node process of its own) receiving FRAMES frames: fps and CPU µs per frame. */
async function bridgeRun(pattern, reuseBuffers = true) {
  const { done } = await receive(
    [process.execPath, RECEIVER],
    (port) => [port, String(pattern), String(FRAMES), String(WIDTH), String(HEIGHT), reuseBuffers ? 'reuse' : 'fresh'],
    pattern,
  );
  if (done?.frames !== FRAMES || done.bad !== 0) throw new Error(`NetGearSource reported ${JSON.stringify(done)}`);
  return { fps: done.fps, cpuUsPerFrame: done.cpuUs / (FRAMES - 1) };
}

/** A bare zeromq.js receive loop: fps, and V8 garbage collections per frame. */
async function bareRun(pattern) {
  const { done } = await receive([process.execPath, BARE], (port) => [port, String(pattern), String(FRAMES)], pattern);
  if (done?.frames !== FRAMES) throw new Error(`the bare zeromq.js loop reported ${JSON.stringify(done)}`);
  return { fps: done.fps, gcs: done.gcs, gcMs: done.gcMs };
}

/** The Python receiver, as it reports itself (first frame to last): fps and CPU µs per frame. */
async function pythonRun(pattern) {
  const { done, events } = await receive(
    [PYTHON, PEER],
    (port) => ['receiver', '--port', port, '--pattern', String(pattern), '--frames', String(FRAMES), '--quiet'],
    pattern,
  );
  const last = events.findLast((event) => event.event === 'frame');
  if (done?.frames !== FRAMES || last?.shape?.join('x') !== `${HEIGHT}x${WIDTH}x3`)
    throw new Error(`the Python receiver reported ${JSON.stringify(done)}`);
  return { fps: done.fps, cpuUsPerFrame: (done.cpu_ms * 1000) / (FRAMES - 1) };
}

/** Alternates the receivers `repeats` times per pattern. */
export async function run({ repeats }) {
  const rows = [];
  const collections = [];
  for (const [pattern, label] of PATTERNS) {
    const ours = [];
    const fresh = [];
    const bare = [];
    const baseline = [];
    for (let i = 0; i < repeats; i++) {
      ours.push(await bridgeRun(pattern));
      fresh.push(await bridgeRun(pattern, false));
      bare.push(await bareRun(pattern));
      baseline.push(await pythonRun(pattern));
    }
    const python = `Python NetGear receiver (pyzmq + numpy), pattern ${pattern}`;
    rows.push(
      {
        unit: 'fps',
        ours: ours.map((r) => r.fps),
        baseline: baseline.map((r) => r.fps),
        oursLabel: `NetGearSource, pattern ${pattern} (${label}), reused buffers (as the bridge runs it)`,
        baselineLabel: python,
      },
      {
        unit: 'fps',
        ours: fresh.map((r) => r.fps),
        baseline: baseline.map((r) => r.fps),
        oursLabel: `NetGearSource, pattern ${pattern}, a new buffer per frame (the library default)`,
        baselineLabel: python,
      },
      {
        unit: 'fps',
        ours: bare.map((r) => r.fps),
        baseline: baseline.map((r) => r.fps),
        oursLabel: `bare zeromq.js receive loop (no bridge code), pattern ${pattern}`,
        baselineLabel: python,
      },
      {
        unit: 'µs CPU per frame',
        ours: ours.map((r) => r.cpuUsPerFrame),
        baseline: baseline.map((r) => r.cpuUsPerFrame),
        oursLabel: `NetGearSource process, reused buffers, pattern ${pattern} (lower is better)`,
        baselineLabel: python,
      },
    );
    collections.push(
      `pattern ${pattern}: ${bare.map((r) => `${r.gcs} (${Math.round(r.gcMs)} ms)`).join(', ')} per ${FRAMES} frames`,
    );
  }
  return {
    rows,
    notes: [
      'Frames per second: higher is better (a ratio above 1 means the bridge receives faster than Python). CPU per frame: lower is better (a ratio above 1 means the bridge spends more).',
      `Per run: ${FRAMES} frames of ${WIDTH}×${HEIGHT}×3 bytes, sent as fast as the receiver replies (vidgear's NetGear waits for a reply after every frame in patterns 0 and 1).`,
      'The sender is the same Python program for every receiver; the bridge side checks every frame’s size and count.',
      'Each receiver has a process of its own (the bench process also drives Chromium, whose traffic would slow a receiver on its event loop).',
      'NetGearSource receives with its built-in ZMTP 3.0 receiver: the socket reads each frame straight into its buffer (no copy after the kernel’s), and with reused buffers no frame allocates memory. zeromq.js instead hands every message over 128 bytes to JavaScript as an external Buffer and reports its size to V8, which then runs a full collection every few dozen megabytes of frames; pyzmq frees each frame at once by reference counting. V8 garbage-collection events (count and total pause) in the bare zeromq.js loop: ' +
        collections.join('; ') +
        '.',
    ],
  };
}
