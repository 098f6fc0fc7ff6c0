// The MQTT frame message (packages/core/src/mqtt-frame-message.ts): the 24-byte FWMQ header, bare JPEGs, the
// errors a broker client maps to, and the shared option checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MQTT_FRAME,
  decodeMqttFrame,
  encodeMqttFrame,
  mqttClientError,
  mqttFrameTopic,
  validateMqttTopicAndTiming,
  type MqttFrameMessage,
} from '../../packages/core/src/mqtt-frame-message.js';

const frame = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

describe('encodeMqttFrame / decodeMqttFrame', () => {
  const messages: { name: string; message: MqttFrameMessage & { captureTimeMs: number } }[] = [
    {
      name: 'an H.264 keyframe',
      message: {
        codec: 'h264',
        key: true,
        captureTimeMs: 1_767_225_600_123.5,
        timestampUs: 0,
        data: frame(0, 0, 0, 1, 0x65),
      },
    },
    {
      name: 'an H.264 delta frame',
      message: { codec: 'h264', key: false, captureTimeMs: 1, timestampUs: 3_600_000_000, data: frame(0, 0, 1, 0x41) },
    },
    {
      name: 'a JPEG in a header',
      message: {
        codec: 'jpeg',
        key: true,
        captureTimeMs: 42,
        timestampUs: 33_333.25,
        data: frame(0xff, 0xd8, 0xff, 0xd9),
      },
    },
  ];
  for (const { name, message } of messages) {
    it(`round trip: ${name}`, () => {
      const payload = encodeMqttFrame(message);
      assert.equal(payload.length, MQTT_FRAME.headerBytes + message.data.length);
      assert.equal(String.fromCharCode(...payload.subarray(0, 4)), 'FWMQ');
      assert.deepEqual(
        [payload[4], payload[5], payload[6], payload[7]],
        [1, MQTT_FRAME.codecs[message.codec], message.key ? 1 : 0, 0],
      );
      const view = new DataView(payload.buffer);
      assert.equal(view.getFloat64(8, true), message.captureTimeMs, 'capture time, little-endian at 8');
      assert.equal(view.getFloat64(16, true), message.timestampUs, 'timestamp, little-endian at 16');
      const decoded = decodeMqttFrame(payload, 1 << 20);
      assert.deepEqual({ ...decoded, data: [...decoded.data] }, { ...message, data: [...message.data] });
    });
  }

  it('decodes a header inside a larger buffer (byteOffset honoured)', () => {
    const payload = encodeMqttFrame({ codec: 'h264', key: true, captureTimeMs: 5, timestampUs: 6, data: frame(1, 2) });
    const outer = new Uint8Array(payload.length + 3);
    outer.set(payload, 3);
    const decoded = decodeMqttFrame(outer.subarray(3), 1000);
    assert.deepEqual([decoded.captureTimeMs, decoded.timestampUs, [...decoded.data]], [5, 6, [1, 2]]);
  });

  it('a bare JPEG is a keyframe without capture time', () => {
    const jpeg = frame(0xff, 0xd8, 0xff, 0xe0, 0xff, 0xd9);
    assert.deepEqual(decodeMqttFrame(jpeg, 100), {
      codec: 'jpeg',
      key: true,
      captureTimeMs: undefined,
      timestampUs: 0,
      data: jpeg,
    });
  });

  const header = (version: number, codec: number, length = 24): Uint8Array => {
    const out = new Uint8Array(length);
    out.set([0x46, 0x57, 0x4d, 0x51, version, codec]);
    return out;
  };
  const invalid: { name: string; payload: Uint8Array; max?: number; why: RegExp }[] = [
    { name: 'an empty payload', payload: frame(), why: /neither/ },
    { name: 'text', payload: new TextEncoder().encode('hello, this is not a frame at all'), why: /neither/ },
    { name: 'a header cut short', payload: header(1, 2, 20), why: /neither/ },
    { name: 'an unknown version', payload: header(2, 2, 30), why: /unknown version 2/ },
    { name: 'an unknown codec', payload: header(1, 9, 30), why: /unknown codec 9/ },
    { name: 'a header without a frame', payload: header(1, 2), why: /empty frame/ },
    {
      name: 'a payload over maxPayloadBytes',
      payload: frame(0xff, 0xd8, 1, 2, 3),
      max: 4,
      why: /more than maxPayloadBytes \(4\)/,
    },
  ];
  for (const { name, payload, max, why } of invalid) {
    it(`refuses ${name} with a non-fatal FW_ERR_MQTT_PAYLOAD_INVALID`, () => {
      assert.throws(() => decodeMqttFrame(payload, max ?? 1000), {
        name: 'FramewireError',
        code: 'FW_ERR_MQTT_PAYLOAD_INVALID',
        fatal: false,
        message: why,
      });
    });
  }
});

