import { type FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import { LatestFrames } from '../media/latest-frames.js';
import { frameFormat, isRawFrame, type SourceFrame } from '../media/source-frame.js';
import type { H264EncodeOptions, Vp8EncodeOptions } from '../process/ffmpeg-args.js';
import type { VideoSource } from '../sources/video-source.js';
import { FfmpegTranscoder, encoderCodec, type FeedFormat } from './ffmpeg-transcoder.js';

/** Options of {@link FrameFeed}. */
export interface FrameFeedOptions {
  /** JPEG quality (2 best – 31) when the feed has to encode JPEG. Default: 5; set, it re-encodes JPEG sources too. */
  jpegQuality?: number;
  /** Scale to this width in pixels (aspect kept). Default: the source's width (no scaling). */
  width?: number;
  /** With `width`, scale to this height in pixels instead of keeping the aspect ratio. Default: the aspect's. */
  height?: number;
  /**
   * Most frames per second handed to the transcoder from JPEG and raw sources (each frame stands alone, so the
   * others are skipped before any decoding); H.264 input is decoded whole. Default: every frame.
   */
  maxFrameRate?: number;
  /** H.264 settings when the feed has to encode H.264. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /** VP8 settings when the feed has to encode VP8. Default: see {@link Vp8EncodeOptions}. */
  vp8?: Vp8EncodeOptions;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /**
   * How long the encoder keeps running after its last subscriber left, in ms: a viewer that reloads its page
   * finds it still warm (no encoder start-up, no wait for a first keyframe). Default: 2000; 0 stops at once.
   */
  idleStopMs?: number;
}

/** The state and counters of a {@link FrameFeed}'s encoder. */
export interface FrameFeedEncoderStats {
  /** The ffmpeg encoder that makes the feed's format: `mjpeg`, `libx264`, `libvpx` or `rawvideo`. */
  codec: string;
  /** True while the encoder (an ffmpeg process) runs. */
  running: boolean;
  /** Frames handed to the encoder since the feed was created (over every start of it). */
  framesIn: number;
  /** Frames the encoder produced since the feed was created (over every start of it). */
  framesOut: number;
}

/** Events of a {@link FrameFeed}. */
export type FrameFeedEvents = {
  /** A frame in the feed's format. */
  frame: { frame: SourceFrame };
  /** The transcoder failed (and restarts). */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('feed');
/** See {@link FrameFeedOptions.idleStopMs}. */
const DEFAULT_IDLE_STOP_MS = 2000;

/**
 * One source in one format, shared by every output and viewer that needs that format: frames already in the
 * format pass straight through, others go through a single {@link FfmpegTranscoder} (encode once, whatever the
 * number of viewers). The transcoder runs only while the feed has subscribers (and `idleStopMs` after the last).
 */
export class FrameFeed {
  /** The feed's format. */
  readonly format: FeedFormat;
  /** The source it reads. */
  readonly source: VideoSource;
  readonly #options: FrameFeedOptions;
  readonly #events = new TypedEmitter<FrameFeedEvents>();
  #transcoder: FfmpegTranscoder | undefined;
  #unsubscribeSource: (() => void) | undefined;
  readonly #newest = new LatestFrames();
  #frames = 0;
  #bytes = 0;
  #transcoderRestarts = 0;
  #encoderFramesIn = 0;
  #encoderFramesOut = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastPushedMs = -Infinity;

  /** Creates the feed; nothing runs until the first `subscribe()`. */
  constructor(source: VideoSource, format: FeedFormat, options: FrameFeedOptions = {}) {
    this.source = source;
    this.format = format;
    this.#options = options;
    assertOption(
      options.idleStopMs === undefined || (Number.isFinite(options.idleStopMs) && options.idleStopMs >= 0),
      `idleStopMs must be >= 0; got ${options.idleStopMs}`,
    );
    assertOption(
      options.maxFrameRate === undefined || (Number.isFinite(options.maxFrameRate) && options.maxFrameRate > 0),
      `maxFrameRate must be > 0; got ${options.maxFrameRate}`,
    );
    // Validate the options now (at the bridge's start), not when the first viewer arrives.
    void new FfmpegTranscoder({ name: 'check', output: format, ...this.#transcoderOptions() }).close();
  }

  /** The newest frame in this format. */
  get latest(): SourceFrame | undefined {
    return this.#newest.latest;
  }

  /** The newest keyframe in this format. */
  get latestKey(): SourceFrame | undefined {
    return this.#newest.latestKey;
  }

  /** Frames and bytes delivered since start, transcoder restarts, skipped input frames, and whether it transcodes. */
  get stats(): {
    frames: number;
    bytes: number;
    transcoderRestarts: number;
    transcoding: boolean;
    subscribers: number;
  } {
    return {
      frames: this.#frames,
      bytes: this.#bytes,
      transcoderRestarts: this.#transcoderRestarts + (this.#transcoder?.restarts ?? 0),
      transcoding: this.#transcoder !== undefined,
      subscribers: this.#events.listenerCount('frame'),
    };
  }

  /**
   * The feed's encoder: which one, whether it runs, and its frames in and out. It starts with the first frame that
   * needs encoding after the first `subscribe()` and stops `idleStopMs` after the last subscriber left; a feed
   * whose source already has its format never starts it.
   */
  get encoder(): FrameFeedEncoderStats {
    return {
      codec: encoderCodec(this.format),
      running: this.#transcoder !== undefined,
      framesIn: this.#encoderFramesIn + (this.#transcoder?.framesIn ?? 0),
      framesOut: this.#encoderFramesOut + (this.#transcoder?.framesOut ?? 0),
    };
  }

  /** The running transcoder's ffmpeg process id (for tests and diagnostics). */
  get transcoderPid(): number | undefined {
    return this.#transcoder?.pid;
  }

  /**
   * Receives every frame until the returned function is called; the first subscriber starts the feed, and the feed
   * stops `idleStopMs` after the last one left (unless another subscribes in between).
   */
  subscribe(listener: (frame: SourceFrame) => void): () => void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const off = this.#events.on('frame', ({ frame }) => listener(frame));
    this.#unsubscribeSource ??= this.source.on('frame', ({ frame }) => this.#onSourceFrame(frame));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      if (this.#events.listenerCount('frame') > 0) return;
      const idleStopMs = this.#options.idleStopMs ?? DEFAULT_IDLE_STOP_MS;
      if (idleStopMs === 0) {
        void this.#stop();
        return;
      }
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        if (this.#events.listenerCount('frame') === 0) void this.#stop();
      }, idleStopMs);
      this.#idleTimer.unref();
    };
  }

  /** Listens to transcoder errors; returns the unsubscribe function. */
  onError(listener: (payload: FrameFeedEvents['error']) => void): () => void {
    return this.#events.on('error', listener);
  }

  /** Stops the transcoder and drops every subscriber. Idempotent. */
  async close(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#events.removeAllListeners();
    this.#newest.clear();
    await this.#stop();
  }

  #passesThrough(frame: SourceFrame): boolean {
    if (frameFormat(frame) !== this.format || this.#options.width !== undefined) return false;
    return this.format !== 'jpeg' || this.#options.jpegQuality === undefined;
  }

  #onSourceFrame(frame: SourceFrame): void {
    if (this.#passesThrough(frame)) {
      this.#publish(frame);
      return;
    }
    const { maxFrameRate } = this.#options;
    if (maxFrameRate !== undefined && (isRawFrame(frame) || frame.codec === 'jpeg')) {
      // A little slack so that a source at exactly the rate is not halved by capture-time jitter.
      if (frame.captureTimeMs - this.#lastPushedMs < 900 / maxFrameRate) return;
      this.#lastPushedMs = frame.captureTimeMs;
    }
    if (!this.#transcoder) {
      const transcoder = new FfmpegTranscoder({
        name: `${this.format} encoder of "${this.source.id}"`,
        output: this.format,
        ...this.#transcoderOptions(),
      });
      transcoder.on('frame', ({ frame: out }) => this.#publish(out));
      transcoder.on('error', (payload) => this.#events.emit('error', payload));
      this.#transcoder = transcoder;
    }
    this.#transcoder.push(frame);
  }

  #publish(frame: SourceFrame): void {
    this.#frames++;
    this.#bytes += frame.data.length;
    this.#newest.set(frame);
    this.#events.emit('frame', { frame });
  }

  #transcoderOptions(): Omit<ConstructorParameters<typeof FfmpegTranscoder>[0], 'name' | 'output'> {
    const { jpegQuality, width, height, h264, vp8, ffmpegPath } = this.#options;
    return {
      ...(jpegQuality === undefined ? {} : { jpegQuality }),
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
      ...(h264 ? { h264 } : {}),
      ...(vp8 ? { vp8 } : {}),
      ...(ffmpegPath ? { ffmpegPath } : {}),
    };
  }

  async #stop(): Promise<void> {
    this.#unsubscribeSource?.();
    this.#unsubscribeSource = undefined;
    const transcoder = this.#transcoder;
    this.#transcoder = undefined;
    if (transcoder) {
      this.#transcoderRestarts += transcoder.restarts;
      this.#encoderFramesIn += transcoder.framesIn;
      this.#encoderFramesOut += transcoder.framesOut;
      await transcoder.close().catch((error: unknown) => log.warn('transcoder close failed', { error }));
    }
  }
}
