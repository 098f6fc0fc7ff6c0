import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import {
  MqttOutput,
  MqttSource,
  MqttWebSocketRelay,
  createTestPatternSource,
  encodeMqttFrame,
  decodeMqttFrame,
  type EncodedFrame,
} from '@framewire/node-bridge';
import { type FramewireError, TypedEmitter } from '@framewire/core';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/node.js';

type Frames = { frame: { frame: EncodedFrame } };
const jpeg = (n: number): Buffer => Buffer.from([0xff, 0xd8, 0xff, 0xe0, n & 255, (n >> 8) & 255, 0xff, 0xd9]);
const frameOf = (n: number, codec = 'jpeg', key = true): EncodedFrame => ({
  codec,
  key,
  data: codec === 'jpeg' ? jpeg(n) : Buffer.from([0, 0, 0, 1, 0x65, n & 255]),
  timestampUs: n * 33_333,
  captureTimeMs: 1_700_000_000_000 + n,
});

/** Collects the frames and errors of a bridge MqttSource. */
function collect(source: MqttSource): { frames: EncodedFrame[]; errors: FramewireError[] } {
  const seen = { frames: [] as EncodedFrame[], errors: [] as FramewireError[] };
  source.on('frame', ({ frame }) => seen.frames.push(frame));
  source.on('error', ({ error }) => seen.errors.push(error));
  return seen;
}