describe('topics, client errors, options', () => {
  for (const [prefix, id, topic] of [
    ['framewire', 'cam', 'framewire/cam/frame'],
    ['lab/cams/', 'cam-1', 'lab/cams/cam-1/frame'],
    ['a//', 'b', 'a/b/frame'],
  ] as const) {
    it(`mqttFrameTopic(${prefix}, ${id}) = ${topic}`, () => assert.equal(mqttFrameTopic(prefix, id), topic));
  }

  const errors: { name: string; error: unknown; code: string; fatal: boolean }[] = [
    {
      name: 'CONNACK 4 (bad user name or password)',
      error: Object.assign(new Error('refused'), { code: 4 }),
      code: 'FW_ERR_MQTT_REFUSED',
      fatal: true,
    },
    {
      name: 'CONNACK 5 (not authorised)',
      error: Object.assign(new Error('refused'), { code: 5 }),
      code: 'FW_ERR_MQTT_REFUSED',
      fatal: true,
    },
    {
      name: 'MQTT 5 reason 135 (not authorised)',
      error: Object.assign(new Error('refused'), { code: 135 }),
      code: 'FW_ERR_MQTT_REFUSED',
      fatal: true,
    },
    {
      name: 'CONNACK 3 (server unavailable)',
      error: Object.assign(new Error('busy'), { code: 3 }),
      code: 'FW_ERR_NETWORK_FAILED',
      fatal: false,
    },
    {
      name: 'ECONNREFUSED',
      error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      code: 'FW_ERR_NETWORK_FAILED',
      fatal: false,
    },
  ];
  for (const { name, error, code, fatal } of errors) {
    it(`mqttClientError: ${name} → ${code}${fatal ? ' (fatal)' : ''}`, () => {
      const mapped = mqttClientError(error, 'mqtt://broker:1883');
      assert.deepEqual([mapped.code, mapped.fatal, mapped.stage, mapped.cause], [code, fatal, 'mqtt', error]);
      assert.match(mapped.message, /mqtt:\/\/broker:1883/);
    });
  }

  const options: { options: Parameters<typeof validateMqttTopicAndTiming>[0]; error?: RegExp }[] = [
    { options: {} },
    { options: { topicPrefix: 'a/b', reconnectPeriodMs: 0, connectTimeoutMs: 1 } },
    { options: { topicPrefix: '' }, error: /options\.topicPrefix/ },
    { options: { topicPrefix: 'a/#' }, error: /options\.topicPrefix/ },
    { options: { topicPrefix: 'a/+/b' }, error: /options\.topicPrefix/ },
    { options: { reconnectPeriodMs: -1 }, error: /options\.reconnectPeriodMs/ },
    { options: { reconnectPeriodMs: Number.NaN }, error: /options\.reconnectPeriodMs/ },
    { options: { connectTimeoutMs: 0 }, error: /options\.connectTimeoutMs/ },
    { options: { connectTimeoutMs: Number.POSITIVE_INFINITY }, error: /options\.connectTimeoutMs/ },
  ];
  for (const { options: o, error } of options) {
    it(`validateMqttTopicAndTiming(${JSON.stringify(o)}) ${error ? 'throws' : 'passes'}`, () => {
      if (error) assert.throws(() => validateMqttTopicAndTiming(o), { code: 'FW_ERR_INVALID_OPTION', message: error });
      else assert.doesNotThrow(() => validateMqttTopicAndTiming(o));
    });
  }
});
