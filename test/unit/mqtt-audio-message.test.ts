// The MQTT audio message (packages/core/src/mqtt-audio-message.ts): the frame message's FWMQ header with codec 3
// (Opus) and the channel count, round trips, and every malformed payload a typed FW_ERR_MQTT_PAYLOAD_INVALID.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '../../packages/core/src/framewire-error.js';
import {
  MQTT_AUDIO,
  decodeMqttAudio,
  encodeMqttAudio,
  mqttAudioTopic,
  type MqttAudioMessage,
} from '../../packages/core/src/mqtt-audio-message.js';
import { decodeMqttFrame, mqttFrameTopic } from '../../packages/core/src/mqtt-frame-message.js';

const MAX = 1 << 20;
const message: MqttAudioMessage = {
  channels: 2,
  captureTimeMs: 1_767_225_600_123.5,
  timestampUs: 1_020_000,
  data: Uint8Array.from([0xfc, 0xff, 0xfe, 0x01, 0x02]),
};

const invalid = (payload: Uint8Array, why: RegExp, max = MAX): void =>
  assert.throws(
    () => decodeMqttAudio(payload, max),
    (error: unknown) =>
      error instanceof FramewireError &&
      error.code === 'FW_ERR_MQTT_PAYLOAD_INVALID' &&
      !error.fatal &&
      why.test(error.message),
  );

describe('encodeMqttAudio / decodeMqttAudio', () => {
  it('round trips an Opus packet with its channels, capture time and timestamp, in a 24-byte FWMQ header', () => {
    for (const channels of [1, 2] as const) {
      const encoded = encodeMqttAudio({ ...message, channels });
      assert.equal(encoded.length, 24 + message.data.length);
      assert.equal(String.fromCharCode(...encoded.subarray(0, 4)), 'FWMQ');
      assert.deepEqual([encoded[4], encoded[5], encoded[6], encoded[7]], [1, MQTT_AUDIO.codec, 1, channels]);
      const decoded = decodeMqttAudio(encoded, MAX);
      assert.deepEqual(
        { ...decoded, data: Array.from(decoded.data) },
        { ...message, channels, data: Array.from(message.data) },
      );
    }
  });

  it('the audio topic sits beside the frame topic', () => {
    assert.equal(mqttAudioTopic('framewire', 'cam1'), 'framewire/cam1/audio');
    assert.equal(mqttAudioTopic('site/a//', 'cam1'), 'site/a/cam1/audio');
    assert.equal(mqttFrameTopic('site/a//', 'cam1'), 'site/a/cam1/frame');
  });

  it('an audio message on a frame topic is refused by the frame parser (unknown codec), so video subscribers never decode it', () => {
    assert.throws(() => decodeMqttFrame(encodeMqttAudio(message), MAX), /unknown codec 3/);
  });

  it('malformed payloads are non-fatal FW_ERR_MQTT_PAYLOAD_INVALID naming the fault', () => {
    const good = encodeMqttAudio(message);
    const patched = (offset: number, value: number): Uint8Array => {
      const copy = good.slice();
      copy[offset] = value;
      return copy;
    };
    invalid(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]), /FWMQ header/);
    invalid(good.subarray(0, 23), /FWMQ header/);
    invalid(patched(0, 0x58), /FWMQ header/);
    invalid(patched(4, 2), /unknown version 2/);
    invalid(patched(5, 2), /codec 2 is not Opus/);
    invalid(patched(7, 0), /0 channels/);
    invalid(patched(7, 3), /3 channels/);
    invalid(good.subarray(0, 24), /empty packet/);
    const nan = good.slice();
    new DataView(nan.buffer).setFloat64(8, Number.NaN, true);
    invalid(nan, /non-finite/);
    invalid(good, /more than maxPayloadBytes \(10\)/, 10);
  });
});
