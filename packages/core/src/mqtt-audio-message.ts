import { FramewireError } from './framewire-error.js';
import { MQTT_FRAME, encodeMqttMessage } from './mqtt-frame-message.js';

/**
 * The MQTT audio message (isomorphic), published by the bridge's `MqttOutput` with `audio: true` on
 * `<topicPrefix>/<streamId>/audio` and read by the browser SDK's `MqttSource` with `audio: true`. Documented in
 * docs/guides/mqtt.md. The same 24-byte header as the frame message ({@link MQTT_FRAME}), followed by one Opus
 * packet (RFC 6716); all numbers little-endian:
 *
 * | offset | type    | field                                                        |
 * | ------ | ------- | ------------------------------------------------------------ |
 * | 0      | char[4] | magic `FWMQ`                                                 |
 * | 4      | u8      | version (1)                                                  |
 * | 5      | u8      | codec: 3 Opus                                                |
 * | 6      | u8      | flags: bit 0 = keyframe (always set: every Opus packet is)   |
 * | 7      | u8      | channels: 1 or 2                                             |
 * | 8      | f64     | capture time of its first sample, ms since the Unix epoch    |
 * | 16     | f64     | presentation timestamp, µs since the audio started           |
 * | 24     | bytes   | one Opus packet (48 kHz)                                     |
 *
 * The capture time runs on the same clock as the video frames' capture time, so a receiver can play both in sync.
 */
export const MQTT_AUDIO = { codec: 3, sampleRate: 48_000 } as const;

/** One decoded MQTT audio message. */
export interface MqttAudioMessage {
  /** 1 (mono) or 2 (stereo). */
  channels: 1 | 2;
  /** Capture wall-clock time of the packet's first sample, in ms since the Unix epoch. */
  captureTimeMs: number;
  /** Presentation time of its first sample since the audio started, in µs. */
  timestampUs: number;
  /** One Opus packet (a view on the payload, no copy). */
  data: Uint8Array;
}

/** The topic of a stream's audio: `<topicPrefix>/<streamId>/audio`, beside its `frame` topic. */
export function mqttAudioTopic(topicPrefix: string, streamId: string): string {
  return `${topicPrefix.replace(/\/+$/, '')}/${streamId}/audio`;
}

/** Builds an audio message (header + Opus packet) ready to publish. */
export function encodeMqttAudio(message: MqttAudioMessage): Uint8Array {
  return encodeMqttMessage([MQTT_AUDIO.codec, 1, message.channels], message);
}

/**
 * Parses a received audio message. Throws a non-fatal `FW_ERR_MQTT_PAYLOAD_INVALID` for a payload without the
 * `FWMQ` header, of an unknown version, with another codec than Opus, a channel count other than 1 or 2, no packet,
 * non-finite times, or more than `maxPayloadBytes`.
 */
export function decodeMqttAudio(payload: Uint8Array, maxPayloadBytes: number): MqttAudioMessage {
  const invalid = (why: string): FramewireError =>
    new FramewireError('FW_ERR_MQTT_PAYLOAD_INVALID', `MQTT audio message dropped: ${why}`, {
      stage: 'mqtt',
      details: { bytes: payload.length },
    });
  if (payload.length > maxPayloadBytes)
    throw invalid(`${payload.length} bytes, more than maxPayloadBytes (${maxPayloadBytes})`);
  const magic = String.fromCharCode(...payload.subarray(0, 4));
  if (payload.length < MQTT_FRAME.headerBytes || magic !== MQTT_FRAME.magic)
    throw invalid('not a framewire audio message (FWMQ header)');
  if (payload[4] !== MQTT_FRAME.version) throw invalid(`unknown version ${payload[4]}`);
  if (payload[5] !== MQTT_AUDIO.codec) throw invalid(`codec ${payload[5]} is not Opus (${MQTT_AUDIO.codec})`);
  const channels = payload[7];
  if (channels !== 1 && channels !== 2) throw invalid(`${channels} channels (1 or 2)`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const captureTimeMs = view.getFloat64(8, true);
  const timestampUs = view.getFloat64(16, true);
  if (!Number.isFinite(captureTimeMs) || !Number.isFinite(timestampUs)) throw invalid('non-finite times');
  const data = payload.subarray(MQTT_FRAME.headerBytes);
  if (data.length === 0) throw invalid('empty packet');
  return { channels, captureTimeMs, timestampUs, data };
}
