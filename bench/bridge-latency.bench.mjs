// Glass-to-glass latency from the Node bridge to a page, for the same 1280×720 30 fps test pattern in the same
// run: H.264 over WebSocket decoded by framewire's BridgeSource (VideoDecoder), the same H.264 passed through to a
// WebRTC media track and the same H.264 on a WebRTC data channel (WhepSource, the bridge's /offer, loopback ICE
// only; delivery 'track' and 'datachannel'), and VP8 over WebRTC from a second bridge that sends every viewer VP8
// (its one shared VP8 encode) vs the bridge's MJPEG over HTTP read by a plain multipart reader in the page (fetch,
// JPEG decoded with createImageBitmap); WebRTC passthrough is also compared with the WebSocket. All measure capture
// (X-Capture-Time-Ms / the frame header's captureTimeMs / the fw.meta capture time, stamped by the bridge) → a
// decoded picture in the page; lower is better.
import { BridgeServer, createTestPatternSource } from '@framewire/node-bridge';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const WARMUP_FRAMES = 30;
const FRAMES = 150;

export const name = `Bridge glass-to-glass latency, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern on loopback: WebSocket H.264 (BridgeSource), WebRTC H.264 passthrough, shared VP8 and data-channel H.264 (WhepSource) vs MJPEG over HTTP, and WebRTC passthrough vs WebSocket`;

const percentile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

function websocketLatencies(page, url) {
  return page.evaluate(
    async ({ url, warmup, frames }) => {
      const { BridgeSource, getCaptureTime } = await import('/sdk/index.js');
      const source = await BridgeSource.open({ url });
      const latencies = [];
      try {
        for (let i = 0; i < warmup + frames; i++) {
          const frame = await source.read();
          if (!frame) throw new Error('the bridge source ended');
          const latency = Date.now() - getCaptureTime(frame);
          frame.close();
          if (i >= warmup) latencies.push(latency);
        }
      } finally {
        await source.close();
      }
      return latencies;
    },
    { url, warmup: WARMUP_FRAMES, frames: FRAMES },
  );
}

function webrtcLatencies(page, url, delivery = 'track') {
  return page.evaluate(
    async ({ url, warmup, frames, delivery }) => {
      const { WhepSource, getCaptureTime } = await import('/sdk/index.js');
      // Loopback only: every ICE candidate in the offer and the answer must be 127.0.0.1 or ::1.
      const candidateFilter = (line) => {
        const address = line.replace(/^a=/, '').split(/\s+/)[4];
        return address === '127.0.0.1' || address === '::1';
      };
      const source = await WhepSource.open({ url, candidateFilter, delivery });
      const latencies = [];
      try {
        // Frames before the first fw.meta message carry no capture time yet: they count as warm-up.
        for (let count = 0; count < warmup + frames;) {
          const frame = await source.read();
          if (!frame) throw new Error('the WebRTC source ended');
          const captured = getCaptureTime(frame);
          const latency = Date.now() - captured;
          frame.close();
          if (captured === undefined) continue;
          if (count++ >= warmup) latencies.push(latency);
        }
      } finally {
        await source.close();
      }
      return latencies;
    },
    { url, warmup: WARMUP_FRAMES, frames: FRAMES, delivery },
  );
}

function mjpegLatencies(page, url) {
  return page.evaluate(
    async ({ url, warmup, frames }) => {
      const controller = new AbortController();
      const response = await fetch(url, { signal: controller.signal });
      const reader = response.body.getReader();
      const latencies = [];
      let buffer = new Uint8Array(0);
      const text = new TextDecoder();
      const headerEnd = (bytes) => {
        for (let i = 0; i + 3 < bytes.length; i++)
          if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
        return -1;
      };
      /** The header end and body length of the first part, when all of it is in `bytes`. */
      const part = (bytes) => {
        const end = headerEnd(bytes);
        if (end < 0) return undefined;
        const headers = text.decode(bytes.subarray(0, end));
        const length = Number(/content-length:\s*(\d+)/i.exec(headers)?.[1] ?? NaN);
        return bytes.length >= end + 4 + length ? { end, length, headers } : undefined;
      };
      try {
        for (let count = 0; count < warmup + frames;) {
          const first = part(buffer);
          if (!first) {
            const { value, done } = await reader.read();
            if (done) throw new Error('the MJPEG stream ended');
            const joined = new Uint8Array(buffer.length + value.length);
            joined.set(buffer);
            joined.set(value, buffer.length);
            buffer = joined;
            continue;
          }
          const { end, length, headers } = first;
          const captured = Number(/x-capture-time-ms:\s*([\d.]+)/i.exec(headers)?.[1]);
          const jpeg = buffer.slice(end + 4, end + 4 + length);
          buffer = buffer.slice(end + 4 + length);
          // Like BridgeSource, skip to the newest picture when more than one is waiting.
          if (part(buffer)) continue;
          const bitmap = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
          const latency = Date.now() - captured;
          bitmap.close();
          if (count++ >= warmup) latencies.push(latency);
        }
      } finally {
        controller.abort();
      }
      return latencies;
    },
    { url, warmup: WARMUP_FRAMES, frames: FRAMES },
  );
}

