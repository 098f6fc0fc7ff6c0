import { keyframeIntervalOf } from '../core/keyframe-interval.js';
import { WorkerClientState } from '../core/worker-client-state.js';
import { FramewireError, TypedEmitter, assertOption } from '@framewire/core';
import { startSdkWorker } from '../core/sdk-asset-urls.js';
import { getCaptureTime } from '../core/capture-time.js';
import type { EncoderRequest, EncoderResponse } from './encoder-messages.js';
import { assertSecureContext } from '../core/secure-context.js';

/** Options of {@link WorkerVideoEncoder.open}. */
export interface WorkerVideoEncoderOptions {
  /** RFC 6381 codec string, e.g. `avc1.64001f`, `vp8`, `vp09.00.10.08`, `av01.0.04M.08`. Required. */
  codec: string;
  /** Encoded width in pixels. Required. */
  width: number;
  /** Encoded height in pixels. Required. */
  height: number;
  /** Target bitrate in bits per second. Default: 0.1 bits per pixel per frame (vidgear StreamGear's `-bpp`). */
  bitrateBps?: number;
  /** Nominal frame rate, used for rate control. Default: 30. */
  frameRate?: number;
  /** `realtime` favours low delay, `quality` favours compression. Default: `realtime`. */
  latencyMode?: LatencyMode;
  /** A keyframe every this many frames; 0 leaves it to the encoder. Default: 0. */
  keyframeIntervalFrames?: number;
  /**
   * The earlier spelling of `keyframeIntervalFrames`.
   * @deprecated Use `keyframeIntervalFrames` (docs/guides/names.md). Kept for one release.
   */
  keyFrameIntervalFrames?: number;
  /** Hardware acceleration preference. Default: `no-preference`. */
  hardwareAcceleration?: HardwareAcceleration;
  /**
   * Rate control: `variable` (default), `constant`, or `quantizer` (a fixed quantizer per frame, see `quantizer`;
   * highest quality for a given effort, bitrate is then ignored).
   */
  bitrateMode?: VideoEncoderBitrateMode;
  /**
   * The quantizer in `quantizer` mode: 0–51 for H.264, 0–63 for VP9 and AV1 (lower is better quality).
   * Default: 23 for H.264, 30 for VP9 and AV1.
   */
  quantizer?: number;
  /** Frames in flight in the worker before `encode()` waits (backpressure). Default: 4. */
  maxQueuedFrames?: number;
  /**
   * How a frame of another size than `width`×`height` is scaled: `fill` stretches it to the size, `contain` keeps
   * its aspect ratio and centres it between black bars (letterbox or pillarbox). Default: `fill`.
   */
  fit?: 'fill' | 'contain';
}

/** Events of a {@link WorkerVideoEncoder}. */
export type WorkerVideoEncoderEvents = {
  /** An encoded chunk, in decode order. `decoderConfig` is set on the first chunk and after a reconfigure. */
  chunk: { chunk: EncodedVideoChunk; decoderConfig: VideoDecoderConfig | undefined; captureTimeMs: number | undefined };
  /** An encoder failure; the encoder cannot continue. */
  error: { error: FramewireError; fatal: boolean };
};

/**
 * A WebCodecs `VideoEncoder` running in its own Worker (`workers/encoder.worker.js`).
 *
 * `encode()` transfers the frame to the worker (the caller gives up ownership) and waits while too many frames
 * are in flight; a frame of another size than configured (or with a rotation) is scaled to the configured size
 * in the worker (stretched, or letterboxed with `fit: 'contain'`), so a fast producer cannot flood memory. Chunks arrive as `chunk` events with the capture stamp
 * of their frame.
 */
export class WorkerVideoEncoder {
  /** The configuration the browser accepted. */
  readonly config: VideoEncoderConfig;
  readonly #worker: Worker;
  readonly #events: TypedEmitter<WorkerVideoEncoderEvents>;
  readonly #maxQueued: number;
  readonly #state = new WorkerClientState();
  #sent = 0;
  #done = 0;

