import { assertOption } from '@framewire/core';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { MediaStartClock } from '../media/media-start-clock.js';
import { OpusStreamReader } from '../media/opus-stream-reader.js';
import { opusOutputArgs } from '../process/audio-args.js';
import { FlvH264Demuxer } from '../media/flv-h264-demuxer.js';
import { JpegStreamSplitter } from '../media/jpeg-stream-splitter.js';
import { ffmpegPrelude, h264OutputArgs, jpegOutputArgs, type H264EncodeOptions } from '../process/ffmpeg-args.js';
import { ProcessSource } from './process-source.js';

/** Options of {@link FfmpegSource}. */
export interface FfmpegSourceOptions {
  /** The source id used in URLs and health. Required. */
  id: string;
  /** The source kind reported in health, e.g. `testpattern`, `v4l2`, `url`. Required. */
  kind: string;
  /** ffmpeg arguments that open the input (everything before the output options). Required. */
  inputArgs: string[];
  /** What ffmpeg produces: `jpeg` frames (MJPEG, WebGear) or `h264` access units. Default: `jpeg`. */
  codec?: 'jpeg' | 'h264';
  /** JPEG quality on ffmpeg's 2 (best) – 31 scale, for `codec: 'jpeg'`. Default: 5. */
  jpegQuality?: number;
  /** H.264 settings, for `codec: 'h264'`. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /**
   * The input's frame rate, for inputs that deliver every frame at that rate (a lavfi pattern, a file read with
   * `-re`): JPEG frames are then stamped frame number / `frameRate` (in µs since ffmpeg started) instead of their
   * arrival times, which jitter with the machine's load. Default: none (arrival times, kept strictly increasing).
   */
  frameRate?: number;
  /**
   * Also encode an audio stream of the input to Opus (48 kHz, 20 ms frames) in the same ffmpeg, on the same clock as
   * the video: the stream to map (`0:a:0?` for a file's or camera's first audio track, if any) and the channels to
   * encode (1 or 2). Default: none (no audio).
   */
  audio?: { map: string; channels: 1 | 2 };
  /** ffmpeg executable. Default: `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** First restart delay after a crash, in ms; doubles up to `maxRestartDelayMs`. Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
}

/** Validates `options` and returns the ffmpeg arguments of an {@link FfmpegSource}. */
function ffmpegSourceArgs(options: FfmpegSourceOptions): string[] {
  const codec = options.codec ?? 'jpeg';
  assertOption(['jpeg', 'h264'].includes(codec), `codec must be jpeg or h264; got ${codec}`);
  assertOption(Array.isArray(options.inputArgs), 'inputArgs must be an array of strings');
  if (options.frameRate !== undefined)
    assertOption(options.frameRate > 0 && options.frameRate <= 240, 'frameRate must be in (0, 240]');
  const audio = options.audio;
  if (audio) {
    assertOption(typeof audio.map === 'string' && audio.map !== '', 'audio.map must be an ffmpeg stream map');
    assertOption([1, 2].includes(audio.channels), 'audio.channels must be 1 or 2');
  }
  return [
    ...ffmpegPrelude(),
    ...options.inputArgs,
    // With a second output, the video output maps its stream explicitly.
    ...(audio ? ['-map', '0:v:0'] : []),
    ...(codec === 'jpeg' ? jpegOutputArgs(options.jpegQuality ?? 5) : h264OutputArgs(options.h264)),
    ...(audio ? opusOutputArgs(audio.map, 'pipe:3', audio.channels) : []),
  ];
}

/**
 * A source read through a supervised ffmpeg process: any input ffmpeg opens (lavfi test patterns, V4L2 devices,
 * RTSP/RTMP/HTTP URLs, files) becomes a stream of JPEG frames or H.264 access units. When ffmpeg dies it is
 * restarted with exponential backoff and health says `restarting`; `close()` stops it for good.
 *
 * Capture times are the moments frames leave ffmpeg (the bridge cannot see the sensor clock of a remote camera).
 */
export class FfmpegSource extends ProcessSource {
  /** The stream format this source produces. */
  readonly codec: 'jpeg' | 'h264';
  readonly #frameRate: number | undefined;
  #onChunk: (chunk: Buffer) => void = () => undefined;
  #audioReader = new OpusStreamReader();
  /** With audio: the clock of the current ffmpeg run, shared by its video and audio. */
  #clock: MediaStartClock | undefined;
  readonly #hasAudio: boolean;

