// Glass-to-glass latency and frame rate of one bridge source (the 640×360 test pattern at 30 fps) seen in the
// browser through an MQTT broker (MqttOutput → mosquitto → MQTT over WebSocket → framewire's MqttSource) vs the
// same source's direct MJPEG-over-HTTP output (MjpegOutput, read by a minimal in-page multipart reader that decodes
// with ImageDecoder, as MqttSource does). Latency runs from the bridge receiving the JPEG from ffmpeg (its
// capture stamp) to the decoded frame in the page; both clocks are this machine's. The MQTT path runs twice: through
// mosquitto's own WebSocket listener, through the bridge's MqttWebSocketRelay to mosquitto's TCP listener, and
// through the broker inside the bridge (MqttBroker, `--mqtt-broker`) over WebSocket.
import { createServer } from 'node:http';
import {
  FrameFeed,
  MjpegOutput,
  MqttBroker,
  MqttOutput,
  MqttWebSocketRelay,
  createTestPatternSource,
} from '../packages/node-bridge/dist/index.js';
import { startMosquitto } from './lib/mosquitto.mjs';

const WIDTH = 640;
const HEIGHT = 360;
const FRAME_RATE = 30;
const SECONDS = 3;

export const name = `Bridge source to browser, ${WIDTH}×${HEIGHT} at ${FRAME_RATE} fps: MQTT via mosquitto (framewire MqttSource) vs direct MJPEG over HTTP`;

/** Runs in the page: frames and per-frame latencies over `seconds` through MqttSource. */
function measureMqtt(page, wsUrl) {
  return page.evaluate(
    async ({ url, seconds }) => {
      const { MqttSource, getCaptureTime } = window.Framewire;
      const source = await MqttSource.open({ url, streamId: 'bench', queue: { capacity: 1 } });
      const latencies = [];
      const end = performance.now() + seconds * 1000;
      try {
        while (performance.now() < end) {
          const frame = await source.read();
          if (!frame) break;
          latencies.push(Date.now() - getCaptureTime(frame));
          frame.close();
        }
      } finally {
        await source.close();
      }
      return { frames: latencies.length, latencies: latencies.slice(3) };
    },
    { url: wsUrl, seconds: SECONDS },
  );
}

