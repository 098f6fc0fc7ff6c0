import { FramewireError, assertOption } from './framewire-error.js';

/**
 * The MQTT frame message (isomorphic: no DOM, no `node:`), shared by the bridge's `MqttOutput`/`MqttSource` and
 * the browser SDK's `MqttSource`/`MqttOutput`. Documented in docs/guides/mqtt.md. A message is a 24-byte header
 * followed by the encoded frame; all numbers little-endian:
 *
 * | offset | type    | field                                                  |
 * | ------ | ------- | ------------------------------------------------------ |
 * | 0      | char[4] | magic `FWMQ`                                           |
 * | 4      | u8      | version (1)                                            |
 * | 5      | u8      | codec: 1 JPEG, 2 H.264 (one Annex B access unit)       |
 * | 6      | u8      | flags: bit 0 = keyframe                                |
 * | 7      | u8      | reserved (0)                                           |
 * | 8      | f64     | capture time, ms since the Unix epoch                  |
 * | 16     | f64     | presentation timestamp, µs since the source started    |
 * | 24     | bytes   | the frame                                              |
 *
 * Receivers also accept a bare JPEG (a payload starting with `FF D8`), as WebCam-style publishers send.
 */
export const MQTT_FRAME = {
  magic: 'FWMQ',
  version: 1,
  headerBytes: 24,
  codecs: { jpeg: 1, h264: 2 },
} as const;

/** A codec that an MQTT frame message can carry. */
export type MqttFrameCodec = keyof typeof MQTT_FRAME.codecs;

/** One decoded MQTT frame message. */
export interface MqttFrameMessage {
  /** `jpeg` or `h264`. */
  codec: MqttFrameCodec;
  /** True for a keyframe (always for JPEG). */
  key: boolean;
  /** Capture wall-clock time, in ms since the Unix epoch; `undefined` for a bare JPEG. */
  captureTimeMs: number | undefined;
  /** Presentation time since the source started, in µs (0 for a bare JPEG). */
  timestampUs: number;
  /** The encoded frame (a view on the payload, no copy). */
  data: Uint8Array;
}

/** The default topic prefix of framewire's MQTT frames. */
export const MQTT_DEFAULT_TOPIC_PREFIX = 'framewire';

/** The topic of a stream's frames: `<topicPrefix>/<streamId>/frame`. */
export function mqttFrameTopic(topicPrefix: string, streamId: string): string {
  return `${topicPrefix.replace(/\/+$/, '')}/${streamId}/frame`;
}

/** Builds a frame message (header + frame bytes) ready to publish. */
export function encodeMqttFrame(
  message: Omit<MqttFrameMessage, 'captureTimeMs'> & { captureTimeMs: number },
): Uint8Array {
  return encodeMqttMessage([MQTT_FRAME.codecs[message.codec], message.key ? 1 : 0, 0], message);
}

/**
 * Builds any FWMQ message (frames and audio share the layout): the codec, flags and byte-7 values of `bytes`, then
 * the two times and `data`.
 */