  /** Validates the options and builds the ffmpeg command; `start()` launches it. */
  constructor(options: FfmpegSourceOptions) {
    super(options.id, options.kind, {
      command: options.ffmpegPath ?? 'ffmpeg',
      args: ffmpegSourceArgs(options),
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
      ...(options.maxRestartDelayMs === undefined ? {} : { maxRestartDelayMs: options.maxRestartDelayMs }),
      ...(options.audio ? { auxOutput: true } : {}),
    });
    this.codec = options.codec ?? 'jpeg';
    this.#frameRate = options.frameRate;
    this.#hasAudio = options.audio !== undefined;
    if (options.audio) this.setAudio({ codec: 'opus', sampleRate: 48_000, channels: options.audio.channels });
  }

  /** A new ffmpeg run: a new stream, parsed from its first byte. */
  protected onSpawn(): void {
    this.#clock = this.#hasAudio ? new MediaStartClock() : undefined;
    this.#onChunk = this.#parser();
    this.#audioReader = new OpusStreamReader(Date.now, this.#clock);
  }

  /** Reads the Ogg Opus audio ffmpeg writes on `pipe:3`. */
  protected override onAuxChunk(chunk: Buffer): void {
    let packets;
    try {
      packets = this.#audioReader.push(chunk);
    } catch (error) {
      this.#audioReader = new OpusStreamReader();
      this.reportError(this.error('FW_ERR_PROTOCOL_VIOLATION', (error as Error).message, error));
      return;
    }
    for (const packet of packets) this.emitAudio(packet);
  }

  /** Feeds ffmpeg's output to the current parser. */
  protected onChunk(chunk: Buffer): void {
    this.#onChunk(chunk);
  }

  #parser(): (chunk: Buffer) => void {
    if (this.codec === 'jpeg') {
      const splitter = new JpegStreamSplitter();
      const frameRate = this.#frameRate;
      const clock = this.#clock;
      let count = 0;
      let lastUs = -1;
      let lastCaptureMs = 0;
      return (chunk) => {
        for (const data of splitter.push(chunk)) {
          const now = Date.now();
          // Whole µs: browsers' WebCodecs timestamps are integers.
          const timestampUs =
            frameRate === undefined
              ? Math.max((now - this.startedAtMs) * 1000, lastUs + 1)
              : Math.round((count * 1_000_000) / frameRate);
          count++;
          lastUs = timestampUs;
          // With audio, a paced input's frames are stamped on the clock the audio shares (sync over arrival jitter).
          const captureTimeMs =
            clock && frameRate !== undefined ? Math.max(clock.observe(now, timestampUs / 1000), lastCaptureMs) : now;
          lastCaptureMs = captureTimeMs;
          this.emitFrame({ codec: 'jpeg', key: true, data, timestampUs, captureTimeMs });
        }
      };
    }
    const demuxer = new FlvH264Demuxer();
    return (chunk) => {
      let packets;
      try {
        packets = demuxer.push(chunk);
      } catch (error) {
        this.countDrop();
        this.reportError(this.error('FW_ERR_PROTOCOL_VIOLATION', (error as Error).message, error));
        return;
      }
      for (const packet of packets) {
        const frame: EncodedFrame = {
          codec: 'h264',
          key: packet.key,
          data: packet.data,
          timestampUs: packet.timestampMs * 1000,
          captureTimeMs: Date.now(),
        };
        this.emitFrame(frame);
      }
    };
  }
}