describe('MQTT (bridge)', () => {
  let broker: Mosquitto;
  let stream = 0;
  const streamId = (): string => `cam${++stream}`;
  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await broker.close();
  });

  it('MQTT frame message, encodes and decodes; bare JPEGs pass; malformed and oversize payloads are typed errors', () => {
    const message = encodeMqttFrame({
      codec: 'h264',
      key: false,
      captureTimeMs: 12.5,
      timestampUs: 4000,
      data: new Uint8Array([1, 2, 3]),
    });
    assert.deepEqual(decodeMqttFrame(message, 100), {
      codec: 'h264',
      key: false,
      captureTimeMs: 12.5,
      timestampUs: 4000,
      data: new Uint8Array([1, 2, 3]),
    });
    assert.equal(decodeMqttFrame(jpeg(1), 100).captureTimeMs, undefined);
    const bad = (payload: Uint8Array, max = 100): void =>
      assert.throws(() => decodeMqttFrame(payload, max), { code: 'FW_ERR_MQTT_PAYLOAD_INVALID', fatal: false });
    bad(new Uint8Array([1, 2, 3]));
    bad(message.subarray(0, 20));
    bad(Uint8Array.from([...message.subarray(0, 5), 9, ...message.subarray(6)]));
    bad(Uint8Array.from([...message.subarray(0, 4), 2, ...message.subarray(5)]));
    bad(message, 10);
  });

  it('MqttOutput → mosquitto → MqttSource, JPEG frames with their capture time; a late joiner gets the retained snapshot', async () => {
    const emitter = new TypedEmitter<Frames>();
    const id = streamId();
    const output = new MqttOutput(emitter, { url: broker.url, streamId: id });
    const source = new MqttSource({ url: broker.url, streamId: id });
    const seen = collect(source);
    try {
      await waitUntil(() => output.connected, 'output connected');
      await source.start();
      // Running once the broker acknowledged the subscription (the SUBACK).
      await waitUntil(() => source.health.state === 'running', 'source running');
      // One at a time: a frame offered while one is being written would be dropped, by design (latest wins).
      for (let n = 1; n <= 5; n++) {
        emitter.emit('frame', { frame: frameOf(n) });
        await waitUntil(() => seen.frames.length >= n, `frame ${n}`);
      }
      assert.deepEqual(
        seen.frames.map((f) => f.data),
        [1, 2, 3, 4, 5].map(jpeg),
      );
      assert.deepEqual(
        seen.frames.map((f) => f.captureTimeMs),
        [1, 2, 3, 4, 5].map((n) => 1_700_000_000_000 + n),
      );
      assert.equal(seen.frames[0]!.codec, 'jpeg');
      assert.equal(output.stats.published, 5);

      const late = new MqttSource({ url: broker.url, streamId: id });
      const lateSeen = collect(late);
      await late.start();
      await waitUntil(() => lateSeen.frames.length >= 1, 'retained frame');
      assert.deepEqual(lateSeen.frames[0]!.data, jpeg(5));
      assert.equal(late.latest?.captureTimeMs, 1_700_000_000_005);
      await late.close();
      await late.close();
    } finally {
      await output.close();
      await output.close();
      await source.close();
    }
    assert.deepEqual(seen.errors, []);
  });

  it('MqttOutput, the bridge test pattern (ffmpeg) reaches an MqttSource; H.264 access units keep codec and key flag', async () => {
    const pattern = createTestPatternSource({ width: 160, height: 120, frameRate: 15 });
    const h264 = new TypedEmitter<Frames>();
    const [id, id264] = [streamId(), streamId()];
    const output = new MqttOutput(pattern, { url: broker.url, streamId: id });
    const output264 = new MqttOutput(h264, { url: broker.url, streamId: id264, codecs: ['h264'] });
    const source = new MqttSource({ url: broker.url, streamId: id });
    const source264 = new MqttSource({ url: broker.url, streamId: id264 });
    const seen = collect(source);
    const seen264 = collect(source264);
    try {
      await source.start();
      await source264.start();
      await waitUntil(
        () => source.health.state === 'running' && source264.health.state === 'running' && output264.connected,
        'connected and subscribed',
      );
      await pattern.start();
      h264.emit('frame', { frame: frameOf(1, 'h264', true) });
      await waitUntil(() => seen264.frames.length >= 1, 'the H.264 keyframe');
      h264.emit('frame', { frame: frameOf(2, 'h264', false) });
      await waitUntil(() => seen.frames.length >= 3 && seen264.frames.length >= 2, 'frames');
      for (const frame of seen.frames) {
        assert.equal(frame.data.subarray(0, 2).toString('hex'), 'ffd8');
        assert.equal(frame.data.subarray(-2).toString('hex'), 'ffd9');
      }
      assert.deepEqual(
        seen264.frames.map((f) => [f.codec, f.key, f.timestampUs]),
        [
          ['h264', true, 33_333],
          ['h264', false, 66_666],
        ],
      );
    } finally {
      await pattern.close();
      await Promise.all([output.close(), output264.close(), source.close(), source264.close()]);
    }
  });

  it('MqttOutput bare payloads are plain JPEGs; MqttSource accepts them and drops malformed and oversize messages', async () => {
    const id = streamId();
    const emitter = new TypedEmitter<Frames>();
    const output = new MqttOutput(emitter, { url: broker.url, streamId: id, payload: 'bare', retain: false });
    const client = await connectAsync(broker.url);
    const source = new MqttSource({ url: broker.url, streamId: id, maxPayloadBytes: 1000 });
    const seen = collect(source);
    const plain: Buffer[] = [];
    try {
      await client.subscribeAsync(`framewire/${id}/frame`);
      client.on('message', (_topic, payload) => plain.push(payload));
      await source.start();
      await waitUntil(() => output.connected && source.health.state === 'running', 'connected');
      emitter.emit('frame', { frame: frameOf(7) });
      await waitUntil(() => plain.length >= 1 && seen.frames.length >= 1, 'the bare JPEG');
      assert.deepEqual(plain[0], jpeg(7));
      assert.ok(Math.abs(seen.frames[0]!.captureTimeMs - Date.now()) < 60_000); // arrival time for bare JPEGs
      await client.publishAsync(`framewire/${id}/frame`, Buffer.from('not a frame'));
      await client.publishAsync(`framewire/${id}/frame`, Buffer.concat([jpeg(8), Buffer.alloc(2000)]));
      await client.publishAsync(`framewire/${id}/frame`, jpeg(9));
      await waitUntil(() => seen.frames.length >= 2, 'the frame after the bad ones');
      assert.deepEqual(seen.frames[1]!.data, jpeg(9));
      assert.deepEqual(
        seen.errors.map((e) => [e.code, e.fatal]),
        [
          ['FW_ERR_MQTT_PAYLOAD_INVALID', false],
          ['FW_ERR_MQTT_PAYLOAD_INVALID', false],
        ],
      );
      assert.equal(source.health.state, 'running');
    } finally {
      await client.endAsync();
      await Promise.all([output.close(), source.close()]);
    }
  });

  it('MqttOutput and MqttSource, a broker going away is a non-fatal FW_ERR_NETWORK_FAILED and they reconnect', async () => {
    const own = await startMosquitto();
    const id = streamId();
    const emitter = new TypedEmitter<Frames>();
    const output = new MqttOutput(emitter, { url: own.url, streamId: id, reconnectPeriodMs: 200 });
    const outputErrors: string[] = [];
    output.on('error', ({ error, fatal }) => outputErrors.push(`${error.code}:${fatal}`));
    const source = new MqttSource({ url: own.url, streamId: id, reconnectPeriodMs: 200 });
    const seen = collect(source);
    try {
      await source.start();
      await waitUntil(() => output.connected && source.health.state === 'running', 'connected');
      await own.stop();
      await waitUntil(() => source.health.state === 'restarting' && !output.connected, 'noticed the outage');
      emitter.emit('frame', { frame: frameOf(1) }); // dropped: never queued while offline
      await own.restart();
      // Running again once the broker acknowledged the new subscription.
      await waitUntil(() => output.connected && source.health.state === 'running', 'reconnected', 60_000);
      emitter.emit('frame', { frame: frameOf(2) });
      await waitUntil(() => seen.frames.length >= 1, 'a frame after reconnecting');
      assert.deepEqual(
        seen.frames.map((f) => f.data),
        [jpeg(2)],
      );
      assert.ok(
        outputErrors.length >= 1 && outputErrors.every((e) => e === 'FW_ERR_NETWORK_FAILED:false'),
        String(outputErrors),
      );
      assert.ok(seen.errors.length >= 1 && seen.errors.every((e) => e.code === 'FW_ERR_NETWORK_FAILED' && !e.fatal));
      assert.equal(output.stats.dropped, 1);
      assert.equal(source.health.restarts, 1);
    } finally {
      await Promise.all([output.close(), source.close()]);
      await own.close();
    }
  });

  it('MqttOutput and MqttSource, refused credentials are a fatal FW_ERR_MQTT_REFUSED; the right ones work', async () => {
    const secured = await startMosquitto({ users: { cam: 's3cret' } });
    const id = streamId();
    const emitter = new TypedEmitter<Frames>();
    // A short reconnect period: the window below spans many periods in which a reconnection would show.
    const wrong = new MqttOutput(emitter, {
      url: secured.url,
      streamId: id,
      username: 'cam',
      password: 'nope',
      reconnectPeriodMs: 100,
    });
    const wrongErrors: FramewireError[] = [];
    wrong.on('error', ({ error }) => wrongErrors.push(error));
    const anonymous = new MqttSource({ url: secured.url, streamId: id });
    const anonymousSeen = collect(anonymous);
    const output = new MqttOutput(emitter, { url: secured.url, streamId: id, username: 'cam', password: 's3cret' });
    const source = new MqttSource({ url: secured.url, streamId: id, username: 'cam', password: 's3cret' });
    const seen = collect(source);
    try {
      await anonymous.start();
      await source.start();
      await waitUntil(() => wrongErrors.length > 0 && anonymousSeen.errors.length > 0, 'refusals');
      assert.deepEqual([wrongErrors[0]!.code, wrongErrors[0]!.fatal], ['FW_ERR_MQTT_REFUSED', true]);
      assert.deepEqual([anonymousSeen.errors[0]!.code, anonymousSeen.errors[0]!.fatal], ['FW_ERR_MQTT_REFUSED', true]);
      assert.equal(anonymous.health.state, 'failed');
      await waitUntil(() => output.connected && source.health.state === 'running', 'authorised clients connected');
      emitter.emit('frame', { frame: frameOf(3) });
      await waitUntil(() => seen.frames.length >= 1, 'a frame');
      assert.deepEqual(seen.frames[0]!.data, jpeg(3));
      // No reconnection after a refusal: an observation window (not a synchronisation) of 15 reconnect periods.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(wrongErrors.length, 1);
      assert.equal(wrong.connected, false);
    } finally {
      await Promise.all([wrong.close(), anonymous.close(), output.close(), source.close()]);
      await secured.close();
    }
  });

  it('MqttWebSocketRelay, relays MQTT over WebSocket to the broker TCP listener, and caps the clients', async () => {
    const relay = new MqttWebSocketRelay({ brokerPort: Number(new URL(broker.url).port), maxClients: 1 });
    const url = `ws://127.0.0.1:${await relay.listen()}`;
    const id = streamId();
    const emitter = new TypedEmitter<Frames>();
    const output = new MqttOutput(emitter, { url: broker.url, streamId: id });
    const client = await connectAsync(url, { reconnectPeriod: 0 });
    try {
      const received: Buffer[] = [];
      client.on('message', (_topic, payload) => received.push(payload));
      await client.subscribeAsync(`framewire/${id}/frame`);
      await waitUntil(() => output.connected, 'output connected');
      emitter.emit('frame', { frame: frameOf(11) });
      await waitUntil(() => received.length >= 1, 'a relayed frame');
      assert.deepEqual(Buffer.from(decodeMqttFrame(received[0]!, 1000).data), jpeg(11));
      assert.equal(relay.clientCount, 1);
      // A second client is over the cap: refused with 503 before the WebSocket handshake.
      const status = await new Promise<string>((resolve) => {
        const request = get(url.replace('ws:', 'http:'), {
          headers: {
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'sec-websocket-protocol': 'mqtt',
          },
        });
        request.on('response', (response) => resolve(String(response.statusCode)));
        request.on('upgrade', () => resolve('upgraded'));
        request.on('error', (error) => resolve(error.message));
      });
      assert.equal(status, '503');
    } finally {
      await client.endAsync();
      await output.close();
      await relay.close();
      await relay.close();
    }
    assert.throws(() => new MqttWebSocketRelay({ brokerPort: 70000 }), /options\.brokerPort/);
  });

  it('MqttOutput and MqttSource over TLS (mqtts://): verified against the given CA; an unknown CA is refused', async () => {
    const secure = await startMosquitto({ tls: true });
    const emitter = new TypedEmitter<Frames>();
    const id = streamId();
    const url = secure.tlsUrl ?? '';
    const ca = secure.caPem ?? '';
    const output = new MqttOutput(emitter, { url, streamId: id, tls: { ca } });
    const source = new MqttSource({ url, streamId: id, tls: { ca } });
    const seen = collect(source);
    // No CA given: the system's CAs do not know the test CA, so the broker's certificate is refused.
    const untrusting = new MqttSource({ url, streamId: id, reconnectPeriodMs: 100_000 });
    const refused = collect(untrusting);
    try {
      await waitUntil(() => output.connected, 'output connected over TLS');
      await source.start();
      await waitUntil(() => source.health.state === 'running', 'source running over TLS');
      emitter.emit('frame', { frame: frameOf(21) });
      await waitUntil(() => seen.frames.length >= 1, 'a frame over TLS');
      assert.deepEqual(seen.frames[0]!.data, jpeg(21));
      await untrusting.start();
      await waitUntil(() => refused.errors.length > 0, 'the untrusted certificate refused');
      assert.match(
        `${refused.errors[0]?.code ?? ''} ${refused.errors[0]?.message ?? ''}`,
        /certificate|self.signed|issuer/i,
      );
      assert.equal(untrusting.health.frames, 0);
      assert.notEqual(untrusting.health.state, 'running');
    } finally {
      await output.close();
      await source.close();
      await untrusting.close();
      await secure.close();
    }
    assert.deepEqual(seen.errors, []);
  });

  it('MqttOutput and MqttSource, invalid options are FW_ERR_INVALID_OPTION naming the option', () => {
    const emitter = new TypedEmitter<Frames>();
    assert.throws(() => new MqttOutput(emitter, { url: 'http://x', streamId: 'a' }), /options\.url/);
    assert.throws(() => new MqttOutput(emitter, { url: broker.url, streamId: 'a/b' }), /options\.streamId/);
    assert.throws(
      () => new MqttOutput(emitter, { url: broker.url, streamId: 'a', topicPrefix: 'x/#' }),
      /options\.topicPrefix/,
    );
    assert.throws(
      () => new MqttOutput(emitter, { url: broker.url, streamId: 'a', codecs: ['vp9'] }),
      /options\.codecs/,
    );
    assert.throws(() => new MqttSource({ url: broker.url, streamId: 'a', maxPayloadBytes: 0 }), {
      code: 'FW_ERR_INVALID_OPTION',
    });
  });
});
