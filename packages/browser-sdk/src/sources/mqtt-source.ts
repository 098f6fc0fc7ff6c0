import {
  FramewireError,
  MQTT_AUDIO,
  MQTT_DEFAULT_TOPIC_PREFIX,
  assertOption,
  avcCodecOfSps,
  createLogger,
  decodeMqttAudio,
  decodeMqttFrame,
  findSpsUnit,
  mqttAudioTopic,
  mqttFrameTopic,
} from '@framewire/core';
import type { WsAudioConfigMessage } from '@framewire/core/bridge-protocol';
import type { MqttJsClient } from '../core/mqtt-loader.js';
import { connectBroker, validateBrokerOptions, type MqttBrokerOptions } from '../network/mqtt-connect.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import { OpusTrackDecoder } from './opus-track-decoder.js';
import { AudioHoldback } from './audio-holdback.js';
import { assertSecureContext } from '../core/secure-context.js';

const log = createLogger('mqtt-source');

/** Options of {@link MqttSource.open}. */
export interface MqttSourceOptions extends MqttBrokerOptions {
  /** Largest accepted message, in bytes; larger ones are dropped with `FW_ERR_MQTT_PAYLOAD_INVALID`. Default: 16 MiB. */
  maxPayloadBytes?: number;
  /** Queue settings. Default: `latest` policy, 2 frames. */
  queue?: SourceQueueOptions;
  /**
   * Also subscribe to the stream's audio (`<topicPrefix>/<streamId>/audio`, the Opus packets of a bridge started
   * with `--mqtt-h264 --mqtt-audio --audio …`) and decode it into {@link MqttSource.audioTrack}. Needs
   * `AudioDecoder` and `MediaStreamTrackGenerator` (Chromium); elsewhere it is ignored with a warning. Each packet is
   * held by the H.264 video's extra capture-to-decoded delay, so that sound and picture play in sync. Default: `false`.
   */
  audio?: boolean;
}

/** JPEGs decoding at once; newer messages are skipped undecoded meanwhile (the newest picture wins). */
const MAX_IN_FLIGHT = 2;

/**
 * Frames published to an MQTT broker (by the bridge's `MqttOutput`, an `MqttOutput` or any publisher of JPEG
 * messages), received over MQTT-over-WebSocket with mqtt.js (loaded lazily) and decoded to `VideoFrame`s that
 * carry the publisher's capture time. JPEG messages are decoded with ImageDecoder, H.264 access units (Annex B,
 * SPS and PPS in keyframes) with a WebCodecs VideoDecoder. A retained snapshot arrives first. The broker going away
 * is a non-fatal `FW_ERR_NETWORK_FAILED` (the source reconnects); malformed or oversize messages are dropped with a
 * non-fatal `FW_ERR_MQTT_PAYLOAD_INVALID`; an H.264 profile the browser cannot decode is one non-fatal
 * `FW_ERR_CODEC_UNSUPPORTED`.
 *
 * @example
 * ```ts
 * const source = await MqttSource.open({ url: 'ws://broker:9001', streamId: 'cam1' });
 * for await (const frame of source) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * ```
 */
export class MqttSource extends QueuedFrameSource {
  /** The subscribed topic. */
  readonly topic: string;
  /** The subscribed audio topic (with `audio: true`), else `undefined`. */
  readonly audioTopic: string | undefined;
  readonly #maxPayloadBytes: number;
  #client: MqttJsClient | undefined;
  #inFlight = 0;
  #skipped = 0;
  #h264: VideoDecoder | undefined;
  #h264Codec = '';
  /** Capture times of H.264 frames in the decoder, by timestamp (µs), and whether each was a retained message. */
  readonly #h264Captures = new Map<number, { captureTimeMs: number; retained: boolean }>();
  #reportedCodec = false;
  #audio: OpusTrackDecoder | undefined;
  #audioPackets = 0;
  #badAudioMessages = 0;
  /** Holds the audio by the H.264 video's extra delay, so that the two play in sync. */
  readonly #holdback = new AudioHoldback();

