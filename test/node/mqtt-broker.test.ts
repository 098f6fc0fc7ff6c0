import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { MqttBroker, MqttSource, type EncodedFrame } from '@framewire/node-bridge';
import { connectAsync } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { launchChromium } from '../helpers/chromium.js';
import { runCli, startCli, waitUntil } from '../helpers/node.js';
import { freePort } from '../helpers/python.js';
import { openPeerPage, startSdkServer } from '../helpers/peers.js';
import type { StartedServer } from '../helpers/node.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const TOKEN = 'broker-secret';

declare const Framewire: {
  MqttSource: {
    open(options: { url: string; streamId: string }): Promise<{
      read(): Promise<VideoFrame | null>;
      close(): Promise<void>;
    }>;
  };
};

describe('framewire-bridge --mqtt-broker (an MQTT broker inside the bridge)', () => {
  let browser: Browser;
  let sdk: StartedServer;
  const errors: string[] = [];

  before(async () => {
    [browser, sdk] = await Promise.all([launchChromium(), startSdkServer()]);
  });
  after(async () => {
    await browser.close();
    await sdk.close();
  });

  it('serves the bridge’s frames over TCP (the token as password) and over WebSocket at /mqtt (behind the bridge token); wrong credentials are refused', async () => {
    const mqttPort = await freePort();
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '160x120', '--fps', '10', '--mqtt-broker', String(mqttPort), '--token', TOKEN],
      LISTENING,
    );
    const port = bridge.match[1] ?? '';
    const sources = {
      tcp: new MqttSource({
        url: `mqtt://127.0.0.1:${mqttPort}`,
        username: 'viewer',
        password: TOKEN,
        streamId: 'testpattern',
      }),
      ws: new MqttSource({ url: `ws://127.0.0.1:${port}/mqtt?token=${TOKEN}`, streamId: 'testpattern' }),
      badPassword: new MqttSource({
        url: `mqtt://127.0.0.1:${mqttPort}`,
        username: 'viewer',
        password: 'wrong',
        streamId: 'testpattern',
        reconnectPeriodMs: 100_000,
      }),
      noToken: new MqttSource({
        url: `ws://127.0.0.1:${port}/mqtt`,
        streamId: 'testpattern',
        reconnectPeriodMs: 100_000,
      }),
    };
    const frames = { tcp: [] as EncodedFrame[], ws: [] as EncodedFrame[] };
    sources.tcp.on('frame', ({ frame }) => frames.tcp.push(frame));
    sources.ws.on('frame', ({ frame }) => frames.ws.push(frame));
    const refusals: string[] = [];
    for (const refused of [sources.badPassword, sources.noToken])
      refused.on('error', ({ error }) => refusals.push(error.code));
    try {
      await Promise.all(Object.values(sources).map((source) => source.start()));
      await waitUntil(() => frames.tcp.length >= 3 && frames.ws.length >= 3, 'frames over TCP and WebSocket', 60_000);
      for (const frame of [frames.tcp[0], frames.ws[0]]) {
        assert.equal(frame?.codec, 'jpeg');
        assert.deepEqual([frame.data[0], frame.data[1]], [0xff, 0xd8]);
      }
      await waitUntil(() => refusals.length >= 2, 'both clients without the right credentials refused', 60_000);
      assert.equal(sources.badPassword.health.frames, 0);
      assert.equal(sources.noToken.health.frames, 0);
    } finally {
      await Promise.all(Object.values(sources).map((source) => source.close()));
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('a Chromium MqttSource over the broker’s WebSocket gets 640×360 JPEG frames at the rate a TCP subscriber gets them', async () => {
    const mqttPort = await freePort();
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '640x360', '--fps', '30', '--mqtt-broker', String(mqttPort)],
      LISTENING,
    );
    const port = bridge.match[1] ?? '';
    // The reference: a Node subscriber on the broker's TCP listener, counting the frames the bridge published.
    const reference = new MqttSource({ url: `mqtt://127.0.0.1:${mqttPort}`, streamId: 'testpattern' });
    let published = 0;
    reference.on('frame', () => published++);
    const page: Page = await openPeerPage(browser, sdk.url, errors);
    try {
      await page.addScriptTag({ url: '/sdk/framewire.min.js' });
      await reference.start();
      await waitUntil(() => published >= 3, 'the bridge publishing', 60_000);
      await page.evaluate(async (url: string) => {
        const source = await Framewire.MqttSource.open({ url, streamId: 'testpattern' });
        const counts = { frames: 0, sizes: new Set<string>() };
        Object.assign(window, { mqttCounts: counts, mqttSource: source });
        void (async () => {
          for (let frame = await source.read(); frame; frame = await source.read()) {
            counts.frames++;
            counts.sizes.add(`${frame.displayWidth}x${frame.displayHeight}`);
            frame.close();
          }
        })();
      }, `ws://127.0.0.1:${port}/mqtt`);
      const read = (): Promise<{ frames: number; sizes: string[] }> =>
        page.evaluate(() => {
          const counts = (window as unknown as { mqttCounts: { frames: number; sizes: Set<string> } }).mqttCounts;
          return { frames: counts.frames, sizes: [...counts.sizes] };
        });
      await waitUntil(async () => (await read()).frames >= 1, 'the page’s first frame', 60_000);
      // Both count over the same window of 90 published frames (3 s at 30 fps on a quiet machine).
      const [pageStart, publishedStart] = [(await read()).frames, published];
      await waitUntil(() => published - publishedStart >= 90, '90 more published frames', 120_000);
      const counted = await read();
      const [pageFrames, referenceFrames] = [counted.frames - pageStart, published - publishedStart];
      assert.deepEqual(counted.sizes, ['640x360']);
      // mosquitto 2.0's WebSocket listener delivers about a fifth of them (docs/guides/mqtt.md): the page keeps up.
      assert.ok(
        pageFrames >= 0.8 * referenceFrames,
        `the page read ${pageFrames} frames while the TCP subscriber got ${referenceFrames}`,
      );
    } finally {
      await page.evaluate(() => (window as unknown as { mqttSource?: { close(): Promise<void> } }).mqttSource?.close());
      await page.close();
      await reference.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('skips messages for a subscriber that stopped reading instead of queueing them; the others get every one', async () => {
    const broker = await MqttBroker.start({ port: 0, maxBufferedBytes: 1 << 20 });
    const good = await connectAsync(broker.url);
    const received: number[] = [];
    good.on('message', (_topic, payload) => received.push(payload.readUInt32BE(0)));
    await good.subscribeAsync('cam/frame');
    // A subscriber that connects and subscribes, then never reads its socket again.
    const stalled = connectTcp({ host: '127.0.0.1', port: broker.port });
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.write(mqttPacket.generate({ cmd: 'connect', clientId: 'stalled', protocolVersion: 4, keepalive: 0 }));
    stalled.write(
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'cam/frame', qos: 0 }] }),
    );
    await waitUntil(() => broker.clientCount === 2, 'both subscribers connected');
    // The SUBACK is in: from now on the socket is not read.
    await new Promise<void>((resolve) => stalled.once('data', () => resolve()));
    stalled.pause();
    const publisher = await connectAsync(broker.url);
    try {
      const COUNT = 200;
      for (let i = 0; i < COUNT; i++) {
        const payload = Buffer.alloc(100_000);
        payload.writeUInt32BE(i, 0);
        // Paced by the reading subscriber (it is in this very process): it is never more than a message behind,
        // while the stalled one falls further behind with every message.
        const delivered = new Promise<void>((resolve) => good.once('message', () => resolve()));
        await publisher.publishAsync('cam/frame', payload);
        await delivered;
      }
      assert.deepEqual(
        received,
        Array.from({ length: COUNT }, (_, i) => i),
      );
      // 20 MB went out; the stalled subscriber's share beyond its 1 MiB (plus the kernel's buffers) was skipped.
      assert.ok(broker.skipped > 0, 'messages for the stalled subscriber were skipped');
    } finally {
      stalled.destroy();
      await publisher.endAsync();
      await good.endAsync();
      await broker.close();
    }
  });

  it('--mqtt-broker refuses a bad port, and --mqtt-url or --mqtt-relay beside it, with FW_ERR_INVALID_OPTION; a port in use is FW_ERR_LISTEN_FAILED', async () => {
    for (const args of [
      ['--mqtt-broker', 'abc'],
      ['--mqtt-broker', '70000'],
      ['--mqtt-broker', '1883', '--mqtt-url', 'mqtt://127.0.0.1:1883'],
      ['--mqtt-broker', '1883', '--mqtt-relay'],
    ]) {
      const refused = await runCli(BRIDGE, ['--port', '0', ...args]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /FW_ERR_INVALID_OPTION: --mqtt-broker/);
    }
    const taken = await MqttBroker.start({ port: 0 });
    try {
      const refused = await runCli(BRIDGE, ['--port', '0', '--mqtt-broker', String(taken.port)]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /FW_ERR_LISTEN_FAILED/);
    } finally {
      await taken.close();
    }
  });
});