/** Runs in the page: the same through the MJPEG stream, with a minimal multipart reader and ImageDecoder. */
function measureMjpeg(page, url) {
  return page.evaluate(
    async ({ url, seconds }) => {
      const controller = new AbortController();
      const response = await fetch(url, { signal: controller.signal, cache: 'no-store' });
      const reader = response.body.getReader();
      const latencies = [];
      let buffer = new Uint8Array(0);
      const text = new TextDecoder();
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        const { value, done } = await reader.read();
        if (done) break;
        const joined = new Uint8Array(buffer.length + value.length);
        joined.set(buffer);
        joined.set(value, buffer.length);
        buffer = joined;
        for (;;) {
          const head = text.decode(buffer.subarray(0, Math.min(buffer.length, 400)));
          const headerEnd = head.indexOf('\r\n\r\n');
          if (headerEnd < 0) break;
          const length = Number(/Content-Length: (\d+)/i.exec(head)?.[1]);
          const captured = Number(/X-Capture-Time-Ms: (\d+)/i.exec(head)?.[1]);
          if (buffer.length < headerEnd + 4 + length + 2) break;
          const jpeg = buffer.slice(headerEnd + 4, headerEnd + 4 + length);
          buffer = buffer.slice(headerEnd + 4 + length + 2);
          const decoder = new ImageDecoder({ data: jpeg, type: 'image/jpeg' });
          const { image } = await decoder.decode();
          const frame = new VideoFrame(image, { timestamp: 0 });
          image.close();
          decoder.close();
          latencies.push(Date.now() - captured);
          frame.close();
        }
      }
      controller.abort();
      return { frames: latencies.length, latencies: latencies.slice(3) };
    },
    { url, seconds: SECONDS },
  );
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Runs both paths `repeats` times, alternating, on one source; reports median latency and fps. */
export async function run({ page, repeats }) {
  await page.addScriptTag({ url: '/sdk/framewire.min.js' });
  const broker = await startMosquitto();
  const source = createTestPatternSource({ width: WIDTH, height: HEIGHT, frameRate: FRAME_RATE });
  // The bridge serves MJPEG from a shared feed of the source (one encoder whoever watches).
  const feed = new FrameFeed(source, 'jpeg');
  const mjpeg = new MjpegOutput(feed);
  const http = createServer((request, response) => mjpeg.handleStream(request, response));
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const mjpegUrl = `http://127.0.0.1:${http.address().port}/video`;
  const mqtt = new MqttOutput(source, { url: broker.url, streamId: 'bench', retain: false });
  const relay = new MqttWebSocketRelay({ brokerPort: Number(new URL(broker.url).port) });
  const relayUrl = `ws://127.0.0.1:${await relay.listen()}`;
  // The broker inside the bridge: its WebSocket on an HTTP server as the bridge mounts it at /mqtt.
  const embedded = await MqttBroker.start({ port: 0 });
  const embeddedOutput = new MqttOutput(source, { url: embedded.url, streamId: 'bench', retain: false });
  const embeddedHttp = createServer((_request, response) => response.writeHead(426).end());
  embeddedHttp.on('upgrade', (request, socket, head) => embedded.handleUpgrade(request, socket, head));
  await new Promise((resolve) => embeddedHttp.listen(0, '127.0.0.1', resolve));
  const embeddedUrl = `ws://127.0.0.1:${embeddedHttp.address().port}/mqtt`;
  await source.start();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const latency = { ours: [], baseline: [] };
  const fps = { ours: [], baseline: [] };
  const relayed = { latency: { ours: [], baseline: [] }, fps: { ours: [], baseline: [] } };
  const inBridge = { latency: { ours: [], baseline: [] }, fps: { ours: [], baseline: [] } };
  try {
    await measureMqtt(page, broker.wsUrl); // warm-up: loads mqtt.js
    for (let i = 0; i < repeats; i++) {
      const viaMqtt = await measureMqtt(page, broker.wsUrl);
      const direct = await measureMjpeg(page, mjpegUrl);
      const viaRelay = await measureMqtt(page, relayUrl);
      const viaEmbedded = await measureMqtt(page, embeddedUrl);
      latency.ours.push(median(viaMqtt.latencies));
      latency.baseline.push(median(direct.latencies));
      fps.ours.push(viaMqtt.frames / SECONDS);
      fps.baseline.push(direct.frames / SECONDS);
      relayed.latency.ours.push(median(viaRelay.latencies));
      relayed.latency.baseline.push(median(direct.latencies));
      relayed.fps.ours.push(viaRelay.frames / SECONDS);
      relayed.fps.baseline.push(direct.frames / SECONDS);
      inBridge.latency.ours.push(median(viaEmbedded.latencies));
      inBridge.latency.baseline.push(median(direct.latencies));
      inBridge.fps.ours.push(viaEmbedded.frames / SECONDS);
      inBridge.fps.baseline.push(direct.frames / SECONDS);
    }
  } finally {
    mjpeg.close();
    await feed.close();
    http.closeAllConnections();
    http.close();
    await mqtt.close();
    await relay.close();
    await embeddedOutput.close();
    embeddedHttp.closeAllConnections();
    embeddedHttp.close();
    await embedded.close();
    await source.close();
    broker.stop();
  }
  return {
    rows: [
      {
        unit: 'ms',
        ...latency,
        oursLabel: 'MQTT (mosquitto, WebSocket) latency',
        baselineLabel: 'direct MJPEG/HTTP latency',
      },
      { unit: 'fps', ...fps, oursLabel: 'MQTT (mosquitto, WebSocket) fps', baselineLabel: 'direct MJPEG/HTTP fps' },
      {
        unit: 'ms',
        ...relayed.latency,
        oursLabel: 'MQTT (mosquitto TCP via bridge relay) latency',
        baselineLabel: 'direct MJPEG/HTTP latency',
      },
      {
        unit: 'fps',
        ...relayed.fps,
        oursLabel: 'MQTT (mosquitto TCP via bridge relay) fps',
        baselineLabel: 'direct MJPEG/HTTP fps',
      },
      {
        unit: 'ms',
        ...inBridge.latency,
        oursLabel: 'MQTT (broker in the bridge, WebSocket) latency',
        baselineLabel: 'direct MJPEG/HTTP latency',
      },
      {
        unit: 'fps',
        ...inBridge.fps,
        oursLabel: 'MQTT (broker in the bridge, WebSocket) fps',
        baselineLabel: 'direct MJPEG/HTTP fps',
      },
    ],
    notes: [
      `- ${mqtt.stats.published} frames published to the broker, ${mqtt.stats.dropped} dropped by the output (latest-wins).`,
      '- Latency: bridge capture stamp (JPEG out of ffmpeg) to decoded VideoFrame in the page; lower is better. Fps: frames decoded per second; the source makes 30.',
    ],
  };
}