  private constructor(
    worker: Worker,
    config: VideoEncoderConfig,
    events: TypedEmitter<WorkerVideoEncoderEvents>,
    maxQueued: number,
  ) {
    this.#worker = worker;
    this.config = config;
    this.#events = events;
    this.#maxQueued = maxQueued;
    worker.onmessage = (event: MessageEvent<EncoderResponse>) => this.#onMessage(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(
        new FramewireError('FW_ERR_WORKER_FAILED', `Encoder worker failed: ${event.message}`, {
          fatal: true,
          stage: 'encode',
        }),
      );
    };
  }

  /**
   * Starts the worker and configures the encoder. Rejects with `FW_ERR_INVALID_OPTION`,
   * `FW_ERR_CODEC_UNSUPPORTED`, `FW_ERR_NOT_SUPPORTED` (no WebCodecs) or `FW_ERR_WORKER_FAILED`.
   */
  static async open(options: WorkerVideoEncoderOptions): Promise<WorkerVideoEncoder> {
    assertOption(typeof options.codec === 'string' && options.codec.length > 0, 'options.codec must be a codec string');
    assertOption(Number.isInteger(options.width) && options.width > 0, 'options.width must be an integer > 0');
    assertOption(Number.isInteger(options.height) && options.height > 0, 'options.height must be an integer > 0');
    const frameRate = options.frameRate ?? 30;
    assertOption(frameRate > 0, 'options.frameRate must be > 0');
    const bitrate = options.bitrateBps ?? Math.round(options.width * options.height * frameRate * 0.1);
    assertOption(bitrate > 0, 'options.bitrateBps must be > 0');
    const interval = keyframeIntervalOf(options) ?? 0;
    assertOption(Number.isInteger(interval) && interval >= 0, 'options.keyframeIntervalFrames must be an integer ≥ 0');
    assertOption(
      (['fill', 'contain', undefined] as unknown[]).includes(options.fit),
      `options.fit must be 'fill' or 'contain'; got ${String(options.fit)}`,
    );
    const fit = options.fit ?? 'fill';
    const maxQueued = options.maxQueuedFrames ?? 4;
    assertOption(Number.isInteger(maxQueued) && maxQueued >= 1, 'options.maxQueuedFrames must be an integer ≥ 1');
    assertSecureContext('WorkerVideoEncoder', 'encode');
    if (typeof VideoEncoder !== 'function') {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'WebCodecs VideoEncoder is not available', {
        fatal: true,
        stage: 'encode',
      });
    }
    const config: VideoEncoderConfig = {
      codec: options.codec,
      width: options.width,
      height: options.height,
      bitrate,
      framerate: frameRate,
      latencyMode: options.latencyMode ?? 'realtime',
      hardwareAcceleration: options.hardwareAcceleration ?? 'no-preference',
    };
    const bitrateMode = options.bitrateMode ?? 'variable';
    assertOption(
      ['constant', 'variable', 'quantizer'].includes(bitrateMode),
      `options.bitrateMode must be constant, variable or quantizer; got ${bitrateMode}`,
    );
    if (bitrateMode !== 'variable') config.bitrateMode = bitrateMode;
    let quantizer: number | undefined;
    if (bitrateMode === 'quantizer') {
      const isAvc = options.codec.startsWith('avc');
      quantizer = options.quantizer ?? (isAvc ? 23 : 30);
      assertOption(
        Number.isInteger(quantizer) && quantizer >= 0 && quantizer <= (isAvc ? 51 : 63),
        `options.quantizer must be an integer from 0 to ${isAvc ? 51 : 63}; got ${String(options.quantizer)}`,
      );
    }
    // H.264 in Annex B would need start-code parsing by every consumer; `avc` gives length-prefixed NAL units
    // plus a decoder description, which is what MP4/CMAF muxers and VideoDecoder want.
    if (options.codec.startsWith('avc1') || options.codec.startsWith('avc3')) config.avc = { format: 'avc' };

    const worker = startSdkWorker(
      'encoder.worker.js',
      'framewire-encoder',
      () =>
        new Worker(new URL('./workers/encoder.worker.js', import.meta.url), {
          type: 'module',
          name: 'framewire-encoder',
        }),
    );
    const accepted = await new Promise<VideoEncoderConfig>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<EncoderResponse>) => {
        if (event.data.type === 'configured') resolve(event.data.config);
        else if (event.data.type === 'error')
          reject(new FramewireError(event.data.code, event.data.message, { fatal: true, stage: 'encode' }));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        reject(
          new FramewireError('FW_ERR_WORKER_FAILED', `Encoder worker failed to start: ${event.message}`, {
            fatal: true,
            stage: 'encode',
          }),
        );
      };
      const request: EncoderRequest = { type: 'configure', config, keyframeIntervalFrames: interval, quantizer, fit };
      worker.postMessage(request);
    }).catch((error: unknown) => {
      worker.terminate();
      throw error;
    });
    return new WorkerVideoEncoder(worker, accepted, new TypedEmitter(), maxQueued);
  }
  /**
   * The same as {@link WorkerVideoEncoder.open}.
   * @deprecated Use `WorkerVideoEncoder.open()` (one construction verb: `open` for everything that connects or starts
   * asynchronously). Kept for one release.
   */
  static create(options: WorkerVideoEncoderOptions): Promise<WorkerVideoEncoder> {
    return WorkerVideoEncoder.open(options);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof WorkerVideoEncoderEvents>(
    event: E,
    listener: (payload: WorkerVideoEncoderEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** Frames sent to the worker and not yet encoded. */
  get queuedFrames(): number {
    return this.#sent - this.#done;
  }

  /**
   * Encodes `frame`, taking ownership of it (it is transferred, then closed by the worker). Resolves when the
   * encoder can take another frame. Rejects with the encoder's failure, or `FW_ERR_CLOSED` after `close()`.
   */
  async encode(frame: VideoFrame, options: { keyFrame?: boolean } = {}): Promise<void> {
    if (!this.#state.running) {
      frame.close();
      throw this.#state.failure ?? new FramewireError('FW_ERR_CLOSED', 'The encoder is closed', { stage: 'encode' });
    }
    this.#sent++;
    const request: EncoderRequest = {
      type: 'encode',
      frame,
      captureTimeMs: getCaptureTime(frame),
      keyFrame: options.keyFrame ?? false,
    };
    this.#worker.postMessage(request, [frame]);
    await this.#state.waitWhile(() => this.queuedFrames >= this.#maxQueued);
  }

  /** Resolves when every frame given so far has been encoded and its chunk emitted. */
  async flush(): Promise<void> {
    this.#state.throwIfFailed();
    if (this.#state.closed) return;
    await this.#state.flush((id) => {
      const request: EncoderRequest = { type: 'flush', id };
      this.#worker.postMessage(request);
    });
  }

  /** Stops the worker. Frames still in flight are dropped; call `flush()` first to keep them. Idempotent. */
  close(): void {
    if (!this.#state.close()) return;
    const request: EncoderRequest = { type: 'close' };
    this.#worker.postMessage(request);
    this.#worker.terminate();
    this.#events.removeAllListeners();
  }

  #onMessage(message: EncoderResponse): void {
    switch (message.type) {
      case 'chunk': {
        const { chunkType, timestampUs, durationUs, data } = message.chunk;
        const chunk = new EncodedVideoChunk({ type: chunkType, timestamp: timestampUs, duration: durationUs, data });
        this.#events.emit('chunk', {
          chunk,
          decoderConfig: message.decoderConfig,
          captureTimeMs: message.captureTimeMs,
        });
        break;
      }
      case 'dequeued':
        this.#done = Math.max(this.#done, message.done);
        this.#state.wake();
        break;
      case 'flushed':
        this.#state.flushed(message.id);
        break;
      case 'error':
        this.#fail(new FramewireError(message.code, message.message, { fatal: true, stage: 'encode' }));
        break;
      case 'configured':
        break;
    }
  }

  #fail(error: FramewireError): void {
    if (this.#state.fail(error)) this.#events.emit('error', { error, fatal: true });
  }
}
