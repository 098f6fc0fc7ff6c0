// WebRTC CPU per viewer: two bridges (`framewire-bridge --webrtc`, each its own process, 1280×720 30 fps test
// pattern) side by side in one run: one passes the source's shared H.264 through to every viewer (werift in the
// bridge process, the default), the other encodes VP8 for each viewer in its wrtc worker process
// (`--webrtc-vp8-only`, today's path before passthrough). Viewers are werift peer connections in this process that
// only receive (no decoding) and count RTP packets and frames. The CPU counted is the bridge's own Node processes
// (the bridge and its WebRTC worker) from /proc over a fixed window; the cost per viewer is (CPU with N viewers −
// CPU with 0 viewers) / N. The shared ffmpeg encoders (test pattern, H.264 or I420) are reported in the notes.
// Lower is better.
import { LoopbackStunServer } from '@framewire/node-bridge';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const VIEWERS = [1, 10, 50];
const WINDOW_MS = 5000;
const SETTLE_MS = 3000;

export const name = `WebRTC CPU per viewer, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern on loopback: H.264 passthrough (werift, shared track) vs VP8 encoded per viewer (wrtc worker)`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a bridge CLI with `extra` arguments on a free port; resolves with its process and port. */
function startBridge(extra) {
  return startBridgeCli([
    ...['--mjpeg', '--port', '0', '--size', `${WIDTH}x${HEIGHT}`, '--fps', String(FPS)],
    ...['--webrtc', '--webrtc-ice-address', '127.0.0.1', '--webrtc-max-sessions', '60', ...extra],
  ]);
}

const loopbackOnly = (sdp) =>
  sdp
    .split('\r\n')
    .filter(
      (line) =>
        !line.startsWith('a=candidate:') || (line.split(/\s+/)[4] === '127.0.0.1' && line.includes(' typ host')),
    )
    .join('\r\n');

/**
 * A receive-only werift viewer of `port`'s /offer offering only `codec`, with a host candidate on 127.0.0.1 and
 * the STUN server `stunUrl` on loopback (werift's fallback would be a public one).
 */
async function viewer(port, codec, stunUrl) {
  const h264 = codec === 'h264';
  const pc = new RTCPeerConnection({
    iceServers: [{ urls: stunUrl }],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    headerExtensions: { video: [], audio: [] },
    codecs: {
      audio: [],
      video: [
        new RTCRtpCodecParameters({
          mimeType: h264 ? 'video/H264' : 'video/VP8',
          clockRate: 90_000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          ...(h264 ? { parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' } : {}),
        }),
      ],
    },
  });
  const counts = { bytes: 0, frames: 0 };
  const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
  transceiver.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      counts.bytes += rtp.payload.length;
      if (rtp.header.marker) counts.frames++;
    }),
  );
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete')
    await new Promise((resolve) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve()));
  const response = await fetch(`http://127.0.0.1:${port}/offer`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: loopbackOnly(pc.localDescription.sdp),
  });
  const body = await response.text();
  if (response.status !== 201) throw new Error(`offer refused: ${response.status} ${body}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: loopbackOnly(body) });
  const location = response.headers.get('location');
  return {
    counts,
    close: async () => {
      await fetch(`http://127.0.0.1:${port}${location}`, { method: 'DELETE' }).catch(() => undefined);
      await pc.close();
    },
  };
}

/** CPU % (of one core) of the bridge's Node processes and of its ffmpegs over WINDOW_MS with `n` viewers. */
async function measure(bridge, n, codec, stunUrl) {
  const viewers = [];
  try {
    for (let i = 0; i < n; i++) viewers.push(await viewer(bridge.port, codec, stunUrl));
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
    return {
      bridge: ((sum(nodes) - node0) / seconds) * 100,
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
  const vp8 = await startBridge(['--webrtc-vp8-only']);
  const sides = [
    { bridge: passthrough, codec: 'h264', key: 'passthrough' },
    { bridge: vp8, codec: 'vp8', key: 'vp8' },
  ];
  const results = {};
  for (const { key } of sides)
    results[key] = {
      idle: [],
      ...Object.fromEntries(VIEWERS.map((n) => [n, { cpu: [], ffmpeg: [], fps: [], mbps: [] }])),
    };
  try {
    // Let the VP8 worker start.
    await sleep(3000);
    for (let i = 0; i < repeats; i++) {
      for (const { bridge, codec, key } of sides) {
        const zero = await measure(bridge, 0, codec, stun.url);
        results[key].idle.push(zero.bridge);
        for (const n of VIEWERS) {
          const m = await measure(bridge, n, codec, stun.url);
          const r = results[key][n];
          r.cpu.push((m.bridge - zero.bridge) / n);
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
  return {
    rows: VIEWERS.map((n) => ({
      unit: '% CPU',
      ours: results.passthrough[n].cpu,
      baseline: results.vp8[n].cpu,
      oursLabel: `H.264 passthrough, bridge CPU per viewer, ${n} viewer${n > 1 ? 's' : ''}`,
      baselineLabel: `VP8 per viewer (bridge + wrtc worker), ${n} viewer${n > 1 ? 's' : ''}`,
    })),
    notes: [
      'CPU in % of one core, the bridge’s Node processes only (for VP8: the bridge and its wrtc worker): lower is better.',
      `Per-viewer CPU, two decimals (median): passthrough ${per('passthrough', 'cpu', 2)}; VP8 ${per('vp8', 'cpu', 2)}.`,
      `Bridge CPU with 0 viewers (subtracted), median: passthrough ${median(results.passthrough.idle).toFixed(1)}%, VP8 ${median(results.vp8.idle).toFixed(1)}%.`,
      `Frames received per viewer (median fps; the source makes ${FPS}): passthrough ${per('passthrough', 'fps')}; VP8 ${per('vp8', 'fps')}.`,
      `Video received by all viewers together (median Mbit/s): passthrough ${per('passthrough', 'mbps')}; VP8 ${per('vp8', 'mbps')}.`,
      `The shared ffmpeg processes (test pattern + JPEG, and the H.264 or I420 encoder; median % CPU, once whatever the viewers): passthrough ${per('passthrough', 'ffmpeg')}; VP8 ${per('vp8', 'ffmpeg')}.`,
      `Per run: the viewers connect one after another, ${SETTLE_MS} ms to settle, then a ${WINDOW_MS} ms window. Viewers are receive-only werift peer connections in the bench process (no decoding; their CPU is not counted), ICE on 127.0.0.1 only; the VP8 bridge runs with --webrtc-max-sessions 60.`,
    ],
  };
}
