import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MqttSource, ShmFrameReader, type EncodedFrame } from '@framewire/node-bridge';
import { startMosquitto } from '../helpers/mosquitto.js';
import { runCli, startCli, waitUntil } from '../helpers/node.js';

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
      subscriber.start();
      await waitUntil(() => frames.length >= 3, 'JPEG frames through the broker', 20_000);
      const [first] = frames;
      assert.ok(first);
      assert.equal(first.codec, 'jpeg');
      assert.deepEqual([first.data[0], first.data[1]], [0xff, 0xd8]);
      assert.ok(first.captureTimeMs <= Date.now());

      const reader = new ShmFrameReader({ path: `/dev/shm/${shmName}` });
      const raw = await waitUntil(() => (existsSync(reader.path) ? reader.read() : null), 'a raw frame', 20_000);
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

  it('framewire-bridge, an empty --mqtt-url exits 2 with FW_ERR_INVALID_OPTION', async () => {
    const result = await runCli(BRIDGE, ['--port', '0', '--mqtt-url', '']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /FW_ERR_INVALID_OPTION: --mqtt-url/);
  });
});
