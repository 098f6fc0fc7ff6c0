// WebRTC CPU per viewer: three bridges (`framewire-bridge --webrtc`, each its own process, 1280×720 30 fps test
// pattern) side by side in one run: one passes the source's shared H.264 through to every viewer (werift in the
// bridge process, the default), one sends every viewer the source's one shared VP8 encode (`--webrtc-vp8-only`:
// ffmpeg libvpx, packetized once, werift), and one encodes VP8 for each viewer in its wrtc worker process
// (`--webrtc-vp8-only --webrtc-vp8-encoder per-viewer`, the older path). Viewers are werift peer connections in
// this process that only receive (no decoding) and count RTP packets and frames. The CPU counted is the bridge's
// own Node processes (the bridge and its WebRTC worker) from /proc over a fixed window, and for the VP8 comparison
// also its ffmpeg encoders (the shared VP8 encode, or the I420 conversion the per-viewer encoders read), since
// those start with the first viewer; the cost per viewer is (CPU with N viewers − CPU with 0 viewers) / N.
// Lower is better.
import { LoopbackStunServer } from '@framewire/node-bridge';
import { openWeriftViewer } from '../test/helpers/werift-viewer.mjs';
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const VIEWERS = [1, 10, 50];
const WINDOW_MS = 5000;
const SETTLE_MS = 3000;

export const name = `WebRTC CPU per viewer, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern on loopback: H.264 passthrough (werift, shared track) and shared VP8 (one libvpx encode) vs VP8 encoded per viewer (wrtc worker)`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a bridge CLI with `extra` arguments on a free port; resolves with its process and port. */
function startBridge(extra) {
  return startBridgeCli([
    // --pattern-always-on: the 0-viewer window runs the source too (the pattern is otherwise on demand).
    ...['--mjpeg', '--port', '0', '--size', `${WIDTH}x${HEIGHT}`, '--fps', String(FPS), '--pattern-always-on'],
    ...['--webrtc', '--webrtc-ice-address', '127.0.0.1', '--webrtc-max-sessions', '60', ...extra],
  ]);
}

/** CPU % (of one core) of the bridge's Node processes and of its ffmpegs over WINDOW_MS with `n` viewers. */
async function measure(bridge, n, codec, stunUrl) {
  const viewers = [];
  try {
    for (let i = 0; i < n; i++)
      viewers.push(await openWeriftViewer(`http://127.0.0.1:${bridge.port}/offer`, codec, stunUrl));
    await sleep(SETTLE_MS);
    const procs = childProcesses(bridge.child.pid);
    const nodes = [bridge.child.pid, ...procs.filter((p) => p.comm !== 'ffmpeg').map((p) => p.pid)];
    const ffmpegs = procs.filter((p) => p.comm === 'ffmpeg').map((p) => p.pid);
    const sum = (pids) => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
    const frames0 = viewers.reduce((total, v) => total + v.counts.frames, 0);
    const bytes0 = viewers.reduce((total, v) => total + v.counts.bytes, 0);
    const [node0, ffmpeg0] = [sum(nodes), sum(ffmpegs)];
    const start = performance.now();
    await sleep(WINDOW_MS);
    const seconds = (performance.now() - start) / 1000;
    // The encoders that ran during the window (an idle one stopped; one started by the first viewer is counted).
    const ffmpegsAfter = childProcesses(bridge.child.pid)
      .filter((p) => p.comm === 'ffmpeg')
      .map((p) => p.pid)
      .filter((pid) => !ffmpegs.includes(pid));
    return {
      bridge: ((sum(nodes) - node0) / seconds) * 100,
      newFfmpeg: (sum(ffmpegsAfter) / seconds) * 100,
      ffmpeg: ((sum(ffmpegs) - ffmpeg0) / seconds) * 100,
      fpsPerViewer: n === 0 ? 0 : (viewers.reduce((t, v) => t + v.counts.frames, 0) - frames0) / n / seconds,
      megabitsPerS: ((viewers.reduce((t, v) => t + v.counts.bytes, 0) - bytes0) * 8) / seconds / 1e6,
    };
  } finally {
    for (const v of viewers) await v.close();
  }
}

