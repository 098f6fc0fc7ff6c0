import { type FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import { FlvH264Demuxer } from '../media/flv-h264-demuxer.js';
import { IvfVp8Reader } from '../media/ivf-vp8-reader.js';
import { findSps, jpegSize } from '../media/h264.js';
import { JpegStreamSplitter } from '../media/jpeg-stream-splitter.js';
import { ffmpegPixelFormat, rawFrameBytes, type RawPixelFormat } from '../media/raw-frame.js';
import { isRawFrame, retainFrame, type SourceFrame } from '../media/source-frame.js';
import {
  ffmpegPrelude,
  h264OutputArgs,
  jpegOutputArgs,
  vp8OutputArgs,
  type H264EncodeOptions,
  type Vp8EncodeOptions,
} from '../process/ffmpeg-args.js';
import { SupervisedProcess } from '../process/supervised-process.js';

/**
 * The stream formats outputs ask for: JPEG (MJPEG), H.264 (WebSocket, WebRTC passthrough), VP8 (WebRTC viewers
 * without H.264), I420 (the wrtc worker), BGR24 (NetGear) or GRAY8 (motion detection).
 */
export type FeedFormat = 'jpeg' | 'h264' | 'vp8' | 'I420' | 'BGR24' | 'GRAY8';

/**
 * The ffmpeg encoder that makes `format` (what `/metrics` reports as an encoder's `codec`): `mjpeg`, `libx264`,
 * `libvpx` or `rawvideo` (a pixel-format conversion).
 */
export function encoderCodec(format: FeedFormat): string {
  if (format === 'jpeg') return 'mjpeg';
  if (format === 'h264') return 'libx264';
  if (format === 'vp8') return 'libvpx';
  return 'rawvideo';
}

/** Options of {@link FfmpegTranscoder}. */
export interface FfmpegTranscoderOptions {
  /** Name used in logs and errors. Required. */
  name: string;
  /** The format to produce. Required. */
  output: FeedFormat;
  /** JPEG quality (2 best – 31) for `jpeg` output. Default: 5. */
  jpegQuality?: number;
  /** Scale to this width in pixels, keeping the aspect ratio. Default: the input width. */
  width?: number;
  /** With `width`, scale to this height in pixels instead of keeping the aspect ratio. Default: the aspect's. */
  height?: number;
  /** H.264 settings for `h264` output. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /** VP8 settings for `vp8` output. Default: see {@link Vp8EncodeOptions}. */
  vp8?: Vp8EncodeOptions;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
}

/** Events of an {@link FfmpegTranscoder}. */
export type FfmpegTranscoderEvents = {
  /** A frame in the output format, carrying the capture time of the input frame it came from. */
  frame: { frame: SourceFrame };
  /** ffmpeg failed (it is restarted) or an input frame was unusable. Never fatal. */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('transcoder');
/**
 * Input frames waiting for their output frame; more than this means ffmpeg dropped frames, and the oldest go.
 * ffmpeg outputs every frame it was given, only late: a slow start (a loaded machine) can hold a couple of seconds
 * of frames, and dropping them too early would give every later frame its successor's timestamp and capture time.
 */
const MAX_IN_FLIGHT = 120;

/** What an output frame inherits from the input frame it came from. */
interface InputStamp {
  captureTimeMs: number;
  /** The input's presentation time, in µs (raw inputs have none: derived from their capture times). */
  timestampUs: number;
}

/**
 * Converts one stream of bridge frames (JPEG, H.264 or raw) into another through a supervised ffmpeg process
 * fed on stdin — the "encode once" step shared by every viewer of an output. ffmpeg starts with the first frame
 * (whose size it then knows) and restarts when the input size or format changes. A frame that arrives while
 * ffmpeg is still busy is skipped rather than queued (for H.264 input, until the next keyframe), so latency never
 * builds up. Capture times and timestamps travel through in order: an output frame carries the capture time and
 * the presentation timestamp of its input frame (ffmpeg's own output timestamps are not used), so timestamps keep
 * the source's frame rate and stay strictly increasing.
 */
export class FfmpegTranscoder {
  /** The output format. */
  readonly output: FeedFormat;
  readonly #options: FfmpegTranscoderOptions;
  readonly #events = new TypedEmitter<FfmpegTranscoderEvents>();
  #process: SupervisedProcess | undefined;
  #signature = '';
  #needKey = true;
  #inFlight: InputStamp[] = [];
  #firstRawCaptureMs: number | undefined;
  #lastTimestampUs = -Infinity;
  #restarts = 0;
  #skipped = 0;
  #framesIn = 0;
  #framesOut = 0;
  #closed = false;

  /** Validates the options; nothing runs until the first `push()`. */
  constructor(options: FfmpegTranscoderOptions) {
    assertOption(
      ['jpeg', 'h264', 'vp8', 'I420', 'BGR24', 'GRAY8'].includes(options.output),
      `output must be jpeg, h264, vp8, I420, BGR24 or GRAY8`,
    );
    if (options.height !== undefined)
      assertOption(
        options.width !== undefined &&
          Number.isInteger(options.height) &&
          options.height >= 16 &&
          options.height <= 4320,
        'height must be an integer in 16..4320, with width',
      );
    if (options.width !== undefined)
      assertOption(
        Number.isInteger(options.width) && options.width >= 16 && options.width <= 7680,
        'width must be an integer in 16..7680',
      );
    if (options.output === 'jpeg') jpegOutputArgs(options.jpegQuality ?? 5);
    if (options.output === 'h264') h264OutputArgs(options.h264);
    if (options.output === 'vp8') vp8OutputArgs(options.vp8);
    this.output = options.output;
    this.#options = options;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof FfmpegTranscoderEvents>(
    event: E,
    listener: (payload: FfmpegTranscoderEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** ffmpeg restarts (crashes and input changes) so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Input frames skipped because ffmpeg was busy or waiting for a keyframe. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Input frames handed to ffmpeg. */
  get framesIn(): number {
    return this.#framesIn;
  }

  /** Frames ffmpeg produced. */
  get framesOut(): number {
    return this.#framesOut;
  }

  /** The ffmpeg process id, or `undefined` when none runs. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Feeds one frame. Returns false when it was skipped (busy, waiting for a keyframe, unusable, closed). */
  push(frame: SourceFrame): boolean {
    if (this.#closed) return false;
    const input = this.#describe(frame);
    if (!input) {
      this.#skipped++;
      return false;
    }
    if (input.signature !== this.#signature) {
      if (!input.ready) {
        this.#skipped++;
        return false;
      }
      this.#spawn(input.signature, input.inputArgs, input.width, input.height);
    }
    const isKey = isRawFrame(frame) || frame.key;
    if (this.#needKey && !isKey) {
      this.#skipped++;
      return false;
    }
    // A pooled frame's bytes stay reserved until the pipe has taken them.
    const release = retainFrame(frame);
    const data = isRawFrame(frame) || frame.codec !== 'jpeg' ? frame.data : multipartJpeg(frame.data);
    if (!this.#process?.write(data, false, release)) {
      release();
      this.#skipped++;
      this.#needKey = !isRawFrame(frame) && frame.codec === 'h264';
      return false;
    }
    this.#needKey = false;
    this.#framesIn++;
    this.#inFlight.push({ captureTimeMs: frame.captureTimeMs, timestampUs: this.#inputTimestampUs(frame) });
    if (this.#inFlight.length > MAX_IN_FLIGHT) this.#inFlight.shift();
    return true;
  }

  /** Stops ffmpeg. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const process = this.#process;
    this.#process = undefined;
    await process?.close();
    this.#events.removeAllListeners();
  }

  #describe(
    frame: SourceFrame,
  ): { signature: string; ready: boolean; inputArgs: string[]; width: number; height: number } | undefined {
    if (isRawFrame(frame)) {
      const { width, height, format } = frame;
      if (frame.data.length !== rawFrameBytes(width, height, format)) return undefined;
      return {
        signature: `${format}:${width}x${height}`,
        ready: true,
        inputArgs: ['-f', 'rawvideo', '-pix_fmt', ffmpegPixelFormat(format), '-video_size', `${width}x${height}`],
        width,
        height,
      };
    }
    if (frame.codec === 'jpeg') {
      const size = jpegSize(frame.data);
      if (!size) return undefined;
      // Multipart JPEG with a Content-Length per part: ffmpeg reads each frame as soon as it is whole. With the raw
      // `mjpeg` demuxer, its parser finds a frame's end only at the next frame's start (a frame of latency).
      return { signature: `jpeg:${size.width}x${size.height}`, ready: true, inputArgs: ['-f', 'mpjpeg'], ...size };
    }
    if (frame.codec === 'h264') {
      if (!frame.key) return { signature: this.#signature, ready: false, inputArgs: [], width: 0, height: 0 };
      const sps = findSps(frame.data);
      if (!sps)
        return this.#signature.startsWith('h264:')
          ? { signature: this.#signature, ready: true, inputArgs: [], width: 0, height: 0 }
          : undefined;
      return {
        signature: `h264:${sps.width}x${sps.height}`,
        ready: true,
        inputArgs: ['-f', 'h264'],
        width: sps.width,
        height: sps.height,
      };
    }
    return undefined;
  }

  #spawn(signature: string, inputArgs: string[], width: number, height: number): void {
    if (this.#process) {
      this.#restarts++;
      void this.#process.close();
    }
    this.#signature = signature;
    this.#needKey = true;
    this.#inFlight = [];
    const { output } = this.#options;
    const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
    let outWidth = width;
    let outHeight = height;
    if (this.#options.width !== undefined) {
      outWidth = even(this.#options.width);
      outHeight = even(this.#options.height ?? (height * outWidth) / width);
    } else if (output === 'I420') {
      [outWidth, outHeight] = [even(width), even(height)];
    }
    const scale = outWidth !== width || outHeight !== height ? `scale=${outWidth}:${outHeight}` : undefined;
    let outputArgs: string[];
    if (output === 'jpeg') outputArgs = jpegOutputArgs(this.#options.jpegQuality ?? 5, scale);
    else if (output === 'h264') outputArgs = h264OutputArgs(this.#options.h264, scale);
    else if (output === 'vp8') outputArgs = vp8OutputArgs(this.#options.vp8, scale);
    else
      outputArgs = [
        '-an',
        ...(scale ? ['-vf', scale] : []),
        '-fps_mode',
        'passthrough',
        // ffmpeg's rawvideo encoder is frame-threaded: with more than one thread every frame waits for the next
        // one (a frame of latency, 33 ms at 30 fps). Copying pixels needs no threads.
        '-threads',
        '1',
        '-flush_packets',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        ffmpegPixelFormat(output),
        'pipe:1',
      ];
    const args = [
      ...ffmpegPrelude(true),
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      // No `-fflags nobuffer` here: with the h264 demuxer on a pipe it holds frames back instead.
      '-flags',
      'low_delay',
      '-threads',
      '1',
      // Wall-clock input timestamps give x264's and libvpx's rate control the real frame rate; others need none.
      ...(output === 'h264' || output === 'vp8' ? ['-use_wallclock_as_timestamps', '1'] : []),
      // A small gray copy (motion detection) needs no deblocked picture: skipping H.264's loop filter saves about a
      // tenth of the decode.
      ...(output === 'GRAY8' && inputArgs.includes('h264') ? ['-skip_loop_filter', 'all'] : []),
      ...inputArgs,
      '-i',
      'pipe:0',
      // A pipe's input has no frame rate, so ffmpeg guesses 25 fps and makes 1/25 s the encoder's time base: with
      // `-fps_mode passthrough` every timestamp would be rounded to 40 ms (two frames of a 30 fps source could share
      // one). Milliseconds keep them distinct for the encoder (x264's rate control) and in the FLV stream.
      ...(output === 'h264' || output === 'vp8' ? ['-enc_time_base:v', '1:1000'] : []),
      ...outputArgs,
    ];
    const process = new SupervisedProcess({
      name: this.#options.name,
      command: this.#options.ffmpegPath ?? 'ffmpeg',
      args,
      stdin: true,
    });
    this.#process = process;
    let parse: (chunk: Buffer) => void = () => undefined;
    process.on('spawn', () => {
      this.#needKey = true;
      this.#inFlight = [];
      parse = this.#parser(output, outWidth, outHeight);
    });
    process.on('stdout', ({ chunk }) => parse(chunk));
    process.on('error', ({ error }) => {
      this.#restarts++;
      this.#events.emit('error', { error, fatal: false });
    });
    process.start();
    log.debug(`${this.#options.name}: ffmpeg ${args.join(' ')}`);
  }

  /** The input frame's presentation time in µs; raw frames, which carry none, count from their first capture. */
  #inputTimestampUs(frame: SourceFrame): number {
    if (!isRawFrame(frame)) return frame.timestampUs;
    this.#firstRawCaptureMs ??= frame.captureTimeMs;
    return (frame.captureTimeMs - this.#firstRawCaptureMs) * 1000;
  }

  /**
   * The stamp of the input frame this output frame came from (frames leave ffmpeg in input order). Timestamps are
   * kept strictly increasing: a repeated or backward input timestamp (a source restart) becomes the last one + 1 µs.
   */
  #nextStamp(): InputStamp {
    const input = this.#inFlight.shift();
    const captureTimeMs = input?.captureTimeMs ?? Date.now();
    const wanted = input?.timestampUs ?? this.#lastTimestampUs + 1;
    const timestampUs = wanted > this.#lastTimestampUs ? wanted : this.#lastTimestampUs + 1;
    this.#lastTimestampUs = timestampUs;
    return { captureTimeMs, timestampUs };
  }

  #parser(output: FeedFormat, width: number, height: number): (chunk: Buffer) => void {
    if (output === 'jpeg') {
      const splitter = new JpegStreamSplitter();
      return (chunk) => {
        for (const data of splitter.push(chunk)) this.#emit({ codec: 'jpeg', key: true, data, ...this.#nextStamp() });
      };
    }
    if (output === 'h264') {
      const demuxer = new FlvH264Demuxer();
      return (chunk) => {
        for (const packet of demuxer.push(chunk))
          this.#emit({ codec: 'h264', key: packet.key, data: packet.data, ...this.#nextStamp() });
      };
    }
    if (output === 'vp8') {
      const reader = new IvfVp8Reader();
      return (chunk) => {
        for (const frame of reader.push(chunk))
          this.#emit({ codec: 'vp8', key: frame.key, data: frame.data, ...this.#nextStamp() });
      };
    }
    const format: RawPixelFormat = output;
    const size = rawFrameBytes(width, height, format);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    return (chunk) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < size) return;
      let all = Buffer.concat(pending);
      while (all.length >= size) {
        const { captureTimeMs } = this.#nextStamp();
        this.#emit({ width, height, format, data: all.subarray(0, size), captureTimeMs });
        all = all.subarray(size);
      }
      pending = all.length > 0 ? [Buffer.from(all)] : [];
      pendingBytes = all.length;
    };
  }

  #emit(frame: SourceFrame): void {
    if (this.#closed) return;
    this.#framesOut++;
    this.#events.emit('frame', { frame });
  }
}

const CRLF = Buffer.from('\r\n');

/** One JPEG as a part of the multipart stream ffmpeg's `mpjpeg` demuxer reads (boundary, Content-Length, data). */
function multipartJpeg(jpeg: Buffer): Buffer {
  const head = Buffer.from(`--framewire\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
  return Buffer.concat([head, jpeg, CRLF]);
}