/** Alternates the paths `repeats` times; reports the p50 and p95 of each run. */
export async function run({ page, repeats }) {
  const source = createTestPatternSource({ width: WIDTH, height: HEIGHT, frameRate: FPS });
  const bridge = await BridgeServer.start({
    port: 0,
    sources: [source],
    // Chromium's offers take H.264: media-track viewers get the shared H.264 feed passed through.
    webrtc: { iceAddresses: ['127.0.0.1'] },
  });
  // Every viewer of this one gets VP8, from its one shared VP8 encoder.
  const vp8Bridge = await BridgeServer.start({
    port: 0,
    sources: [createTestPatternSource({ width: WIDTH, height: HEIGHT, frameRate: FPS })],
    mjpeg: false,
    websocket: false,
    webrtc: { iceAddresses: ['127.0.0.1'], h264Passthrough: false },
  });
  const base = `http://127.0.0.1:${bridge.port}`;
  const ws = { p50: [], p95: [] };
  const passthrough = { p50: [], p95: [] };
  const webrtc = { p50: [], p95: [] };
  const datachannel = { p50: [], p95: [] };
  const mjpeg = { p50: [], p95: [] };
  const push = (into, latencies) => {
    into.p50.push(percentile(latencies, 0.5));
    into.p95.push(percentile(latencies, 0.95));
  };
  try {
    for (const deadline = Date.now() + 15_000; !bridge.webrtc?.ready;) {
      if (Date.now() > deadline) throw new Error('the bridge’s WebRTC worker did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let i = 0; i < repeats; i++) {
      push(ws, await websocketLatencies(page, base));
      push(passthrough, await webrtcLatencies(page, `${base}/offer`));
      push(webrtc, await webrtcLatencies(page, `http://127.0.0.1:${vp8Bridge.port}/offer`));
      push(datachannel, await webrtcLatencies(page, `${base}/offer`, 'datachannel'));
      push(mjpeg, await mjpegLatencies(page, `${base}/video`));
    }
  } finally {
    await bridge.close();
    await vp8Bridge.close();
  }
  const row = (q, ours, oursLabel) => ({
    unit: `ms ${q}`,
    ours: ours[q],
    baseline: mjpeg[q],
    oursLabel: `${oursLabel} (${q})`,
    baselineLabel: `MJPEG over HTTP, fetch + createImageBitmap (${q})`,
  });
  const wsLabel = 'WebSocket H.264, BridgeSource';
  const passthroughLabel = 'WebRTC H.264 passthrough, WhepSource';
  const webrtcLabel = 'WebRTC shared VP8, WhepSource';
  const versusWs = (q) => ({
    unit: `ms ${q}`,
    ours: passthrough[q],
    baseline: ws[q],
    oursLabel: `${passthroughLabel} (${q})`,
    baselineLabel: `${wsLabel} (${q})`,
  });
  const datachannelLabel = 'WebRTC data channel H.264, WhepSource delivery: datachannel';
  return {
    rows: [
      row('p50', ws, wsLabel),
      row('p95', ws, wsLabel),
      row('p50', passthrough, passthroughLabel),
      row('p95', passthrough, passthroughLabel),
      versusWs('p50'),
      versusWs('p95'),
      row('p50', webrtc, webrtcLabel),
      row('p95', webrtc, webrtcLabel),
      row('p50', datachannel, datachannelLabel),
      row('p95', datachannel, datachannelLabel),
    ],
    notes: [
      'Latency in ms: lower is better (a ratio below 1 means the WebSocket or WebRTC path is faster than MJPEG).',
      'The first bridge’s test pattern is JPEG (MJPEG path as is) and encoded once to H.264, the one shared feed of the WebSocket, the WebRTC passthrough track and the data channel; the second bridge encodes its own test pattern once to VP8 (ffmpeg libvpx, realtime) for its WebRTC viewers. Capture time is stamped when ffmpeg hands the bridge a frame.',
      'WebRTC passthrough vs WebSocket: the same H.264 access units, as RTP to the browser’s WebRTC receiver (jitter buffer target 0 ms) or in WebSocket messages decoded by VideoDecoder; a ratio above 1 means WebRTC is slower.',
      'WebRTC runs on loopback only: the bridge keeps 127.0.0.1 candidates (`webrtc.iceAddresses`) and the page filters its offer and the answer the same way.',
      `Per run: ${WARMUP_FRAMES} warm-up frames, then ${FRAMES} measured frames per path.`,
    ],
  };
}
