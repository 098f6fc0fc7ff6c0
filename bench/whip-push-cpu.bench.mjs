// The bridge's CPU for --whip-push: two bridges with the same 1280×720 30 fps test pattern run side by side, one
// publishing its H.264 to a third bridge's /whip (werift, the shared H.264 feed packetized once more, no
// re-encode), the other idle (no viewer, no push). The push's cost is the difference of their Node processes' CPU
// (from /proc, same window); the baseline is the CPU of the pushing bridge's own ffmpeg processes (test pattern and
// the H.264 encode the push needs), i.e. the work a source costs anyway. Lower is better.
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const WINDOW_MS = 5000;
const SETTLE_MS = 3000;
const TOKEN = 'whip-push-bench-token';

export const name = `WHIP push CPU, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern on loopback: the bridge's Node CPU for one --whip-push vs the ffmpeg work of its source`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const common = [
  '--port',
  '0',
  '--size',
  `${WIDTH}x${HEIGHT}`,
  '--fps',
  String(FPS),
  '--webrtc-ice-address',
  '127.0.0.1',
  // The idle bridge runs its source too (the pattern is otherwise on demand), as the subtraction assumes.
  '--pattern-always-on',
];

/** The frames the bridge on `port` pushed so far (its `whip-push` output in /metrics). */
async function pushedFrames(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('framewire_output_frames_total{') && l.includes('whip-push'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** CPU % of one core over WINDOW_MS: the Node processes and the ffmpegs of each bridge, and the push's fps. */
async function measure(pusher, idle) {
  const split = (bridge) => {
    const procs = childProcesses(bridge.child.pid);
    return {
      nodes: [bridge.child.pid, ...procs.filter((p) => p.comm !== 'ffmpeg').map((p) => p.pid)],
      ffmpegs: procs.filter((p) => p.comm === 'ffmpeg').map((p) => p.pid),
    };
  };
  const sum = (pids) => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
  const [p, i] = [split(pusher), split(idle)];
  const before = [sum(p.nodes), sum(p.ffmpegs), sum(i.nodes), await pushedFrames(pusher.port)];
  const start = performance.now();
  await sleep(WINDOW_MS);
  const seconds = (performance.now() - start) / 1000;
  const after = [sum(p.nodes), sum(p.ffmpegs), sum(i.nodes), await pushedFrames(pusher.port)];
  const rate = (k) => ((after[k] - before[k]) / seconds) * 100;
  return { pusherNode: rate(0), pusherFfmpeg: rate(1), idleNode: rate(2), fps: (after[3] - before[3]) / seconds };
}

/** Measures the two bridges `repeats` times, one window each. */
export async function run({ repeats }) {
  const receiver = await startBridgeCli([
    '--port',
    '0',
    '--size',
    '160x120',
    '--fps',
    '5',
    '--webrtc',
    '--token',
    TOKEN,
  ]);
  const pusher = await startBridgeCli([
    ...common,
    ...['--whip-push', `http://127.0.0.1:${receiver.port}/whip`, '--whip-push-token', TOKEN],
  ]);
  const idle = await startBridgeCli(common);
  const cost = [];
  const ffmpeg = [];
  const fps = [];
  const idleCpu = [];
  try {
    await sleep(SETTLE_MS);
    for (let i = 0; i < repeats; i++) {
      const m = await measure(pusher, idle);
      cost.push(m.pusherNode - m.idleNode);
      ffmpeg.push(m.pusherFfmpeg);
      fps.push(m.fps);
      idleCpu.push(m.idleNode);
    }
  } finally {
    for (const bridge of [pusher, idle, receiver]) {
      const exited = new Promise((resolve) => bridge.child.once('exit', resolve));
      bridge.child.kill('SIGTERM');
      await exited;
    }
  }
  return {
    rows: [
      {
        unit: '% CPU',
        ours: cost,
        baseline: ffmpeg,
        oursLabel: 'bridge Node CPU for one --whip-push (pushing bridge − idle bridge)',
        baselineLabel: 'the pushing bridge’s ffmpegs (test pattern + H.264 encode)',
      },
    ],
    notes: [
      'CPU in % of one core: lower is better.',
      `Frames pushed per second (median; the source makes ${FPS}): ${median(fps).toFixed(1)}.`,
      `Node CPU of the idle bridge (subtracted), median: ${median(idleCpu).toFixed(1)}%; it runs no H.264 encode, so the push's share includes reading the encoder's output.`,
      `Per run: ${SETTLE_MS} ms to settle once, then a ${WINDOW_MS} ms window over both bridges at once. The receiving bridge (160×120, its CPU not counted) takes the push at /whip as H.264 (werift), ICE on 127.0.0.1 only.`,
    ],
  };
}
