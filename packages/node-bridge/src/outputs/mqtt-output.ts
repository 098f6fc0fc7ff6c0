import type { MqttClient } from 'mqtt';
import {
  type FramewireError,
  MQTT_DEFAULT_TOPIC_PREFIX,
  TypedEmitter,
  assertOption,
  createLogger,
  encodeMqttAudio,
  encodeMqttFrame,
  mqttAudioTopic,
  mqttFrameTopic,
} from '@framewire/core';
import type { AudioInfo, AudioPacket } from '../media/audio-packet.js';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import { connectMqtt, validateMqttConnection, type MqttConnectionOptions } from '../mqtt/mqtt-connection.js';

/**
 * Something that emits frames (any bridge source, `MqttSource`, …): `on('frame', ({ frame }) => …)`. Raw frames are
 * ignored by the MQTT output, which publishes encoded ones.
 */
export interface EncodedFrameEmitter {
  /** Subscribes to frames; returns the unsubscribe function. */
  on(event: 'frame', listener: (payload: { frame: SourceFrame }) => void): () => void;
}

/** A source's audio (any bridge source with `--audio`): what it is and `on('audio', ({ packet }) => …)`. */
export interface AudioPacketEmitter {
  /** The source's audio, or `undefined` when it has none. */
  readonly audio?: AudioInfo | undefined;
  /** Subscribes to Opus packets; returns the unsubscribe function. */
  on(event: 'audio', listener: (payload: { packet: AudioPacket }) => void): () => void;
}

/** Options of {@link MqttOutput}. */
export interface MqttOutputOptions extends MqttConnectionOptions {
  /** The stream id in the topic `<topicPrefix>/<streamId>/frame`. Required. */
  streamId: string;
  /**
   * `framed`: each message is framewire's 24-byte header (codec, keyframe flag, capture time, timestamp) and the
   * frame; `bare`: the JPEG alone, for subscribers that expect plain JPEG messages (other codecs are skipped).
   * Default: `framed`.
   */
  payload?: 'framed' | 'bare';
  /** Codecs to publish, in the source's `codec` naming. Default: `['jpeg']`; add `h264` for H.264 access units. */
  codecs?: string[];
  /**
   * Publish keyframes retained, so a subscriber that joins late gets the newest snapshot at once.
   * Default: `true`.
   */
  retain?: boolean;
  /** MQTT QoS of frame messages. Default: 0 (a lost frame is not resent; a newer one follows). */
  qos?: 0 | 1;
  /**
   * Also publish the source's Opus packets (the `audio` argument of the constructor), never retained, to
   * `<topicPrefix>/<streamId>/audio` (see `encodeMqttAudio`), on the capture clock of the frames. Needs `h264` in
   * `codecs` and `framed` payloads. Default: `false` (subscribers of the frame topic see no change either way).
   */
  audio?: boolean;
}

/** Counters of an {@link MqttOutput}. */
export interface MqttOutputStats {
  /** Messages handed to the broker connection. */
  published: number;
  /** Frames skipped because the previous message was still being written or the broker was away. */
  dropped: number;
  /** Opus packets handed to the broker connection (with `audio: true`). */
  audioPublished: number;
  /** Opus packets skipped because the broker was away. */
  audioDropped: number;
}

