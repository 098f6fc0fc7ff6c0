import { FramewireError, assertOption, createLogger } from '@framewire/core';
import { mediabunnyApi, type MediabunnyApi as Mediabunny } from '../core/mediabunny-loader.js';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import { preflight } from './http-preflight.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import { registerDemuxedTracks, type DemuxedInput } from '../core/demuxed-input.js';
import type { Input, InputAudioTrack, InputVideoTrack, VideoSampleSink } from 'mediabunny';
import { assertSecureContext } from '../core/secure-context.js';

const log = createLogger('file-source');

/** What {@link FileSource.open} reads: a `File`, a `Blob`, or the URL of a media file (fetched with range requests). */
export type FileInput = Blob | string | URL;

/** Options of {@link FileSource.open}. */
export interface FileSourceOptions {
  /**
   * `fast` decodes as fast as the consumer reads (vidgear's CamGear on a file); `realtime` paces frames to their
   * timestamps, like a player. Default: `fast`.
   */
  pace?: 'fast' | 'realtime';
  /** Starts again from the beginning at the end; timestamps keep increasing across loops. Default: `false`. */
  loop?: boolean;
  /** Where to start, in µs of media time. Default: 0 (the first frame). */
  startUs?: number;
  /** Queue settings. Default: `{ policy: 'backpressure', capacity: 8 }` (nothing is ever dropped). */
  queue?: SourceQueueOptions;
}

/** The audio track of a file, as {@link FileSource.audio} describes it. */
export interface FileAudioInfo {
  /** mediabunny's codec name (`aac`, `opus`, `mp3`, …), or `null` when unknown. */
  codec: string | null;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** Number of channels. */
  channels: number;
  /**
   * The track itself: mediabunny's `InputAudioTrack`, typed here by a few of its members (cast it to mediabunny's
   * type to read packets with `EncodedPacketSink` or samples with `AudioSampleSink`).
   */
  track: FileAudioTrack;
}

/** The members of mediabunny's `InputAudioTrack` that {@link FileAudioInfo.track} is typed with. */
export interface FileAudioTrack {
  /** The track's id in the file. */
  readonly id: number;
  /** The decoder configuration for WebCodecs' `AudioDecoder`, or `null` when this browser cannot decode it. */
  getDecoderConfig(): Promise<AudioDecoderConfig | null>;
  /** The end of the track's last sample, in seconds. */
  computeDuration(): Promise<number>;
}

/**
 * A media file as a frame source — vidgear's `CamGear(source='video.mp4')`, decoded in the browser.
 *
 * Reads every container mediabunny reads (MP4, MOV, WebM, MKV, MPEG-TS, …) from a `File`, a `Blob` or a URL,
 * decodes with WebCodecs, and delivers frames with their exact presentation timestamps (µs). The default queue
 * applies backpressure: decoding waits for the consumer and no frame is ever dropped. Frames of a rotated file
 * carry the rotation (their `displayWidth`/`displayHeight` are the upright size), so drawing them shows them
 * upright.
 *
 * @example
 * ```ts
 * const file = await Framewire.FileSource.open(input.files[0]);
 * for await (const frame of file) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * ```
 */
export class FileSource extends QueuedFrameSource implements DemuxedInput {
  readonly #input: Input;
  /** The file's first audio track, or `null` when it has none. */
  readonly audio: FileAudioInfo | null;
  /** Duration of the file in µs (end of its last sample). */
  readonly durationUs: number;
  /** Upright width in pixels (after rotation). */
  readonly width: number;
  /** Upright height in pixels (after rotation). */
  readonly height: number;
  /** Clockwise rotation from the file's metadata, in degrees (0, 90, 180 or 270). */
  readonly rotation: 0 | 90 | 180 | 270;
  /** The video codec, in mediabunny's naming (`avc`, `hevc`, `vp8`, `vp9`, `av1`). */
  readonly codec: string;
  readonly #sink: VideoSampleSink;
  readonly #pace: 'fast' | 'realtime';
  readonly #loop: boolean;
  readonly #firstTimestampUs: number;
  #generation = 0;
  #running: Promise<void> = Promise.resolve();

