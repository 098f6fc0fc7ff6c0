// MJPEG CPU per viewer: the bridge (`framewire-bridge --mjpeg`, its own process, 1280×720 30 fps test pattern)
// serving 1, 10 and 50 viewers of /video, each read to the end by a plain HTTP client in this process. The bridge's
// CPU time comes from /proc/<pid>/stat over a fixed window; the cost per viewer is (CPU with N viewers − CPU with
// 0 viewers, same source running) / N. The baseline is what making the stream costs once: the CPU of the source's
// own ffmpeg (test pattern + JPEG encode) in the same window. Lower is better.
import { get } from 'node:http';
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const VIEWERS = [1, 10, 50];
const WINDOW_MS = 5000;
const SETTLE_MS = 1500;

export const name = `MJPEG CPU per viewer, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern on loopback: bridge process CPU per viewer vs the source's own ffmpeg`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the bridge CLI on a free port; resolves with its process and port. */
function startBridge() {
  // --pattern-always-on: the 0-viewer window runs the source too (the pattern is otherwise on demand).
  return startBridgeCli([
    '--mjpeg',
    '--port',
    '0',
    '--size',
    `${WIDTH}x${HEIGHT}`,
    '--fps',
    `${FPS}`,
    '--pattern-always-on',
  ]);
}

/** An MJPEG viewer reading /video to the end, counting bytes and parts (one X-Capture-Time-Ms header each). */
function viewer(port) {
  const counts = { bytes: 0, frames: 0 };
  let tail = '';
  const request = get({ host: '127.0.0.1', port, path: '/video', agent: false }, (response) => {
    response.on('data', (chunk) => {
      counts.bytes += chunk.length;
      const text = tail + chunk.toString('latin1');
      counts.frames += text.match(/x-capture-time-ms:/gi)?.length ?? 0;
      tail = text.slice(-32);
    });
    response.on('error', () => undefined);
  });
  request.on('error', () => undefined);
  return { counts, close: () => request.destroy() };
}

/** CPU % (of one core) of the bridge and of its ffmpeg over WINDOW_MS with `n` viewers, and their delivered fps. */
async function measure(bridge, n) {
  const viewers = Array.from({ length: n }, () => viewer(bridge.port));
  try {
    await sleep(SETTLE_MS);
    const [ffmpeg] = childProcesses(bridge.child.pid).map((child) => child.pid);
    if (!ffmpeg) throw new Error('the bridge runs no ffmpeg');
    const frames0 = viewers.reduce((sum, v) => sum + v.counts.frames, 0);
    const bytes0 = viewers.reduce((sum, v) => sum + v.counts.bytes, 0);
    const bridge0 = cpuSeconds(bridge.child.pid);
    const ffmpeg0 = cpuSeconds(ffmpeg);
    const start = performance.now();
    await sleep(WINDOW_MS);
    const seconds = (performance.now() - start) / 1000;
    const frames = viewers.reduce((sum, v) => sum + v.counts.frames, 0) - frames0;
    const bytes = viewers.reduce((sum, v) => sum + v.counts.bytes, 0) - bytes0;
    return {
      bridge: ((cpuSeconds(bridge.child.pid) - bridge0) / seconds) * 100,
      ffmpeg: ((cpuSeconds(ffmpeg) - ffmpeg0) / seconds) * 100,
      fpsPerViewer: n === 0 ? 0 : frames / n / seconds,
      megabytesPerS: bytes / seconds / 1e6,
    };
  } finally {
    for (const v of viewers) v.close();
  }
}

/** Measures 0, 1, 10 and 50 viewers `repeats` times on one bridge. */
export async function run({ repeats }) {
  const bridge = await startBridge();
  const perViewer = new Map(VIEWERS.map((n) => [n, []]));
  const ffmpegCpu = new Map(VIEWERS.map((n) => [n, []]));
  const fps = new Map(VIEWERS.map((n) => [n, []]));
  const throughput = new Map(VIEWERS.map((n) => [n, []]));
  const idle = [];
  try {
    for (let i = 0; i < repeats; i++) {
      const zero = await measure(bridge, 0);
      idle.push(zero.bridge);
      for (const n of VIEWERS) {
        const m = await measure(bridge, n);
        perViewer.get(n).push((m.bridge - zero.bridge) / n);
        ffmpegCpu.get(n).push(m.ffmpeg);
        fps.get(n).push(m.fpsPerViewer);
        throughput.get(n).push(m.megabytesPerS);
      }
    }
  } finally {
    const exited = new Promise((resolve) => bridge.child.once('exit', resolve));
    bridge.child.kill('SIGTERM');
    await exited;
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    rows: VIEWERS.map((n) => ({
      unit: '% CPU',
      ours: perViewer.get(n),
      baseline: ffmpegCpu.get(n),
      oursLabel: `bridge CPU per viewer, ${n} viewer${n > 1 ? 's' : ''}`,
      baselineLabel: `the source's ffmpeg (test pattern + JPEG encode), ${n} viewer${n > 1 ? 's' : ''}`,
    })),
    notes: [
      'CPU in % of one core: lower is better (a ratio of 0.05 means a viewer costs the bridge 5% of what encoding the stream once costs ffmpeg).',
      `Bridge CPU with the source running and 0 viewers (subtracted): median ${median(idle).toFixed(1)}% (runs: ${idle.map((v) => v.toFixed(1)).join(', ')}).`,
      `Bridge CPU per viewer, two decimals (median % of a core): ${VIEWERS.map((n) => `${n} → ${median(perViewer.get(n)).toFixed(2)}`).join(', ')}.`,
      `Frames delivered per viewer (median fps): ${VIEWERS.map((n) => `${n} → ${median(fps.get(n)).toFixed(1)}`).join(', ')} (the source makes ${FPS}); bytes sent to all viewers together (median MB/s): ${VIEWERS.map((n) => `${n} → ${median(throughput.get(n)).toFixed(1)}`).join(', ')}.`,
      `Per run: ${SETTLE_MS} ms to connect, then a ${WINDOW_MS} ms window; the viewers are plain Node HTTP clients in the bench process (their CPU is not counted).`,
    ],
  };
}
