/* global Framewire -- the SDK's script bundle, in the page */
// A/V offset at the receiver: the bridge's test pattern with `--audio tone` (1280×720, 30 fps) beeps for 100 ms each
// second and flashes white on the frames of the beep, all from one ffmpeg. A Chromium page plays the source's video
// and audio as a viewer would and measures, for each flash, the time from the flash frame's display to its beep's
// first loud sample (bench/lib/av-meter.mjs), over WebRTC (WhepSource: H.264 passthrough and Opus, lip-synced by
// the browser from the bridge's sender reports), over the WebSocket (BridgeSource: AudioDecoder, the audio held
// by the video's extra delay) and over MQTT (MqttOutput's H.264 and Opus through mosquitto and a WebSocket relay to
// MqttSource({ audio: true }), held the same way), once the receiver's sync has settled. The baseline, in the same
// run and page, is the offset in the first seconds of playing, before it has. The notes also give the offset the
// bridge stamped (the beep's capture time minus the flash frame's, the least any receiver can show). Lower is better
// (|median|).
import puppeteer from 'puppeteer-core';
import { BridgeServer, MqttOutput, MqttWebSocketRelay, createTestPatternSource } from '@framewire/node-bridge';
import { CHROMIUM_ARGS } from '../web-test-runner.config.mjs';
import { installAvMeter, median } from './lib/av-meter.mjs';
import { startMosquitto } from './lib/mosquitto.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
/** The browser's lip sync moves the video's delay step by step: let it settle before measuring. */
const SETTLE_MS = 20_000;
const WINDOW_MS = 10_000;
/** The baseline window: the first seconds of playing, before the receiver's sync has settled. */
const EARLY_MS = 4000;
/** The receivers measured, each in its own page: the bridge's WHEP endpoint, its WebSocket, and MQTT. */
const TRANSPORTS = ['webrtc', 'websocket', 'mqtt'];

export const name = `A/V offset at the receiver (flash → beep), ${WIDTH}×${HEIGHT} ${FPS} fps test pattern with --audio tone on loopback: WebRTC (WhepSource), WebSocket (BridgeSource) and MQTT (MqttSource), settled vs the first seconds of playing`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records, at the bridge, each second's flash frame and beep onset capture times; returns the offsets since `from`. */
function watchSource(source) {
  const flashes = new Map();
  const beeps = new Map();
  source.on('frame', ({ frame }) => {
    // The frame at each whole second is the first white one (the flash starts at media time k s).
    if (frame.timestampUs % 1_000_000 < 500_000 / FPS)
      flashes.set(Math.round(frame.timestampUs / 1e6), frame.captureTimeMs);
  });
  source.on('audio', ({ packet }) => {
    const second = Math.ceil(packet.timestampUs / 1e6);
    const startUs = second * 1e6;
    if (startUs >= packet.timestampUs && startUs < packet.timestampUs + packet.durationUs)
      beeps.set(second, packet.captureTimeMs + (startUs - packet.timestampUs) / 1000);
  });
  return (fromMs) => {
    const offsets = [];
    for (const [second, flashMs] of flashes) {
      const beepMs = beeps.get(second);
      if (beepMs !== undefined && flashMs >= fromMs) offsets.push(beepMs - flashMs);
    }
    return offsets;
  };
}

/**
 * Opens `transport` in a new page of `browser`, plays it, lets it settle and measures one window. `urls`: the
 * bridge's base URL and the MQTT relay's WebSocket URL; `settleMs` and `windowMs` default to the bench's.
 */
export async function measure(browser, origin, urls, transport, settleMs = SETTLE_MS, windowMs = WINDOW_MS) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.addScriptTag({ url: '/sdk/framewire.min.js' });
    await installAvMeter(page);
    await page.evaluate(
      async ({ bridge, mqtt }, kind) => {
        const loopback = (c) => ['127.0.0.1', '::1'].includes(c.replace(/^a=/, '').split(/\s+/)[4]);
        const source =
          kind === 'webrtc'
            ? await Framewire.openSource({
                bridge: { url: bridge, transport: 'webrtc', audio: true, candidateFilter: loopback },
              })
            : kind === 'mqtt'
              ? await Framewire.MqttSource.open({ url: mqtt, streamId: 'testpattern', audio: true })
              : await Framewire.BridgeSource.open({ url: bridge, audio: true });
        await window.playForAv(source);
      },
      urls,
      transport,
    );
    const early = await page.evaluate((ms) => window.avMeter(window.av.video, window.av.audio, ms), EARLY_MS);
    await sleep(settleMs - EARLY_MS);
    const from = Date.now();
    const result = await page.evaluate((ms) => window.avMeter(window.av.video, window.av.audio, ms), windowMs);
    await page.evaluate(() => window.av.source.close());
    return { ...result, early, from };
  } finally {
    await page.close();
  }
}

