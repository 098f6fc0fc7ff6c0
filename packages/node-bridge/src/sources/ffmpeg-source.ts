import { assertOption } from '@framewire/core';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { FlvH264Demuxer } from '../media/flv-h264-demuxer.js';
import { JpegStreamSplitter } from '../media/jpeg-stream-splitter.js';
import { ffmpegPrelude, h264OutputArgs, jpegOutputArgs, type H264EncodeOptions } from '../process/ffmpeg-args.js';
import { SupervisedProcess } from '../process/supervised-process.js';
import { SourceBase } from './source-base.js';

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
  /** ffmpeg executable. Default: `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** First restart delay after a crash, in ms; doubles up to `maxRestartDelayMs`. Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
}

/**
 * A source read through a supervised ffmpeg process: any input ffmpeg opens (lavfi test patterns, V4L2 devices,
 * RTSP/RTMP/HTTP URLs, files) becomes a stream of JPEG frames or H.264 access units. When ffmpeg dies it is
 * restarted with exponential backoff and health says `restarting`; `close()` stops it for good.
 *
 * Capture times are the moments frames leave ffmpeg (the bridge cannot see the sensor clock of a remote camera).
 */
export class FfmpegSource extends SourceBase {
  /** The stream format this source produces. */
  readonly codec: 'jpeg' | 'h264';
  /** The ffmpeg command line (after the executable), for logs and tests. */
  readonly args: readonly string[];
  readonly #process: SupervisedProcess;
  readonly #frameRate: number | undefined;
  #startedAtMs = 0;
  #onChunk: (chunk: Buffer) => void = () => undefined;

  /** Validates the options and builds the ffmpeg command; `start()` launches it. */
  constructor(options: FfmpegSourceOptions) {
    super(options.id, options.kind);
    this.codec = options.codec ?? 'jpeg';
    assertOption(['jpeg', 'h264'].includes(this.codec), `codec must be jpeg or h264; got ${this.codec}`);
    assertOption(Array.isArray(options.inputArgs), 'inputArgs must be an array of strings');
    if (options.frameRate !== undefined)
      assertOption(options.frameRate > 0 && options.frameRate <= 240, 'frameRate must be in (0, 240]');
    this.#frameRate = options.frameRate;
    this.args = [
      ...ffmpegPrelude(),
      ...options.inputArgs,
      ...(this.codec === 'jpeg' ? jpegOutputArgs(options.jpegQuality ?? 5) : h264OutputArgs(options.h264)),
    ];
    this.#process = new SupervisedProcess({
      name: `${options.kind} source "${options.id}"`,
      command: options.ffmpegPath ?? 'ffmpeg',
      args: [...this.args],
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
      ...(options.maxRestartDelayMs === undefined ? {} : { maxRestartDelayMs: options.maxRestartDelayMs }),
    });
    this.#process.on('spawn', () => {
      this.#startedAtMs = Date.now();
      this.#onChunk = this.#parser();
    });
    this.#process.on('stdout', ({ chunk }) => this.#onChunk(chunk));
    this.#process.on('error', ({ error }) => this.reportError(error, true));
  }

  /** The ffmpeg process id, or `undefined` between restarts. */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Launches ffmpeg (no-op when running). */
  start(): Promise<void> {
    if (!this.#process.running && !this.closed) {
      if (this.state === 'stopped') this.setState('starting');
      this.#process.start();
    }
    return Promise.resolve();
  }

  /** Stops ffmpeg and any pending restart. */
  protected release(): Promise<void> {
    return this.#process.close();
  }

  #parser(): (chunk: Buffer) => void {
    if (this.codec === 'jpeg') {
      const splitter = new JpegStreamSplitter();
      const frameRate = this.#frameRate;
      let count = 0;
      let lastUs = -1;
      return (chunk) => {
        for (const data of splitter.push(chunk)) {
          const now = Date.now();
          // Whole µs: browsers' WebCodecs timestamps are integers.
          const timestampUs =
            frameRate === undefined
              ? Math.max((now - this.#startedAtMs) * 1000, lastUs + 1)
              : Math.round((count * 1_000_000) / frameRate);
          count++;
          lastUs = timestampUs;
          this.emitFrame({ codec: 'jpeg', key: true, data, timestampUs, captureTimeMs: now });
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
