// The bridge's CPU for --record: two bridges with the same 1280×720 30 fps test pattern and Opus tone run side by
// side, one recording every source to fragmented MP4 (mediabunny's muxer in the bridge's Node process, the H.264
// passed through, 30 s segments), the other not recording. Both bridges' Node processes are measured over the same
// windows (from /proc); ours is the recording bridge, the baseline the other. Lower is better.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const WINDOW_MS = 5000;
const SETTLE_MS = 3000;

export const name = `Recording CPU, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern with Opus tone: the bridge's Node CPU with --record (fragmented MP4, H.264 passed through) vs the same bridge without`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const common = [
  '--port',
  '0',
  '--size',
  `${WIDTH}x${HEIGHT}`,
  '--fps',
  String(FPS),
  '--audio',
  'tone',
  // The bridge without recording runs its source too (the pattern is otherwise on demand).
  '--pattern-always-on',
];

/** Bytes the recording bridge on `port` wrote so far (/metrics). */
async function recordedBytes(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('framewire_recording_bytes_total{'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** CPU % of one core over WINDOW_MS of each bridge's Node processes, and the recording's write rate. */
async function measure(recording, plain) {
  const nodes = (bridge) => [
    bridge.child.pid,
    ...childProcesses(bridge.child.pid)
      .filter((p) => p.comm !== 'ffmpeg')
      .map((p) => p.pid),
  ];
  const sum = (pids) => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
  const [r, p] = [nodes(recording), nodes(plain)];
  const before = [sum(r), sum(p), await recordedBytes(recording.port)];
  const start = performance.now();
  await sleep(WINDOW_MS);
  const seconds = (performance.now() - start) / 1000;
  const after = [sum(r), sum(p), await recordedBytes(recording.port)];
  const rate = (k) => ((after[k] - before[k]) / seconds) * 100;
  return { recording: rate(0), plain: rate(1), bytesPerS: (after[2] - before[2]) / seconds };
}

/** Measures the two bridges `repeats` times, one window each. */
export async function run({ repeats }) {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-recording-bench-'));
  const recording = await startBridgeCli([...common, '--record', dir, '--record-segment-minutes', '0.5']);
  const plain = await startBridgeCli(common);
  const ours = [];
  const baseline = [];
  const rates = [];
  try {
    await sleep(SETTLE_MS);
    for (let i = 0; i < repeats; i++) {
      const m = await measure(recording, plain);
      ours.push(m.recording);
      baseline.push(m.plain);
      rates.push(m.bytesPerS);
    }
  } finally {
    for (const bridge of [recording, plain]) {
      const exited = new Promise((resolve) => bridge.child.once('exit', resolve));
      bridge.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    rows: [
      {
        unit: '% CPU',
        ours,
        baseline,
        oursLabel: 'bridge Node CPU with --record',
        baselineLabel: 'the same bridge without recording',
      },
    ],
    notes: [
      'CPU in % of one core: lower is better. Neither bridge has a viewer; their ffmpegs (test pattern, H.264 and Opus encodes) are not counted.',
      `Recorded bytes per second (median): ${(median(rates) / 1e6).toFixed(2)} MB/s; recording adds ${(median(ours) - median(baseline)).toFixed(1)} points of one core.`,
      `Per run: ${SETTLE_MS} ms to settle once, then a ${WINDOW_MS} ms window over both bridges at once.`,
    ],
  };
}