/** Alternates the two bridges at 0, 1, 10 and 50 viewers, `repeats` times. */
export async function run({ repeats }) {
  const stun = await LoopbackStunServer.start();
  const passthrough = await startBridge([]);
  const shared = await startBridge(['--webrtc-vp8-only']);
  const vp8 = await startBridge(['--webrtc-vp8-only', '--webrtc-vp8-encoder', 'per-viewer']);
  const sides = [
    { bridge: passthrough, codec: 'h264', key: 'passthrough' },
    { bridge: shared, codec: 'vp8', key: 'shared' },
    { bridge: vp8, codec: 'vp8', key: 'vp8' },
  ];
  const results = {};
  for (const { key } of sides)
    results[key] = {
      idle: [],
      idleTotal: [],
      ...Object.fromEntries(VIEWERS.map((n) => [n, { cpu: [], total: [], ffmpeg: [], fps: [], mbps: [] }])),
    };
  try {
    // Let the VP8 worker start.
    await sleep(3000);
    for (let i = 0; i < repeats; i++) {
      for (const { bridge, codec, key } of sides) {
        const zero = await measure(bridge, 0, codec, stun.url);
        results[key].idle.push(zero.bridge);
        results[key].idleTotal.push(zero.bridge + zero.ffmpeg);
        for (const n of VIEWERS) {
          const m = await measure(bridge, n, codec, stun.url);
          const r = results[key][n];
          r.cpu.push((m.bridge - zero.bridge) / n);
          // The shared encoders the viewers started: everything ffmpeg did beyond the idle bridge's ffmpegs.
          r.total.push((m.bridge + m.ffmpeg + m.newFfmpeg - zero.bridge - zero.ffmpeg) / n);
          r.ffmpeg.push(m.ffmpeg);
          r.fps.push(m.fpsPerViewer);
          r.mbps.push(m.megabitsPerS);
        }
      }
    }
  } finally {
    for (const { bridge } of sides) {
      const exited = new Promise((resolve) => bridge.child.once('exit', resolve));
      bridge.child.kill('SIGTERM');
      await exited;
    }
    stun.close();
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const per = (key, field, digits = 1) =>
    VIEWERS.map((n) => `${n} → ${median(results[key][n][field]).toFixed(digits)}`).join(', ');
  const plural = (n) => `${n} viewer${n > 1 ? 's' : ''}`;
  return {
    rows: [
      ...VIEWERS.map((n) => ({
        unit: '% CPU',
        ours: results.passthrough[n].cpu,
        baseline: results.vp8[n].cpu,
        oursLabel: `H.264 passthrough, bridge CPU per viewer, ${plural(n)}`,
        baselineLabel: `VP8 per viewer (bridge + wrtc worker), ${plural(n)}`,
      })),
      ...VIEWERS.map((n) => ({
        unit: '% CPU',
        ours: results.shared[n].total,
        baseline: results.vp8[n].total,
        oursLabel: `shared VP8 (bridge + its one libvpx ffmpeg), CPU per viewer, ${plural(n)}`,
        baselineLabel: `VP8 per viewer (bridge + wrtc worker + I420 ffmpeg), ${plural(n)}`,
      })),
    ],
    notes: [
      'CPU in % of one core: lower is better. Passthrough rows: the bridge’s Node processes only (for per-viewer VP8: the bridge and its wrtc worker). Shared-VP8 rows: the Node processes plus the ffmpeg encoders the viewers started (libvpx for shared VP8; the I420 conversion for per-viewer VP8).',
      `Per-viewer CPU, two decimals (median): passthrough ${per('passthrough', 'cpu', 2)}; shared VP8 incl. its encoder ${per('shared', 'total', 2)}; per-viewer VP8 ${per('vp8', 'cpu', 2)}, incl. its I420 ffmpeg ${per('vp8', 'total', 2)}.`,
      `Bridge CPU with 0 viewers (subtracted), median: passthrough ${median(results.passthrough.idle).toFixed(1)}%, shared VP8 ${median(results.shared.idle).toFixed(1)}%, per-viewer VP8 ${median(results.vp8.idle).toFixed(1)}%.`,
      `Frames received per viewer (median fps; the source makes ${FPS}): passthrough ${per('passthrough', 'fps')}; shared VP8 ${per('shared', 'fps')}; per-viewer VP8 ${per('vp8', 'fps')}.`,
      `Video received by all viewers together (median Mbit/s): passthrough ${per('passthrough', 'mbps')}; shared VP8 ${per('shared', 'mbps')}; per-viewer VP8 ${per('vp8', 'mbps')}.`,
      `All the bridge’s ffmpeg processes (test pattern + JPEG, and the H.264, VP8 or I420 encoder; median % CPU, once whatever the viewers): passthrough ${per('passthrough', 'ffmpeg')}; shared VP8 ${per('shared', 'ffmpeg')}; per-viewer VP8 ${per('vp8', 'ffmpeg')}.`,
      `Per run: the viewers connect one after another, ${SETTLE_MS} ms to settle, then a ${WINDOW_MS} ms window. Viewers are receive-only werift peer connections in the bench process (no decoding; their CPU is not counted), ICE on 127.0.0.1 only; the VP8 bridge runs with --webrtc-max-sessions 60.`,
    ],
  };
}
