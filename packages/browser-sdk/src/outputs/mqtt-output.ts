import {
  FramewireError,
  MQTT_DEFAULT_TOPIC_PREFIX,
  TypedEmitter,
  assertOption,
  encodeMqttFrame,
  mqttFrameTopic,
} from '@framewire/core';
import { getCaptureTime } from '../core/capture-time.js';
import type { MqttJsClient } from '../core/mqtt-loader.js';
import { connectBroker, validateBrokerOptions, type MqttBrokerOptions } from '../network/mqtt-connect.js';

/** Options of {@link MqttOutput.open}. */
export interface MqttOutputOptions extends MqttBrokerOptions {
  /** JPEG quality, 0–1. Default: 0.8. */
  jpegQuality?: number;
  /** Publish each frame retained, so a subscriber that joins late gets the newest snapshot. Default: `true`. */
  retain?: boolean;
}

/** Counters of an {@link MqttOutput}. */
export interface MqttOutputStats {
  /** Frames published. */
  published: number;
  /** Frames skipped because the previous one was still being encoded or sent, or the broker was away. */
  dropped: number;
}

/** Events of an {@link MqttOutput}. */
export type MqttOutputEvents = {
  /** The broker went away (non-fatal, reconnecting) or refused the credentials (fatal). */
  error: { error: FramewireError; fatal: boolean };
};

/**
 * Publishes `VideoFrame`s as JPEG frame messages to an MQTT broker over WebSocket (mqtt.js, loaded lazily), in
 * the bridge's format, with each frame's capture time: a browser camera becomes an MQTT stream that the bridge's
 * `MqttSource`, another page's `MqttSource` or any MQTT client can read. QoS 0; while a frame is still being
 * encoded or sent, newer frames are dropped (the sink never queues).
 */
export class MqttOutput {
  /** The topic frames are published to. */
  readonly topic: string;
  readonly #client: MqttJsClient;
  readonly #quality: number;
  readonly #retain: boolean;
  readonly #events: TypedEmitter<MqttOutputEvents>;
  readonly #stats: MqttOutputStats = { published: 0, dropped: 0 };
  readonly #startMs = performance.now();
  #canvas: OffscreenCanvas | undefined;
  #busy = false;
  #closing: Promise<void> | undefined;
  #writable: WritableStream<VideoFrame> | undefined;

  private constructor(
    topic: string,
    client: MqttJsClient,
    options: MqttOutputOptions,
    events: TypedEmitter<MqttOutputEvents>,
  ) {
    this.topic = topic;
    this.#client = client;
    this.#quality = options.jpegQuality ?? 0.8;
    this.#retain = options.retain ?? true;
    this.#events = events;
  }

  /** Connects. Rejects with `FW_ERR_INVALID_OPTION`, `FW_ERR_MQTT_REFUSED`, `FW_ERR_NETWORK_FAILED` or `FW_ERR_LAZY_LOAD_FAILED`. */
  static async open(options: MqttOutputOptions): Promise<MqttOutput> {
    validateBrokerOptions(options);
    const quality = options.jpegQuality;
    assertOption(quality === undefined || (quality >= 0 && quality <= 1), 'options.jpegQuality must be in 0..1');
    const events = new TypedEmitter<MqttOutputEvents>();
    const client = await connectBroker(options, (error) => events.emit('error', { error, fatal: error.fatal }));
    return new MqttOutput(
      mqttFrameTopic(options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX, options.streamId),
      client,
      options,
      events,
    );
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof MqttOutputEvents>(event: E, listener: (payload: MqttOutputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** A snapshot of the counters. */
  get stats(): MqttOutputStats {
    return { ...this.#stats };
  }

  /** A stream to pipe a source into (`source.readable.pipeTo(sink.writable)`); it never applies backpressure. */
  get writable(): WritableStream<VideoFrame> {
    this.#writable ??= new WritableStream<VideoFrame>({
      write: (frame) => {
        void this.write(frame);
      },
    });
    return this.#writable;
  }

  /**
   * Publishes `frame` as JPEG and closes it (the sink takes ownership). Resolves `true` once sent to the broker,
   * `false` when the frame was dropped (busy, offline or closed). Throws `FW_ERR_ENCODE_FAILED` if the JPEG encoding fails.
   */
  async write(frame: VideoFrame): Promise<boolean> {
    if (this.#busy || this.#closing || !this.#client.connected) {
      frame.close();
      this.#stats.dropped++;
      return false;
    }
    this.#busy = true;
    try {
      const captureTimeMs = getCaptureTime(frame) ?? Date.now();
      const timestampUs = frame.timestamp;
      let jpeg: Uint8Array;
      try {
        jpeg = await this.#encode(frame);
      } catch (error) {
        throw new FramewireError('FW_ERR_ENCODE_FAILED', 'MqttOutput: JPEG encoding failed', {
          cause: error,
          stage: 'encode',
        });
      } finally {
        frame.close();
      }
      const payload = encodeMqttFrame({
        codec: 'jpeg',
        key: true,
        captureTimeMs,
        timestampUs: timestampUs || (performance.now() - this.#startMs) * 1000,
        data: jpeg,
      });
      await new Promise<void>((resolve) =>
        this.#client.publish(this.topic, payload, { qos: 0, retain: this.#retain }, () => resolve()),
      );
      this.#stats.published++;
      return true;
    } finally {
      this.#busy = false;
    }
  }

  /** Disconnects (the retained snapshot stays on the broker). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => this.#client.end(false, {}, () => resolve())).then(() =>
      this.#events.removeAllListeners(),
    );
    return this.#closing;
  }

  async #encode(frame: VideoFrame): Promise<Uint8Array> {
    const { displayWidth: width, displayHeight: height } = frame;
    if (this.#canvas?.width !== width || this.#canvas.height !== height)
      this.#canvas = new OffscreenCanvas(width, height);
    const context = this.#canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    context.drawImage(frame, 0, 0);
    const blob = await this.#canvas.convertToBlob({ type: 'image/jpeg', quality: this.#quality });
    return new Uint8Array(await blob.arrayBuffer());
  }
}

/**
 * The earlier name of {@link MqttOutput}.
 * @deprecated Use `MqttOutput` (the bridge's class for the same job has that name). Kept for one release.
 */
export const MqttSink = MqttOutput;
/**
 * The earlier name of {@link MqttOutput}.
 * @deprecated Use `MqttOutput`. Kept for one release.
 */
export type MqttSink = MqttOutput;
/**
 * The earlier name of {@link MqttOutputOptions}.
 * @deprecated Use `MqttOutputOptions`. Kept for one release.
 */
export type MqttSinkOptions = MqttOutputOptions;
