import type { MqttClient } from 'mqtt';
import {
  FramewireError,
  MQTT_DEFAULT_TOPIC_PREFIX,
  TypedEmitter,
  assertOption,
  createLogger,
  decodeMqttFrame,
  mqttFrameTopic,
} from '@framewire/core';
import { connectMqtt, validateMqttConnection, type MqttConnectionOptions } from '../mqtt/mqtt-connection.js';
import type { SourceHealth, SourceState } from '../protocol.js';
import type { EncodedFrame } from '../media/encoded-frame.js';
import type { AudioPacket } from '../media/audio-packet.js';

/** Options of {@link MqttSource}. */
export interface MqttSourceOptions extends MqttConnectionOptions {
  /** The stream id in the topic `<topicPrefix>/<streamId>/frame`. Required. */
  streamId: string;
  /** The source id used in URLs and health. Default: `streamId`. */
  id?: string;
  /** Largest accepted message, in bytes; larger ones are dropped with `FW_ERR_MQTT_PAYLOAD_INVALID`. Default: 16 MiB. */
  maxPayloadBytes?: number;
}

/** Events of an {@link MqttSource}. */
export type MqttSourceEvents = {
  /** A frame arrived (a retained snapshot first, when the broker has one). */
  frame: { frame: EncodedFrame };
  /** Never emitted: frames over MQTT carry no audio (the field is part of every source's contract). */
  audio: { packet: AudioPacket };
  /**
   * The state changed (`starting` → `running` once the broker acknowledged the subscription, `restarting` while
   * the broker is away, `stopped`).
   */
  state: { state: SourceState };
  /**
   * A message was not a frame (`FW_ERR_MQTT_PAYLOAD_INVALID`, non-fatal, dropped), the broker went away
   * (`FW_ERR_NETWORK_FAILED`, non-fatal, reconnecting) or refused the credentials (`FW_ERR_MQTT_REFUSED`, fatal).
   */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('mqtt-source');

/**
 * A bridge source fed by an MQTT topic that an {@link MqttOutput} (or any publisher of JPEG messages) publishes
 * to: each message becomes an {@link EncodedFrame}. Subscribes at QoS 0 and reconnects when the broker goes away.
 * Frames of bare JPEG messages get their arrival time as capture time.
 */
export class MqttSource {
  /** The source id. */
  readonly id: string;
  /** The source kind, `mqtt`. */
  readonly kind = 'mqtt';
  /** The subscribed topic. */
  readonly topic: string;
  /** The broker's URL. */
  readonly brokerUrl: string;
  readonly #options: MqttSourceOptions;
  readonly #maxPayloadBytes: number;
  readonly #events = new TypedEmitter<MqttSourceEvents>();
  #client: MqttClient | undefined;
  #state: SourceState = 'stopped';
  #frames = 0;
  #bytes = 0;
  #dropped = 0;
  // Arrival times (ms) and sizes of the frames of the last second, for fps and bitrate.
  #recent: { atMs: number; bytes: number }[] = [];
  #restarts = 0;
  #lastError: string | undefined;
  #latest: EncodedFrame | undefined;
  #latestKey: EncodedFrame | undefined;
  #closed = false;

  /** Creates the source; `start()` connects and subscribes. */
  constructor(options: MqttSourceOptions) {
    validateMqttConnection(options);
    assertOption(
      typeof options.streamId === 'string' && /^[^/#+]+$/.test(options.streamId),
      'options.streamId must be a non-empty topic level without / # +',
    );
    this.#maxPayloadBytes = options.maxPayloadBytes ?? 16 * 1024 * 1024;
    assertOption(
      Number.isInteger(this.#maxPayloadBytes) && this.#maxPayloadBytes > 0,
      'options.maxPayloadBytes must be an integer > 0',
    );
    this.#options = options;
    this.id = options.id ?? options.streamId;
    this.topic = mqttFrameTopic(options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX, options.streamId);
    this.brokerUrl = options.url;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof MqttSourceEvents>(event: E, listener: (payload: MqttSourceEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The newest frame, for snapshots and late joiners. */
  get latest(): EncodedFrame | undefined {
    return this.#latest;
  }

  /** The newest keyframe: every JPEG frame is one; for H.264, the newest frame flagged key. */
  get latestKey(): EncodedFrame | undefined {
    return this.#latestKey;
  }

  /** The source's health. */
  get health(): SourceHealth {
    const health: SourceHealth = {
      id: this.id,
      kind: this.kind,
      state: this.#state,
      frames: this.#frames,
      fps: this.#recent.length,
      bytes: this.#bytes,
      bitrateBps: this.#recent.reduce((sum, r) => sum + r.bytes * 8, 0),
      dropped: this.#dropped,
      restarts: this.#restarts,
    };
    if (this.#lastError !== undefined) health.lastError = this.#lastError;
    return health;
  }

  /**
   * Connects and subscribes (no-op when started or closed). Resolves at once: a broker that is not up yet is
   * retried, with `restarting` in the health and a non-fatal error.
   */
  start(): Promise<void> {
    if (!this.#client && !this.#closed) this.#connect();
    return Promise.resolve();
  }

  #connect(): void {
    this.#setState('starting');
    const client = connectMqtt(this.#options, (error) => this.#fail(error));
    this.#client = client;
    client.on('connect', () => {
      const reconnected = this.#state !== 'starting';
      client.subscribe(this.topic, { qos: 0 }, (error) => {
        if (error) {
          this.#fail(
            new FramewireError('FW_ERR_MQTT_REFUSED', `MQTT broker refused the subscription to ${this.topic}`, {
              cause: error,
              fatal: true,
              stage: 'mqtt',
            }),
          );
          return;
        }
        // Running once the broker acknowledged the subscription: from then on, every frame published reaches us.
        if (this.#closed || this.#client !== client || this.#state === 'failed') return;
        if (reconnected) this.#restarts++;
        this.#setState('running');
      });
    });
    client.on('message', (_topic, payload) => this.#onMessage(payload));
  }

  /** Unsubscribes and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    this.#setState('stopped');
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    this.#events.removeAllListeners();
  }

  #onMessage(payload: Buffer): void {
    let message;
    try {
      message = decodeMqttFrame(payload, this.#maxPayloadBytes);
    } catch (error) {
      this.#dropped++;
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
    this.#frames++;
    this.#bytes += frame.data.length;
    const now = Date.now();
    this.#recent.push({ atMs: now, bytes: frame.data.length });
    while ((this.#recent[0]?.atMs ?? now) <= now - 1000) this.#recent.shift();
    this.#latest = frame;
    if (frame.key) this.#latestKey = frame;
    this.#events.emit('frame', { frame });
  }

  #fail(error: FramewireError): void {
    if (this.#closed) return;
    this.#lastError = error.code;
    log.warn(error.message);
    if (error.code === 'FW_ERR_NETWORK_FAILED') this.#setState('restarting');
    this.#events.emit('error', { error, fatal: error.fatal });
    if (error.fatal) {
      this.#client?.end(true);
      this.#setState('failed');
    }
  }

  #setState(state: SourceState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#events.emit('state', { state });
  }
}