/**
 * The MQTT path of `source`: its H.264 (the bridge's shared feed, the encoder the other viewers use) and its Opus
 * published by an `MqttOutput` to a mosquitto of its own, and a WebSocket relay to it for the page (mosquitto's own
 * WebSocket listener is too slow for video: see bench/RESULTS.md). Resolves with the relay's URL and `close()`.
 */
export async function startMqttPath(bridge, source) {
  const broker = await startMosquitto();
  const h264 = bridge.feed(source.id, 'h264');
  const output = new MqttOutput(
    { on: (_event, listener) => h264.subscribe((frame) => listener({ frame })) },
    { url: broker.url, streamId: source.id, codecs: ['h264'], audio: true, retain: false },
    source,
  );
  const relay = new MqttWebSocketRelay({ brokerPort: Number(new URL(broker.url).port) });
  return {
    url: `ws://127.0.0.1:${await relay.listen()}`,
    close: async () => {
      await output.close();
      await relay.close();
      broker.stop();
    },
  };
}

export async function run({ page, repeats }) {
  const origin = new URL(page.url()).origin;
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
  const source = createTestPatternSource({ width: WIDTH, height: HEIGHT, frameRate: FPS, audio: 'tone' });
  const offsetsSince = watchSource(source);
  const bridge = await BridgeServer.start({
    port: 0,
    sources: [source],
    mjpeg: false,
    websocket: true,
    webrtc: { iceAddresses: ['127.0.0.1'] },
  });
  const mqtt = await startMqttPath(bridge, source);
  const urls = { bridge: `http://127.0.0.1:${bridge.port}/`, mqtt: mqtt.url };
  const series = { webrtc: [], websocket: [], mqtt: [] };
  const rows = {
    webrtc: { ours: [], baseline: [] },
    websocket: { ours: [], baseline: [] },
    mqtt: { ours: [], baseline: [] },
  };
  try {
    for (let i = 0; i < repeats; i++) {
      for (const transport of TRANSPORTS) {
        const result = await measure(browser, origin, urls, transport);
        const received = median(result.offsetsMs);
        const early = median(result.early.offsetsMs);
        const stamped = median(offsetsSince(result.from));
        rows[transport].ours.push(Math.abs(received));
        rows[transport].baseline.push(Math.abs(early));
        series[transport].push(
          `${received} ms (flashes ${result.flashes}, paired ${result.offsetsMs.length}: ${result.offsetsMs.join(' ')}; first ${EARLY_MS / 1000} s: ${result.early.offsetsMs.join(' ')}; stamped at the bridge ${stamped.toFixed(1)} ms)`,
        );
      }
    }
  } finally {
    await mqtt.close();
    await bridge.close();
    await browser.close();
  }
  const label = {
    webrtc: 'WebRTC, WhepSource (Opus + H.264 passthrough)',
    websocket: 'WebSocket, BridgeSource (AudioDecoder)',
    mqtt: 'MQTT, MqttSource (H.264 + Opus via mosquitto, AudioDecoder)',
  };
  return {
    rows: TRANSPORTS.map((transport) => ({
      oursLabel: `${label[transport]}, |median beep − flash| at the receiver (goal ≤ 40)`,
      ours: rows[transport].ours,
      baselineLabel: `the same in the first ${EARLY_MS / 1000} s of playing (before the receiver's sync settles)`,
      baseline: rows[transport].baseline,
      unit: 'ms',
    })),
    notes: [
      `Measured ${new Date().toISOString().slice(0, 10)} (see Machine). Positive: the beep comes after the flash.`,
      `Per run, ${SETTLE_MS} ms after the page starts playing (the browser's lip sync converging), one ${WINDOW_MS} ms window.`,
      ...TRANSPORTS.map((t) => `${label[t]}, signed median per run: ${series[t].join(' · ')}`),
    ],
  };
}