  private constructor(
    parts: {
      input: Input;
      videoTrack: InputVideoTrack;
      audioTrack: InputAudioTrack | null;
      audio: FileAudioInfo | null;
      sink: VideoSampleSink;
      durationUs: number;
      firstTimestampUs: number;
      codec: string;
      rotation: 0 | 90 | 180 | 270;
      squareWidth: number;
      squareHeight: number;
    },
    options: FileSourceOptions,
  ) {
    super('file', options.queue, 'backpressure');
    this.#input = parts.input;
    // The outputs copy these tracks without decoding (the demuxed-input contract, kept off the public types).
    registerDemuxedTracks(this, { video: parts.videoTrack, audio: parts.audioTrack });
    this.audio = parts.audio;
    this.#sink = parts.sink;
    this.durationUs = parts.durationUs;
    this.#firstTimestampUs = parts.firstTimestampUs;
    this.codec = parts.codec;
    this.rotation = parts.rotation;
    const sideways = parts.rotation % 180 !== 0;
    this.width = sideways ? parts.squareHeight : parts.squareWidth;
    this.height = sideways ? parts.squareWidth : parts.squareHeight;
    this.#pace = options.pace ?? 'fast';
    this.#loop = options.loop ?? false;
    this.#start(options.startUs ?? parts.firstTimestampUs);
  }

  /**
   * Opens a media file and starts decoding. Rejects with `FW_ERR_MEDIA_UNREADABLE` (not media, corrupt, no
   * video track), `FW_ERR_CODEC_UNSUPPORTED` (this browser cannot decode the video), `FW_ERR_NETWORK_FAILED`
   * (a URL answered with an error status or could not be reached), `FW_ERR_INVALID_OPTION` or
   * `FW_ERR_LAZY_LOAD_FAILED`. Decoding failures later on arrive as `error` events.
   */
  static async open(file: FileInput, options: FileSourceOptions = {}): Promise<FileSource> {
    validate(file, options);
    assertSecureContext('FileSource', 'decode');
    const mb = await mediabunnyApi();
    let source: InstanceType<Mediabunny['BlobSource']> | InstanceType<Mediabunny['UrlSource']>;
    if (file instanceof Blob) {
      source = new mb.BlobSource(file);
    } else {
      const url = new URL(String(file), location.href).href;
      await preflight(url);
      source = new mb.UrlSource(url);
    }
    const input = new mb.Input({ source, formats: mb.ALL_FORMATS });
    try {
      const videoTrack = await input.getPrimaryVideoTrack().catch((error: unknown) => {
        throw unreadable(
          error instanceof mb.UnsupportedInputFormatError ? 'is not a known media format' : 'cannot be read',
          error,
        );
      });
      if (!videoTrack) throw unreadable('has no video track', undefined);
      const codec = await videoTrack.getCodec();
      if (!codec || !(await videoTrack.canDecode())) {
        throw new FramewireError(
          'FW_ERR_CODEC_UNSUPPORTED',
          `This browser cannot decode the file's video (${(await videoTrack.getCodecParameterString().catch(() => null)) ?? codec ?? 'unknown codec'})`,
          { fatal: true, stage: 'decode', details: { codec } },
        );
      }
      const [firstTimestampS, durationS, audioTrack, rotation, squareWidth, squareHeight] = await Promise.all([
        videoTrack.getFirstTimestamp(),
        input.computeDuration([videoTrack]),
        input.getPrimaryAudioTrack().catch(() => null),
        videoTrack.getRotation(),
        videoTrack.getSquarePixelWidth(),
        videoTrack.getSquarePixelHeight(),
      ]);
      const audio: FileAudioInfo | null = audioTrack
        ? {
            codec: await audioTrack.getCodec(),
            sampleRate: await audioTrack.getSampleRate(),
            channels: await audioTrack.getNumberOfChannels(),
            track: audioTrack,
          }
        : null;
      // Frames keep the coded orientation here; FileSource tags each frame with the rotation instead.
      const sink = new mb.VideoSampleSink(videoTrack);
      return new FileSource(
        {
          input,
          videoTrack,
          audioTrack,
          audio,
          sink,
          codec,
          rotation,
          squareWidth,
          squareHeight,
          durationUs: Math.round(durationS * 1e6),
          firstTimestampUs: Math.round(firstTimestampS * 1e6),
        },
        options,
      );
    } catch (error) {
      input.dispose();
      if (error instanceof FramewireError) throw error;
      throw unreadable('cannot be read', error);
    }
  }

