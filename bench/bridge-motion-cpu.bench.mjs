// The bridge's CPU for --motion: two bridges with the same source run side by side, one with motion detection
// (--motion: the small gray copy, one ffmpeg decode + scale to 160×90 gray, compared 5 times a second), the other
// without. Each bridge's CPU is its Node process plus all its ffmpeg children (from /proc, same window); the ratio is
// motion on / motion off. Two sources: the CLI's 1280×720 30 fps test pattern (JPEG frames: only 5 of them a second
// reach the decoder) and a 1280×720 30 fps H.264 file passed through as a camera's H.264 would be (every frame is
// decoded). Lower is better.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const WINDOW_MS = 5000;
const SETTLE_MS = 4000;

export const name = `Bridge CPU with motion detection (--motion, 160×90 gray at 5 fps) vs without, ${WIDTH}×${HEIGHT} ${FPS} fps sources`;

const exec = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A 20 s 1280×720 30 fps H.264 clip without B-frames (what `--video-passthrough auto` sends as is). */
async function makeClip(dir) {
  const path = join(dir, 'motion-bench.mp4');
  await exec('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}:duration=20`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', String(FPS), '-pix_fmt', 'yuv420p', path],
  ]);
  return path;
}

/** utime + stime of a bridge and every child it runs now, in s. */
function bridgeCpu(bridge) {
  const pids = [bridge.child.pid, ...childProcesses(bridge.child.pid).map((p) => p.pid)];
  return pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
}

/** The motion samples the bridge on `port` compared so far (/metrics). */
async function samples(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('framewire_motion_samples_total{'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** CPU % of one core of both bridges over one window, and the motion samples per second. */
async function measure(withMotion, without) {
  const before = [bridgeCpu(withMotion), bridgeCpu(without), await samples(withMotion.port)];
  const start = performance.now();
  await sleep(WINDOW_MS);
  const seconds = (performance.now() - start) / 1000;
  const after = [bridgeCpu(withMotion), bridgeCpu(without), await samples(withMotion.port)];
  const rate = (k) => ((after[k] - before[k]) / seconds) * 100;
  return { on: rate(0), off: rate(1), samplesPerS: (after[2] - before[2]) / seconds };
}

async function stop(bridge) {
  const exited = new Promise((resolve) => bridge.child.once('exit', resolve));
  bridge.child.kill('SIGTERM');
  await exited;
}

/** Measures one source spec `repeats` times with motion on and off side by side. */
async function compare(label, args, repeats) {
  const withMotion = await startBridgeCli([...args, '--motion']);
  const without = await startBridgeCli(args);
  const on = [];
  const off = [];
  const rates = [];
  try {
    await sleep(SETTLE_MS);
    for (let i = 0; i < repeats; i++) {
      const m = await measure(withMotion, without);
      on.push(m.on);
      off.push(m.off);
      rates.push(m.samplesPerS);
    }
  } finally {
    await Promise.all([stop(withMotion), stop(without)]);
  }
  return {
    row: {
      unit: '% CPU',
      ours: on,
      baseline: off,
      oursLabel: `${label}, bridge + its ffmpegs, --motion`,
      baselineLabel: `${label}, bridge + its ffmpegs, no motion detection`,
    },
    note: `${label}: extra CPU for motion detection ${(median(on) - median(off)).toFixed(1)}% of one core (median difference); ${median(rates).toFixed(1)} gray frames compared per second.`,
  };
}

/** Runs both sources. */
export async function run({ repeats }) {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-bench-motion-'));
  try {
    const clip = await makeClip(dir);
    // The test pattern runs all the time in both bridges (it is otherwise on demand), so that only motion differs.
    const pattern = await compare(
      'test pattern (JPEG)',
      ['--port', '0', '--size', `${WIDTH}x${HEIGHT}`, '--fps', String(FPS), '--pattern-always-on'],
      repeats,
    );
    const file = await compare(
      'H.264 file passed through',
      ['--port', '0', '--source', `file:${clip}`, '--video-passthrough', 'always'],
      repeats,
    );
    return {
      rows: [pattern.row, file.row],
      notes: [
        'CPU in % of one core: lower is better.',
        pattern.note,
        file.note,
        `Per run: ${SETTLE_MS} ms to settle once, then a ${WINDOW_MS} ms window over both bridges at once.`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
