// MQTT audio end to end: a bridge started with `--audio tone --mqtt-h264 --mqtt-audio` publishes its Opus packets
// beside its H.264 access units on a real mosquitto; a Chromium page's MqttSource({ audio: true }) hears the tone
// through its audioTrack while the video keeps coming, drops a malformed audio message with a typed error, and plays
// the beeps in sync with the flashes of the test pattern (the audio held by the video's extra delay).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type * as Sdk from '@framewire/browser-sdk';
import { decodeMqttAudio, decodeMqttFrame, encodeMqttAudio } from '@framewire/core';
import { connectAsync } from 'mqtt';
import { launchChromium } from '../helpers/chromium.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { runCli, startCli, waitUntil, type StartedServer } from '../helpers/node.js';
import { BridgeServer, MqttOutput, MqttSource, type BridgeHealth } from '@framewire/node-bridge';
import { WsViewer } from '../helpers/bridge.js';
import { TypedEmitter } from '@framewire/core';
import { openPeerPage, startSdkServer } from '../helpers/peers.js';
import { trackPeak } from '../helpers/track-peak.js';
import { installAvMeter, measureUntilSynced, type playForAv } from '../helpers/av-sync.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** What the page keeps of its MqttSource. */
interface PageState {
  Framewire: typeof Sdk;
  mqtt: Sdk.MqttSource;
  errors: string[];
  frames: number;
  playForAv: typeof playForAv;
  av: { source: Sdk.MqttSource };
}