  /**
   * Jumps to `timeUs` (media time, µs): frames queued so far are discarded and the next frame read is the one
   * shown at `timeUs` (the last frame starting at or before it). Rejects with `FW_ERR_CLOSED` after `close()`
   * and `FW_ERR_INVALID_OPTION` for a negative or non-finite time.
   */
  async seek(timeUs: number): Promise<void> {
    assertOption(Number.isFinite(timeUs) && timeUs >= 0, `timeUs must be a number ≥ 0; got ${String(timeUs)}`);
    if (this.ended) throw new FramewireError('FW_ERR_CLOSED', 'The file source has ended', { stage: 'decode' });
    const generation = ++this.#generation;
    this.discardQueued();
    await this.#running;
    if (!this.#isCurrent(generation)) return;
    this.discardQueued();
    this.#start(timeUs);
  }

  /** Whether a decoding run started as `generation` should go on (no seek or close since). */
  #isCurrent(generation: number): boolean {
    return generation === this.#generation && !this.ended;
  }

  #start(fromUs: number): void {
    const generation = this.#generation;
    this.#running = this.#decode(generation, fromUs).catch((error: unknown) => {
      if (generation !== this.#generation || this.ended) return;
      this.fail(
        new FramewireError('FW_ERR_DECODE_FAILED', `Decoding the file failed: ${String(error)}`, {
          cause: error,
          fatal: true,
          stage: 'decode',
        }),
      );
    });
  }

  async #decode(generation: number, fromUs: number): Promise<void> {
    let loopOffsetUs = 0;
    let startUs = fromUs;
    for (;;) {
      // The sink gives the last frame at or before the start time first, as a player shows it after a seek.
      const startSample = await this.#sink.getSample(startUs / 1e6);
      const startS = startSample ? startSample.timestamp : startUs / 1e6;
      startSample?.close();
      const clockStartMs = performance.now();
      const firstUs = Math.round(startS * 1e6);
      let delivered = 0;
      for await (const sample of this.#sink.samples(startS)) {
        if (generation !== this.#generation || this.ended) {
          sample.close();
          return;
        }
        let frame: VideoFrame;
        try {
          frame = this.#toFrame(sample.toVideoFrame(), loopOffsetUs);
        } finally {
          sample.close();
        }
        if (this.#pace === 'realtime') {
          const dueMs = clockStartMs + (frame.timestamp - loopOffsetUs - firstUs) / 1000;
          const waitMs = dueMs - performance.now();
          if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
        if (generation !== this.#generation) {
          frame.close();
          return;
        }
        if (!(await this.deliver(frame, Date.now()))) return;
        delivered++;
      }
      if (generation !== this.#generation) return;
      if (!this.#loop || delivered === 0) break;
      loopOffsetUs += this.durationUs - this.#firstTimestampUs;
      startUs = this.#firstTimestampUs;
    }
    this.finish();
  }

  /** Re-stamps a decoded frame: loop offset added to its timestamp, the file's rotation attached. */
  #toFrame(decoded: VideoFrame, loopOffsetUs: number): VideoFrame {
    if (loopOffsetUs === 0 && this.rotation === 0) return decoded;
    try {
      const init: VideoFrameInit & { rotation?: number } = { timestamp: decoded.timestamp + loopOffsetUs };
      if (decoded.duration !== null) init.duration = decoded.duration;
      if (this.rotation !== 0) init.rotation = this.rotation;
      return new VideoFrame(decoded, init);
    } finally {
      decoded.close();
    }
  }

  /** Stops decoding and disposes the input. */
  protected release(): void {
    this.#generation++;
    try {
      this.#input.dispose();
    } catch (error) {
      log.debug('input.dispose failed', { error });
    }
  }
}

function unreadable(what: string, cause: unknown): FramewireError {
  return new FramewireError('FW_ERR_MEDIA_UNREADABLE', `The file ${what}`, { cause, fatal: true, stage: 'demux' });
}

function validate(file: FileInput, options: FileSourceOptions): void {
  assertOption(
    file instanceof Blob || file instanceof URL || (typeof file === 'string' && file.length > 0),
    'file must be a File, a Blob or a URL',
  );
  assertOption(
    options.pace === undefined || (['fast', 'realtime'] as unknown[]).includes(options.pace),
    `options.pace must be 'fast' or 'realtime'; got ${String(options.pace)}`,
  );
  assertOption(
    options.startUs === undefined || (Number.isFinite(options.startUs) && options.startUs >= 0),
    `options.startUs must be a number ≥ 0; got ${String(options.startUs)}`,
  );
}
