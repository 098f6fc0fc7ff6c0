import type { MqttClient } from 'mqtt';
import {
  FramewireError,
  MQTT_AUDIO,
  MQTT_DEFAULT_TOPIC_PREFIX,
  assertOption,
  createLogger,
  decodeMqttAudio,
  decodeMqttFrame,
  mqttAudioTopic,
  mqttFrameTopic,
} from '@framewire/core';
import { connectMqtt, validateMqttConnection, type MqttConnectionOptions } from '../mqtt/mqtt-connection.js';
import type { EncodedFrame } from '../media/encoded-frame.js';
import type { AudioPacket } from '../media/audio-packet.js';
import { opusPacketSamples } from '../media/ogg-opus-demuxer.js';
import { SourceBase } from './source-base.js';
import type { VideoSourceEvents } from './video-source.js';

/** Options of {@link MqttSource}. */
export interface MqttSourceOptions extends MqttConnectionOptions {
  /** The stream id in the topics `<topicPrefix>/<streamId>/frame` and `…/audio`. Required. */
  streamId: string;
  /** The source id used in URLs and health (letters, digits, `_`, `.`, `-`). Default: `streamId`. */
  id?: string;
  /** Largest accepted message, in bytes; larger ones are dropped with `FW_ERR_MQTT_PAYLOAD_INVALID`. Default: 16 MiB. */
  maxPayloadBytes?: number;
}

/**
 * Events of an {@link MqttSource}: those of every source. `frame`: a frame arrived (a retained snapshot first, when
 * the broker has one). `audio`: an Opus packet arrived on the audio topic. `state`: `starting` → `running` once the
 * broker acknowledged the subscription, `restarting` while the broker is away, `stopped`. `error`: a message was not
 * a frame or an audio packet (`FW_ERR_MQTT_PAYLOAD_INVALID`, non-fatal, dropped), the broker went away
 * (`FW_ERR_NETWORK_FAILED`, non-fatal, reconnecting) or refused the credentials (`FW_ERR_MQTT_REFUSED`, fatal).
 */
export type MqttSourceEvents = Omit<VideoSourceEvents, 'frame'> & { frame: { frame: EncodedFrame } };

const log = createLogger('mqtt-source');

/**
 * A bridge source fed by an MQTT topic that an {@link MqttOutput} (or any publisher of JPEG messages) publishes
 * to: each message becomes an {@link EncodedFrame}. Subscribes at QoS 0 and reconnects when the broker goes away.
 * Frames of bare JPEG messages get their arrival time as capture time.
 *
 * It also subscribes to the stream's audio topic (`<topicPrefix>/<streamId>/audio`, published by a bridge started
 * with `--mqtt-h264 --mqtt-audio`): from the first Opus packet on, the source has `audio` (Opus, 48 kHz, the
 * publisher's channel count) and emits each packet, with the publisher's capture time, as an `audio` event, so that
 * the WebSocket, WebRTC and other outputs pass it on to their viewers beside the video. Viewers that joined before
 * the first packet get the audio when they connect again. A malformed audio message is dropped with a non-fatal
 * `FW_ERR_MQTT_PAYLOAD_INVALID` and counted in {@link badAudioMessages}.
 */
export class MqttSource extends SourceBase {
  /** The subscribed frame topic. */
  readonly topic: string;
  /** The subscribed audio topic. */
  readonly audioTopic: string;
  /** The broker's URL. */
  readonly brokerUrl: string;
  readonly #options: MqttSourceOptions;
  readonly #maxPayloadBytes: number;
  #client: MqttClient | undefined;
  #badAudioMessages = 0;