export function encodeMqttMessage(
  [codec, flags, byte7]: [number, number, number],
  message: { captureTimeMs: number; timestampUs: number; data: Uint8Array },
): Uint8Array {
  const out = new Uint8Array(MQTT_FRAME.headerBytes + message.data.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MQTT_FRAME.magic.charCodeAt(i);
  out[4] = MQTT_FRAME.version;
  out[5] = codec;
  out[6] = flags;
  out[7] = byte7;
  view.setFloat64(8, message.captureTimeMs, true);
  view.setFloat64(16, message.timestampUs, true);
  out.set(message.data, MQTT_FRAME.headerBytes);
  return out;
}

/**
 * Parses a received payload: a framewire frame message or a bare JPEG. Throws a non-fatal
 * `FW_ERR_MQTT_PAYLOAD_INVALID` for anything else, for an unknown version or codec, and for a payload larger than
 * `maxPayloadBytes`.
 */
export function decodeMqttFrame(payload: Uint8Array, maxPayloadBytes: number): MqttFrameMessage {
  const invalid = (why: string): FramewireError =>
    new FramewireError('FW_ERR_MQTT_PAYLOAD_INVALID', `MQTT frame message dropped: ${why}`, {
      stage: 'mqtt',
      details: { bytes: payload.length },
    });
  if (payload.length > maxPayloadBytes)
    throw invalid(`${payload.length} bytes, more than maxPayloadBytes (${maxPayloadBytes})`);
  if (payload.length >= 2 && payload[0] === 0xff && payload[1] === 0xd8)
    return { codec: 'jpeg', key: true, captureTimeMs: undefined, timestampUs: 0, data: payload };
  const magic = String.fromCharCode(...payload.subarray(0, 4));
  if (payload.length < MQTT_FRAME.headerBytes || magic !== MQTT_FRAME.magic)
    throw invalid('neither a framewire frame message (FWMQ header) nor a JPEG');
  if (payload[4] !== MQTT_FRAME.version) throw invalid(`unknown version ${payload[4]}`);
  const codec = (Object.keys(MQTT_FRAME.codecs) as MqttFrameCodec[]).find((c) => MQTT_FRAME.codecs[c] === payload[5]);
  if (!codec) throw invalid(`unknown codec ${payload[5]}`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const data = payload.subarray(MQTT_FRAME.headerBytes);
  if (data.length === 0) throw invalid('empty frame');
  return {
    codec,
    key: ((payload[6] ?? 0) & 1) === 1,
    captureTimeMs: view.getFloat64(8, true),
    timestampUs: view.getFloat64(16, true),
    data,
  };
}

/** MQTT CONNACK codes that mean "these credentials will never work" (3.1.1: 4, 5; MQTT 5: 134, 135). */
const REFUSED_CODES = new Set([4, 5, 134, 135]);

/**
 * Maps an error of the mqtt.js client to a framewire error: `FW_ERR_MQTT_REFUSED` (fatal) when the broker refused
 * the credentials, otherwise a non-fatal `FW_ERR_NETWORK_FAILED` (the client reconnects).
 */
export function mqttClientError(error: unknown, url: string): FramewireError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && REFUSED_CODES.has(code))
    return new FramewireError('FW_ERR_MQTT_REFUSED', `MQTT broker ${url} refused the connection (code ${code})`, {
      cause: error,
      fatal: true,
      stage: 'mqtt',
      details: { code },
    });
  return new FramewireError('FW_ERR_NETWORK_FAILED', `MQTT broker ${url}: ${(error as Error).message}`, {
    cause: error,
    stage: 'mqtt',
  });
}

/** The connection options every MQTT client of framewire shares (browser and bridge), as {@link validateMqttTopicAndTiming} checks them. */
export interface MqttTopicAndTiming {
  /** Topic prefix; frames go to `<prefix>/<streamId>/frame`. */
  topicPrefix?: string | undefined;
  /** Delay between reconnection attempts, in ms. */
  reconnectPeriodMs?: number | undefined;
  /** How long a connection attempt may take, in ms. */
  connectTimeoutMs?: number | undefined;
}

/**
 * Checks the topic prefix and the reconnect/connect timings shared by every MQTT client; throws
 * `FW_ERR_INVALID_OPTION` naming the option. (Each side checks its own URL schemes.)
 */
export function validateMqttTopicAndTiming(options: MqttTopicAndTiming): void {
  const prefix = options.topicPrefix;
  assertOption(
    prefix === undefined || (typeof prefix === 'string' && prefix.length > 0 && !/[#+]/.test(prefix)),
    'options.topicPrefix must be a non-empty topic without wildcards',
  );
  const period = options.reconnectPeriodMs;
  assertOption(
    period === undefined || (Number.isFinite(period) && period >= 0),
    'options.reconnectPeriodMs must be >= 0',
  );
  const timeout = options.connectTimeoutMs;
  assertOption(
    timeout === undefined || (Number.isFinite(timeout) && timeout > 0),
    'options.connectTimeoutMs must be > 0',
  );
}