/** Events of an {@link MqttOutput}. */
export type MqttOutputEvents = {
  /** Connected (again) to the broker. */
  connect: Record<string, never>;
  /**
   * The broker went away (`FW_ERR_NETWORK_FAILED`, non-fatal: the output reconnects) or refused the credentials
   * (`FW_ERR_MQTT_REFUSED`, fatal).
   */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('mqtt-output');

/**
 * Publishes the frames of a source to an MQTT broker (WebCam's MQTT streaming, on any broker): JPEG by default,
 * QoS 0, keyframes retained for late joiners. A slow broker connection never makes the bridge buffer: while a
 * message is still being written, newer frames replace the pending one (the newest frame wins).
 */
export class MqttOutput {
  /** The topic frames are published to. */
  readonly topic: string;
  /** The topic Opus packets are published to (with `audio: true` and a source with audio), else `undefined`. */
  readonly audioTopic: string | undefined;
  readonly #options: MqttOutputOptions;
  readonly #events = new TypedEmitter<MqttOutputEvents>();
  readonly #client: MqttClient;
  readonly #unsubscribe: () => void;
  readonly #unsubscribeAudio: () => void;
  readonly #stats: MqttOutputStats = { published: 0, dropped: 0, audioPublished: 0, audioDropped: 0 };
  #pending: EncodedFrame | undefined;
  #writing = false;
  #closing: Promise<void> | undefined;

  /**
   * Connects to the broker and publishes every frame `source` emits from now on, and with `options.audio` every
   * Opus packet of `audio` (when it has audio).
   */
  constructor(source: EncodedFrameEmitter, options: MqttOutputOptions, audio?: AudioPacketEmitter) {
    validateMqttConnection(options);
    assertOption(
      typeof options.streamId === 'string' && /^[^/#+]+$/.test(options.streamId),
      'options.streamId must be a non-empty topic level without / # +',
    );
    assertOption([undefined, 'framed', 'bare'].includes(options.payload), "options.payload must be 'framed' or 'bare'");
    assertOption([undefined, 0, 1].includes(options.qos), 'options.qos must be 0 or 1');
    assertOption(
      options.codecs === undefined ||
        (Array.isArray(options.codecs) && options.codecs.every((c) => c === 'jpeg' || c === 'h264')),
      "options.codecs must list 'jpeg' and/or 'h264'",
    );
    assertOption([undefined, false, true].includes(options.audio), 'options.audio must be a boolean');
    assertOption(
      !options.audio || (options.codecs?.includes('h264') === true && options.payload !== 'bare'),
      "options.audio needs 'h264' in options.codecs and framed payloads",
    );
    this.#options = options;
    this.topic = mqttFrameTopic(options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX, options.streamId);
    this.#client = connectMqtt(options, (error) => {
      log.warn(error.message);
      this.#events.emit('error', { error, fatal: error.fatal });
    });
    this.#client.on('connect', () => this.#events.emit('connect', {}));
    this.#unsubscribe = source.on('frame', ({ frame }) => {
      if (!isRawFrame(frame)) this.#offer(frame);
    });
    const channels = options.audio ? audio?.audio?.channels : undefined;
    if (audio && (channels === 1 || channels === 2)) {
      const audioTopic = mqttAudioTopic(options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX, options.streamId);
      this.audioTopic = audioTopic;
      this.#unsubscribeAudio = audio.on('audio', ({ packet }) => this.#publishAudio(audioTopic, channels, packet));
    } else {
      if (options.audio) log.info(`${options.streamId} has no audio: publishing video only`);
      this.audioTopic = undefined;
      this.#unsubscribeAudio = () => undefined;
    }
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof MqttOutputEvents>(event: E, listener: (payload: MqttOutputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** True while connected to the broker. */
  get connected(): boolean {
    return this.#client.connected;
  }

  /** A snapshot of the counters. */
  get stats(): MqttOutputStats {
    return { ...this.#stats };
  }

  /**
   * Stops publishing and disconnects, after the message being written. The retained snapshot stays on the broker.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unsubscribe();
      this.#unsubscribeAudio();
      this.#pending = undefined;
      await new Promise<void>((resolve) => this.#client.end(false, {}, () => resolve()));
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  #offer(frame: EncodedFrame): void {
    if (this.#closing) return;
    if (!(this.#options.codecs ?? ['jpeg']).includes(frame.codec)) return;
    if (this.#options.payload === 'bare' && frame.codec !== 'jpeg') return;
    if (!this.#client.connected) {
      this.#stats.dropped++;
      return;
    }
    if (this.#writing) {
      if (!this.#pending) {
        this.#pending = frame;
        return;
      }
      this.#stats.dropped++;
      // Never replace a pending keyframe with a delta frame: the delta could not be decoded without it.
      if (frame.key || !this.#pending.key) this.#pending = frame;
      return;
    }
    this.#publish(frame);
  }

  /** Opus packets are small and each one counts: published as they come (QoS 0, never retained). */
  #publishAudio(topic: string, channels: 1 | 2, packet: AudioPacket): void {
    if (this.#closing) return;
    if (!this.#client.connected) {
      this.#stats.audioDropped++;
      return;
    }
    const message = encodeMqttAudio({
      channels,
      captureTimeMs: packet.captureTimeMs,
      timestampUs: packet.timestampUs,
      data: packet.data,
    });
    this.#stats.audioPublished++;
    this.#client.publish(topic, Buffer.from(message.buffer, message.byteOffset, message.byteLength), {
      qos: 0,
      retain: false,
    });
  }

  #publish(frame: EncodedFrame): void {
    const payload =
      this.#options.payload === 'bare'
        ? frame.data
        : Buffer.from(
            encodeMqttFrame({
              codec: frame.codec as 'jpeg' | 'h264',
              key: frame.key,
              captureTimeMs: frame.captureTimeMs,
              timestampUs: frame.timestampUs,
              data: frame.data,
            }).buffer,
          );
    this.#writing = true;
    this.#stats.published++;
    this.#client.publish(
      this.topic,
      payload,
      { qos: this.#options.qos ?? 0, retain: (this.#options.retain ?? true) && frame.key },
      () => {
        this.#writing = false;
        const next = this.#pending;
        this.#pending = undefined;
        if (next && !this.#closing && this.#client.connected) this.#publish(next);
      },
    );
  }
}