  /** Creates the source; `start()` connects and subscribes. */
  constructor(options: MqttSourceOptions) {
    validateMqttConnection(options);
    assertOption(
      typeof options.streamId === 'string' && /^[^/#+]+$/.test(options.streamId),
      'options.streamId must be a non-empty topic level without / # +',
    );
    const maxPayloadBytes = options.maxPayloadBytes ?? 16 * 1024 * 1024;
    assertOption(
      Number.isInteger(maxPayloadBytes) && maxPayloadBytes > 0,
      'options.maxPayloadBytes must be an integer > 0',
    );
    super(options.id ?? options.streamId, 'mqtt');
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#options = options;
    const prefix = options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX;
    this.topic = mqttFrameTopic(prefix, options.streamId);
    this.audioTopic = mqttAudioTopic(prefix, options.streamId);
    this.brokerUrl = options.url;
  }

  /** Subscribes to an event; returns the unsubscribe function. Frames are always {@link EncodedFrame}s. */
  override on<E extends keyof MqttSourceEvents>(
    event: E,
    listener: (payload: MqttSourceEvents[E]) => void,
  ): () => void {
    return super.on(event, listener as (payload: VideoSourceEvents[E]) => void);
  }

  /** The newest frame, for snapshots and late joiners. */
  override get latest(): EncodedFrame | undefined {
    return super.latest as EncodedFrame | undefined;
  }

  /** The newest keyframe: every JPEG frame is one; for H.264, the newest frame flagged key. */
  override get latestKey(): EncodedFrame | undefined {
    return super.latestKey as EncodedFrame | undefined;
  }

  /** Audio messages dropped as malformed (each one a non-fatal `FW_ERR_MQTT_PAYLOAD_INVALID` error event). */
  get badAudioMessages(): number {
    return this.#badAudioMessages;
  }

  /**
   * Connects and subscribes (no-op when started or closed). Resolves at once: a broker that is not up yet is
   * retried, with `restarting` in the health and a non-fatal error.
   */
  start(): Promise<void> {
    if (!this.#client && !this.closed) this.#connect();
    return Promise.resolve();
  }

  #connect(): void {
    this.setState('starting');
    const client = connectMqtt(this.#options, (error) => this.#fail(error));
    this.#client = client;
    const topics = [this.topic, this.audioTopic];
    client.on('connect', () => {
      const reconnected = this.state !== 'starting';
      client.subscribe(topics, { qos: 0 }, (error) => {
        if (error) {
          this.#fail(
            new FramewireError('FW_ERR_MQTT_REFUSED', `MQTT broker refused the subscription to ${topics.join(', ')}`, {
              cause: error,
              fatal: true,
              stage: 'mqtt',
            }),
          );
          return;
        }
        // Running once the broker acknowledged the subscription: from then on, every frame published reaches us.
        if (this.closed || this.#client !== client || this.state === 'failed') return;
        if (reconnected) this.countRestart();
        this.setState('running');
      });
    });
    client.on('message', (topic, payload) => {
      if (topic === this.audioTopic) this.#onAudioMessage(payload);
      else this.#onMessage(payload);
    });
  }

  /** Unsubscribes and disconnects. */
  protected async release(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  #onMessage(payload: Buffer): void {
    let message;
    try {
      message = decodeMqttFrame(payload, this.#maxPayloadBytes);
    } catch (error) {
      this.countDrop();
      this.#fail(error as FramewireError);
      return;
    }
    const frame: EncodedFrame = {
      codec: message.codec,
      key: message.key,
      data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
      timestampUs: message.timestampUs,
      captureTimeMs: message.captureTimeMs ?? Date.now(),
    };
    this.emitFrame(frame);
  }

  #onAudioMessage(payload: Buffer): void {
    let packet: AudioPacket;
    let channels: number;
    try {
      const message = decodeMqttAudio(payload, this.#maxPayloadBytes);
      let samples: number;
      try {
        samples = opusPacketSamples(message.data);
      } catch (cause) {
        throw new FramewireError('FW_ERR_MQTT_PAYLOAD_INVALID', `MQTT audio message dropped: ${String(cause)}`, {
          cause,
          stage: 'mqtt',
          details: { bytes: payload.length },
        });
      }
      channels = message.channels;
      packet = {
        codec: 'opus',
        data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
        timestampUs: message.timestampUs,
        durationUs: Math.round((samples * 1_000_000) / MQTT_AUDIO.sampleRate),
        captureTimeMs: message.captureTimeMs,
      };
    } catch (error) {
      this.#badAudioMessages++;
      this.#fail(error as FramewireError);
      return;
    }
    if (!this.audio) {
      log.info(`mqtt source "${this.id}": audio on ${this.audioTopic} (Opus, ${channels} channel(s))`);
      this.setAudio({ codec: 'opus', sampleRate: MQTT_AUDIO.sampleRate, channels });
    }
    this.emitAudio(packet);
  }

  #fail(error: FramewireError): void {
    if (this.closed) return;
    log.warn(error.message);
    if (error.code === 'FW_ERR_NETWORK_FAILED') this.setState('restarting');
    this.reportError(error);
    if (error.fatal) this.#client?.end(true);
  }
}
