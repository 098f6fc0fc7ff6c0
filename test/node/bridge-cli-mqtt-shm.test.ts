import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MqttSource, ShmFrameReader, type BridgeHealth, type EncodedFrame } from '@framewire/node-bridge';
import { startMosquitto } from '../helpers/mosquitto.js';
import { ffprobe, runCli, startCli, tempDir, waitUntil } from '../helpers/node.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

describe('framewire-bridge --mqtt-url and --shm', () => {
  it('framewire-bridge, publishes the test pattern to an MQTT broker and keeps its newest raw frame in shared memory', async () => {
    const broker = await startMosquitto();
    const shmName = `framewire-cli-test-${process.pid}`;
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '160x120', '--fps', '10', '--mqtt-url', broker.url, '--shm', shmName],
      LISTENING,
    );
    const subscriber = new MqttSource({ url: broker.url, streamId: 'testpattern' });
    const frames: EncodedFrame[] = [];
    subscriber.on('frame', ({ frame }) => frames.push(frame));
    try {
      await subscriber.start();
      await waitUntil(() => frames.length >= 3, 'JPEG frames through the broker', 60_000);
      const [first] = frames;
      assert.ok(first);
      assert.equal(first.codec, 'jpeg');
      assert.deepEqual([first.data[0], first.data[1]], [0xff, 0xd8]);
      assert.ok(first.captureTimeMs <= Date.now());

      const reader = new ShmFrameReader({ path: `/dev/shm/${shmName}` });
      const raw = await waitUntil(() => (existsSync(reader.path) ? reader.read() : null), 'a raw frame', 60_000);
      assert.deepEqual([raw.width, raw.height, raw.format, raw.data.length], [160, 120, 'BGR24', 160 * 120 * 3]);
      assert.ok(
        raw.data.some((byte) => byte > 0),
        'the picture is not black',
      );
    } finally {
      await subscriber.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
      await broker.stop();
    }
    assert.equal(existsSync(`/dev/shm/${shmName}`), false, 'the buffer is removed on shutdown');
  });

  it('framewire-bridge --source mqtt://…, serves another bridge’s frames from the broker as MJPEG, and never feeds them back', async () => {
    const broker = await startMosquitto();
    const port = new URL(broker.url).port;
    const publisher = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '160x120', '--fps', '10', '--mqtt-url', broker.url, '--mqtt-topic-prefix', 'lab/cams'],
      LISTENING,
    );
    const spec = `mqtt://127.0.0.1:${port}/lab/cams/testpattern#id=relayed`;
    // The same broker and prefix as the source's own topic: publishing `relayed` goes elsewhere, so it is allowed.
    const viewer = await startCli(
      BRIDGE,
      ['--port', '0', '--source', spec, '--mqtt-url', broker.url, '--mqtt-topic-prefix', 'lab/cams', '--mjpeg'],
      LISTENING,
    );
    const loop = await startCli(
      BRIDGE,
      [
        '--port',
        '0',
        '--source',
        `mqtt://127.0.0.1:${port}/lab/cams/testpattern`,
        '--mqtt-url',
        broker.url,
        '--mqtt-topic-prefix',
        'lab/cams',
      ],
      LISTENING,
    );
    const dir = await tempDir();
    const counted = new MqttSource({ url: broker.url, topicPrefix: 'lab/cams', streamId: 'testpattern' });
    const republished = new MqttSource({ url: broker.url, topicPrefix: 'lab/cams', streamId: 'relayed' });
    const arrivals: number[] = [];
    counted.on('frame', ({ frame }) => arrivals.push(frame.timestampUs));
    try {
      const base = `http://127.0.0.1:${viewer.match[1] ?? ''}`;
      const health = await waitUntil(
        async () => {
          const body = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
          return (body.sources[0]?.frames ?? 0) >= 3 ? body : undefined;
        },
        'frames through the broker into the second bridge',
        60_000,
      );
      assert.deepEqual([health.sources[0]?.id, health.sources[0]?.kind], ['relayed', 'mqtt']);
      const snapshot = await fetch(`${base}/sources/relayed/snapshot.jpg`);
      assert.equal(snapshot.status, 200);
      const file = join(dir.path, 'relayed.jpg');
      await writeFile(file, Buffer.from(await snapshot.arrayBuffer()));
      const probed = await ffprobe(file);
      assert.deepEqual([probed.streams[0]?.codec_name, probed.streams[0]?.width], ['mjpeg', 160]);

      const relayed: EncodedFrame[] = [];
      republished.on('frame', ({ frame }) => relayed.push(frame));
      await republished.start();
      const again = await waitUntil(() => relayed[0], 'the relayed stream', 60_000);
      assert.equal(again.codec, 'jpeg', 'the relayed stream is published under its own id');

      // The third bridge subscribes to the very topic it would publish to: it must not, or frames would loop.
      assert.match(loop.output(), /not publishing testpattern to MQTT/);
      await counted.start();
      await waitUntil(() => arrivals.length >= 25, 'frames of the first bridge', 60_000);
      // A feedback loop would publish frames again: the topic would carry a timestamp twice, or go back in time.
      assert.ok(
        arrivals.every((timestampUs, i) => i === 0 || timestampUs > arrivals[i - 1]!),
        `each frame once, in order, not a feedback loop: ${arrivals.join(' ')}`,
      );
    } finally {
      await counted.close();
      await republished.close();
      for (const cli of [loop, viewer, publisher]) assert.equal(await cli.stop(), 0, cli.output());
      await broker.stop();
      await dir.remove();
    }
  });

  it('framewire-bridge, a --source mqtt:// without a stream or with a password in the URL exits 2 with FW_ERR_INVALID_OPTION', async () => {
    for (const spec of ['mqtt://127.0.0.1:1883', 'mqtt://user:secret@127.0.0.1:1883/cam', 'mqtt:///cam']) {
      const result = await runCli(BRIDGE, ['--port', '0', '--source', spec]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /FW_ERR_INVALID_OPTION: --source/);
    }
  });

  it('framewire-bridge, an empty --mqtt-url, or --mqtt-relay without an mqtt:// broker, exits 2 with FW_ERR_INVALID_OPTION', async () => {
    const result = await runCli(BRIDGE, ['--port', '0', '--mqtt-url', '']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /FW_ERR_INVALID_OPTION: --mqtt-url/);
    for (const args of [['--mqtt-relay'], ['--mqtt-relay', '--mqtt-url', 'ws://127.0.0.1:9001']]) {
      const refused = await runCli(BRIDGE, ['--port', '0', ...args]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /FW_ERR_INVALID_OPTION: --mqtt-relay needs --mqtt-url mqtt:\/\//);
    }
  });

  it('framewire-bridge --mqtt-relay, relays MQTT over WebSocket at /mqtt to the broker, behind the bridge token', async () => {
    const broker = await startMosquitto();
    const bridge = await startCli(
      BRIDGE,
      [
        '--port',
        '0',
        '--size',
        '160x120',
        '--fps',
        '10',
        '--mqtt-url',
        broker.url,
        '--mqtt-relay',
        '--token',
        'relay-secret',
      ],
      LISTENING,
    );
    const port = bridge.match[1] ?? '';
    const through = new MqttSource({
      url: `ws://127.0.0.1:${port}/mqtt?token=relay-secret`,
      streamId: 'testpattern',
      reconnectPeriodMs: 100_000,
    });
    const frames: EncodedFrame[] = [];
    through.on('frame', ({ frame }) => frames.push(frame));
    const refused = new MqttSource({
      url: `ws://127.0.0.1:${port}/mqtt`,
      streamId: 'testpattern',
      reconnectPeriodMs: 100_000,
    });
    const refusals: string[] = [];
    refused.on('error', ({ error }) => refusals.push(error.code));
    try {
      await through.start();
      await waitUntil(() => frames.length >= 3, 'frames through the bridge relay', 60_000);
      assert.equal(frames[0]?.codec, 'jpeg');
      await refused.start();
      await waitUntil(() => refusals.length > 0, 'the relay refusing a client without the token', 60_000);
      assert.equal(refused.health.frames, 0, 'no frame without the token');
    } finally {
      await through.close();
      await refused.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
      await broker.stop();
    }
  });
});