  private constructor(topic: string, options: MqttSourceOptions) {
    super('mqtt', options.queue, 'latest');
    this.topic = topic;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? 16 * 1024 * 1024;
    const prefix = options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX;
    this.audioTopic = options.audio ? mqttAudioTopic(prefix, options.streamId) : undefined;
  }

  /**
   * Connects, subscribes, and resolves once the broker acknowledged the subscription. Rejects with
   * `FW_ERR_INVALID_OPTION`, `FW_ERR_MQTT_REFUSED`, `FW_ERR_NETWORK_FAILED` or `FW_ERR_LAZY_LOAD_FAILED`.
   */
  static async open(options: MqttSourceOptions): Promise<MqttSource> {
    validateBrokerOptions(options);
    assertSecureContext('MqttSource', 'decode');
    const max = options.maxPayloadBytes;
    assertOption(
      max === undefined || (Number.isInteger(max) && max > 0),
      'options.maxPayloadBytes must be an integer > 0',
    );
    assertOption([undefined, false, true].includes(options.audio), 'options.audio must be a boolean');
    const topic = mqttFrameTopic(options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX, options.streamId);
    const source = new MqttSource(topic, options);
    try {
      const client = await connectBroker(options, (error) => source.fail(error));
      source.#client = client;
      source.#openAudio();
      const audioTopic = source.audioTopic;
      client.on('message', (messageTopic, payload, packet) => {
        if (messageTopic === audioTopic) source.#onAudioMessage(payload);
        else source.#onMessage(payload, packet.retain);
      });
      const topics = audioTopic === undefined ? [topic] : [topic, audioTopic];
      // Subscribe again after each reconnection (mqtt.js resubscribes too; a duplicate SUBSCRIBE is harmless).
      await new Promise<void>((resolve, reject) =>
        client.subscribe(topics, { qos: 0 }, (error) =>
          error
            ? reject(
                new FramewireError(
                  'FW_ERR_MQTT_REFUSED',
                  `MQTT broker refused the subscription to ${topics.join(', ')}`,
                  {
                    cause: error,
                    fatal: true,
                    stage: 'mqtt',
                  },
                ),
              )
            : resolve(),
        ),
      );
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  /** Messages skipped undecoded because the decoder was still busy with newer ones. */
  get skipped(): number {
    return this.#skipped;
  }

  /**
   * The stream's audio as a live track (with `audio: true` where the browser can decode it, set when `open()`
   * resolves; stereo, silent until the first packet): play it (`audio.srcObject = new MediaStream([track])`) or give
   * it to a `Recorder`. `undefined` without `audio`. It ends with `close()`.
   */
  get audioTrack(): MediaStreamTrack | undefined {
    return this.#audio?.track;
  }

  /** Opus packets received on the audio topic and handed to the decoder. */
  get audioPackets(): number {
    return this.#audioPackets;
  }

  /** Audio messages dropped as malformed (each one a non-fatal `FW_ERR_MQTT_PAYLOAD_INVALID` error event). */
  get badAudioMessages(): number {
    return this.#badAudioMessages;
  }

  protected async release(): Promise<void> {
    this.#audio?.close();
    if (this.#h264 && this.#h264.state !== 'closed') this.#h264.close();
    this.#h264 = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  #openAudio(): void {
    if (this.audioTopic === undefined) return;
    if (!OpusTrackDecoder.supported) {
      log.warn('this browser cannot decode MQTT audio (no AudioDecoder or MediaStreamTrackGenerator)');
      return;
    }
    // Stereo whatever the publisher's channel count: an Opus decoder renders mono packets to two channels.
    const config: WsAudioConfigMessage = {
      type: 'audio-config',
      codec: 'opus',
      sampleRate: MQTT_AUDIO.sampleRate,
      numberOfChannels: 2,
    };
    this.#audio = new OpusTrackDecoder(config, (error) => {
      if (!this.ended) this.fail(error);
    });
  }

  #onAudioMessage(payload: Uint8Array): void {
    if (this.ended) return;
    let message;
    try {
      message = decodeMqttAudio(payload, this.#maxPayloadBytes);
    } catch (error) {
      this.#badAudioMessages++;
      log.warn((error as FramewireError).message);
      this.fail(error as FramewireError);
      return;
    }
    this.#audioPackets++;
    this.#audio?.decode(
      { sequence: this.#audioPackets, timestampUs: message.timestampUs, captureTimeMs: message.captureTimeMs },
      message.data,
      this.#holdback.holdMs(message.captureTimeMs),
    );
  }

  #onMessage(payload: Uint8Array, retained: boolean): void {
    if (this.ended) return;
    let message;
    try {
      message = decodeMqttFrame(payload, this.#maxPayloadBytes);
    } catch (error) {
      this.fail(error as FramewireError);
      return;
    }
    if (message.codec === 'h264') {
      this.#decodeH264(message.data, message.key, message.timestampUs, message.captureTimeMs ?? Date.now(), retained);
      return;
    }
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.#skipped++;
      return;
    }
    this.#inFlight++;
    const captureTimeMs = message.captureTimeMs ?? Date.now();
    decodeJpeg(message.data, message.timestampUs)
      .then(async (frame) => {
        if (this.ended) frame.close();
        else await this.deliver(frame, captureTimeMs);
      })
      .catch((error: unknown) => {
        this.fail(
          new FramewireError('FW_ERR_DECODE_FAILED', 'MqttSource: a JPEG message could not be decoded', {
            cause: error,
            stage: 'decode',
          }),
        );
      })
      .finally(() => this.#inFlight--);
  }

  /**
   * H.264 access units (Annex B) go to a WebCodecs VideoDecoder, configured from the SPS of the first keyframe;
   * until then, and after a decoder error or a backlog, delta frames are skipped until the next keyframe. A
   * `retained` message (the broker's snapshot, captured long ago) is shown but does not count in the audio's hold.
   */
  #decodeH264(data: Uint8Array, key: boolean, timestampUs: number, captureTimeMs: number, retained: boolean): void {
    if (!this.#h264 || this.#h264.state !== 'configured') {
      if (!key) {
        this.#skipped++;
        return;
      }
      const sps = findSpsUnit(data);
      const codec = sps && avcCodecOfSps(sps);
      if (!codec) {
        this.#skipped++;
        return;
      }
      this.#h264Codec = codec;
      this.#h264 = new VideoDecoder({
        output: (frame) => {
          const captured = this.#h264Captures.get(frame.timestamp);
          this.#h264Captures.delete(frame.timestamp);
          if (captured && !captured.retained) this.#holdback.videoDecoded(captured.captureTimeMs);
          if (this.ended) frame.close();
          else void this.deliver(frame, captured?.captureTimeMs);
        },
        error: (error) => {
          this.#h264 = undefined;
          this.#h264Captures.clear();
          const unsupported = error.name === 'NotSupportedError';
          if (unsupported && this.#reportedCodec) return;
          this.#reportedCodec ||= unsupported;
          this.fail(
            new FramewireError(
              unsupported ? 'FW_ERR_CODEC_UNSUPPORTED' : 'FW_ERR_DECODE_FAILED',
              `MqttSource: H.264 (${this.#h264Codec}) ${unsupported ? 'is not supported here' : 'decoding failed'}`,
              { cause: error, stage: 'decode' },
            ),
          );
        },
      });
      // No description: the chunks are Annex B, with SPS and PPS in each keyframe.
      this.#h264.configure({ codec, optimizeForLatency: true });
    } else if (this.#h264.decodeQueueSize > 4 && !key) {
      // A backlog: skip to the next keyframe rather than let latency grow.
      this.#skipped++;
      this.#h264.reset();
      this.#h264Captures.clear();
      return;
    }
    this.#h264Captures.set(timestampUs, { captureTimeMs, retained });
    this.#h264.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: timestampUs, data }));
  }
}

async function decodeJpeg(jpeg: Uint8Array, timestamp: number): Promise<VideoFrame> {
  const decoder = new ImageDecoder({ data: jpeg as Uint8Array<ArrayBuffer>, type: 'image/jpeg' });
  try {
    const { image } = await decoder.decode();
    try {
      return new VideoFrame(image, { timestamp });
    } finally {
      image.close();
    }
  } finally {
    decoder.close();
  }
}