describe('MQTT audio (bridge → mosquitto → browser MqttSource)', () => {
  let broker: Mosquitto;
  let sdk: StartedServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  before(async () => {
    [broker, sdk, browser] = await Promise.all([
      startMosquitto(),
      startSdkServer(),
      launchChromium(['--autoplay-policy=no-user-gesture-required']),
    ]);
    page = await openPeerPage(browser, sdk.url, pageErrors);
    await page.addScriptTag({ url: '/sdk/framewire.min.js' });
  });
  after(async () => {
    await browser.close();
    await Promise.all([sdk.close(), broker.close()]);
  });

  it('--mqtt-audio publishes Opus on <prefix>/<id>/audio on the capture clock of the H.264; MqttSource({ audio: true }) hears the tone while frames keep flowing, and drops a malformed audio message', async () => {
    const bridge = await startCli(
      BRIDGE,
      [
        '--port',
        '0',
        '--size',
        '160x120',
        '--fps',
        '10',
        '--audio',
        'tone',
        '--mqtt-url',
        broker.url,
        '--mqtt-h264',
        '--mqtt-audio',
        // Mosquitto's own WebSocket listener is slow (MACHINE-NOTES): the page goes through the bridge's relay.
        '--mqtt-relay',
      ],
      LISTENING,
    );
    const watcher = await connectAsync(broker.url);
    try {
      // On the wire (TCP): audio messages parse as Opus on the video's capture clock; the frame topic carries video.
      const audio: { captureTimeMs: number; bytes: number }[] = [];
      const video: { captureTimeMs: number; codec: string }[] = [];
      watcher.on('message', (topic, payload) => {
        if (topic === 'framewire/testpattern/audio') {
          const message = decodeMqttAudio(payload, 1 << 20);
          audio.push({ captureTimeMs: message.captureTimeMs, bytes: message.data.length });
        } else {
          const message = decodeMqttFrame(payload, 16 << 20);
          video.push({ captureTimeMs: message.captureTimeMs ?? 0, codec: message.codec });
        }
      });
      await watcher.subscribeAsync(['framewire/testpattern/audio', 'framewire/testpattern/frame']);
      await waitUntil(
        () => audio.length >= 50 && video.some((v) => v.codec === 'h264'),
        'Opus and H.264 on the broker',
        60_000,
      );
      const h264 = video.filter((v) => v.codec === 'h264');
      const [firstAudio, lastAudio] = [audio[0]!, audio.at(-1)!];
      const lastVideo = h264.at(-1)!;
      // The same clock: audio and video capture times of the same moments are close (seconds, not epochs apart).
      assert.ok(
        Math.abs(lastAudio.captureTimeMs - lastVideo.captureTimeMs) < 10_000,
        JSON.stringify({ lastAudio, lastVideo }),
      );
      assert.ok(lastAudio.captureTimeMs > firstAudio.captureTimeMs, 'capture times advance');
      assert.ok(audio.every((a) => a.bytes > 0));

      const relayUrl = `ws://127.0.0.1:${bridge.match[1] ?? ''}/mqtt`;
      await page.evaluate(async (url) => {
        const g = globalThis as unknown as PageState;
        g.errors = [];
        g.frames = 0;
        g.mqtt = await g.Framewire.MqttSource.open({ url, streamId: 'testpattern', audio: true });
        g.mqtt.on('error', ({ error }) => g.errors.push(`${error.code} ${String(error.fatal)}`));
        void (async () => {
          for await (const frame of g.mqtt) {
            g.frames++;
            frame.close();
          }
        })();
      }, relayUrl);

      // The tone, heard through an AnalyserNode on the decoded track.
      const track = await page.evaluateHandle(() => (globalThis as unknown as PageState).mqtt.audioTrack);
      const peak = await trackPeak(page, track, 0.05);
      assert.ok(peak >= 0.05, `the page hears the tone: peak ${peak}`);

      // A malformed message on the audio topic: one counted, non-fatal FW_ERR_MQTT_PAYLOAD_INVALID; nothing stops.
      const before = await page.evaluate(() => {
        const g = globalThis as unknown as PageState;
        return { frames: g.frames, packets: g.mqtt.audioPackets };
      });
      await watcher.unsubscribeAsync(['framewire/testpattern/audio', 'framewire/testpattern/frame']);
      await watcher.publishAsync('framewire/testpattern/audio', Buffer.from('FWMQ-not-an-audio-message-at-all'));
      await page.waitForFunction(() => (globalThis as unknown as PageState).mqtt.badAudioMessages === 1, {
        timeout: 60_000,
      });
      await page.waitForFunction(
        (b: { frames: number; packets: number }) => {
          const g = globalThis as unknown as PageState;
          return g.frames >= b.frames + 5 && g.mqtt.audioPackets >= b.packets + 50;
        },
        { timeout: 60_000 },
        before,
      );
      const state = await page.evaluate(async () => {
        const g = globalThis as unknown as PageState;
        const result = { errors: g.errors, ended: g.mqtt.audioTrack?.readyState };
        await g.mqtt.close();
        return { ...result, endedAfterClose: g.mqtt.audioTrack?.readyState };
      });
      assert.deepEqual(state.errors, ['FW_ERR_MQTT_PAYLOAD_INVALID false']);
      assert.equal(state.ended, 'live');
      assert.equal(state.endedAfterClose, 'ended');
      assert.deepEqual(pageErrors, []);
    } finally {
      await watcher.endAsync();
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('MqttSource({ audio: true }) plays the beeps of the test pattern in sync with its flashes (640×360, 30 fps H.264), also when the video comes 300 ms after its audio', async (t) => {
    const bridge = await startCli(
      BRIDGE,
      [
        ...['--port', '0', '--size', '640x360', '--fps', '30', '--audio', 'tone'],
        ...['--mqtt-url', broker.url, '--mqtt-h264', '--mqtt-audio', '--mqtt-relay'],
      ],
      LISTENING,
    );
    // A slower video path (a hardware encoder with a few frames of latency, a busier link): the same stream
    // republished as `late`, its frames 300 ms after their audio; the capture times stay those of the bridge.
    const republisher = await connectAsync(broker.url);
    const timers = new Set<NodeJS.Timeout>();
    let republishing = true;
    republisher.on('message', (topic, payload) => {
      if (!republishing) return;
      if (topic.endsWith('/audio')) {
        void republisher.publishAsync('framewire/late/audio', payload);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (republishing) void republisher.publishAsync('framewire/late/frame', payload);
      }, 300);
      timers.add(timer);
    });
    await republisher.subscribeAsync(['framewire/testpattern/frame', 'framewire/testpattern/audio']);
    try {
      for (const streamId of ['testpattern', 'late']) {
        const viewer = await openPeerPage(browser, sdk.url, pageErrors);
        try {
          await viewer.addScriptTag({ url: '/sdk/framewire.min.js' });
          await installAvMeter(viewer);
          // Plays the frames and the audio track as a viewer's page would, then measures each beep against its flash.
          await viewer.evaluate(
            async (url, id) => {
              const g = globalThis as unknown as PageState;
              const source = await g.Framewire.MqttSource.open({ url, streamId: id, audio: true });
              await g.playForAv(source);
            },
            `ws://127.0.0.1:${bridge.match[1] ?? ''}/mqtt`,
            streamId,
          );
          t.diagnostic(`stream ${streamId}:`);
          const synced = await measureUntilSynced(viewer, t);
          assert.ok(synced.result.peak > 0.2, `${streamId}: the beep is loud: ${synced.result.peak}`);
          const closed = await viewer.evaluate(async () => {
            const { source } = (globalThis as unknown as PageState).av;
            const packets = source.audioPackets;
            await source.close();
            return { packets, track: source.audioTrack?.readyState };
          });
          assert.ok(closed.packets > 100, `${streamId}: ${closed.packets} audio packets`);
          assert.equal(closed.track, 'ended');
        } finally {
          await viewer.close();
        }
      }
      assert.deepEqual(pageErrors, []);
    } finally {
      republishing = false;
      for (const timer of timers) clearTimeout(timer);
      await republisher.endAsync();
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('a bridge re-serving the MQTT stream (MqttSource) passes its Opus on to WebSocket viewers; a malformed audio message is dropped, counted, and the source keeps running', async () => {
    const publisher = await startCli(
      BRIDGE,
      [
        ...['--port', '0', '--size', '160x120', '--fps', '10', '--audio', 'tone'],
        ...['--mqtt-url', broker.url, '--mqtt-h264', '--mqtt-audio'],
      ],
      LISTENING,
    );
    const source = new MqttSource({ url: broker.url, streamId: 'testpattern', id: 'relayed' });
    const errors: string[] = [];
    source.on('error', ({ error, fatal }) => errors.push(`${error.code} ${String(fatal)}`));
    const relay = await BridgeServer.start({ port: 0, sources: [source], mjpeg: false, websocket: true });
    const watcher = await connectAsync(broker.url);
    let viewer: WsViewer | undefined;
    try {
      // The source has audio from the first Opus packet on; a viewer that then asks for it gets it.
      await waitUntil(() => source.audio, 'the audio of the MQTT stream', 60_000);
      assert.deepEqual(source.audio, { codec: 'opus', sampleRate: 48_000, channels: 1 });
      viewer = new WsViewer(`ws://127.0.0.1:${relay.port}/sources/relayed/ws?audio=1`);
      await viewer.waitForFrames(20);
      const seen = viewer;
      await waitUntil(() => seen.audio.length >= 50, '50 Opus packets at the WebSocket viewer', 60_000);
      const config = viewer.messages.find((m) => m.type === 'audio-config');
      assert.deepEqual(config, { type: 'audio-config', codec: 'opus', sampleRate: 48000, numberOfChannels: 1 });
      for (const [i, packet] of viewer.audio.entries()) {
        assert.equal(packet.header.sequence, i);
        assert.ok(packet.bytes > 0);
        if (i > 0) assert.ok(packet.header.timestampUs > (viewer.audio[i - 1]?.header.timestampUs ?? 0));
      }
      // On the publisher's capture clock, beside the frames it relays.
      const lastFrame = viewer.frames.at(-1)!.header.captureTimeMs;
      const lastAudio = viewer.audio.at(-1)!.header.captureTimeMs;
      assert.ok(Math.abs(lastAudio - lastFrame) < 10_000, JSON.stringify({ lastAudio, lastFrame }));
      const health = (await (await fetch(`http://127.0.0.1:${relay.port}/health`)).json()) as BridgeHealth;
      assert.ok((health.sources[0]?.audioPackets ?? 0) >= 50, JSON.stringify(health.sources[0]));

      // Not an audio message at all, then a well-formed header around a broken Opus packet (a code-3 TOC byte
      // without its frame count): both dropped and counted, each a non-fatal FW_ERR_MQTT_PAYLOAD_INVALID.
      const broken = encodeMqttAudio({
        channels: 1,
        captureTimeMs: Date.now(),
        timestampUs: 0,
        data: Uint8Array.of(3),
      });
      await watcher.publishAsync('framewire/testpattern/audio', Buffer.from('FWMQ-not-an-audio-message-at-all'));
      await watcher.publishAsync('framewire/testpattern/audio', Buffer.from(broken));
      await waitUntil(() => source.badAudioMessages === 2, 'two malformed audio messages counted', 60_000);
      const before = viewer.audio.length;
      await waitUntil(() => seen.audio.length >= before + 25, 'Opus packets after the malformed ones', 60_000);
      assert.deepEqual(errors, ['FW_ERR_MQTT_PAYLOAD_INVALID false', 'FW_ERR_MQTT_PAYLOAD_INVALID false']);
      assert.equal(source.health.state, 'running');
      assert.equal(source.health.dropped, 0, 'no frame dropped');
    } finally {
      viewer?.close();
      await watcher.endAsync();
      await relay.close();
      assert.equal(await publisher.stop(), 0, publisher.output());
    }
  });

  it('--mqtt-audio without --mqtt-h264, and MqttOutput audio without h264, are FW_ERR_INVALID_OPTION', async () => {
    const refused = await runCli(BRIDGE, ['--port', '0', '--mqtt-url', broker.url, '--mqtt-audio']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /FW_ERR_INVALID_OPTION: --mqtt-audio needs --mqtt-h264/);
    const emitter = new TypedEmitter<{ frame: { frame: never } }>();
    for (const options of [{ audio: true }, { audio: true, codecs: ['h264'], payload: 'bare' as const }])
      assert.throws(
        () => new MqttOutput(emitter, { url: broker.url, streamId: 'x', ...options }),
        (error: unknown) =>
          (error as { code?: string }).code === 'FW_ERR_INVALID_OPTION' && String(error).includes('options.audio'),
      );
  });
});
