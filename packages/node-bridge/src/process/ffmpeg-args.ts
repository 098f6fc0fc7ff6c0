import { assertOption } from '@framewire/core';
import type { RawH264Encoder } from './h264-encoder-choice.js';
import { assertH264Level, assertH264Profile, x264Params, type H264Profile } from './h264-settings.js';

/** H.264 encoding settings for the bridge's ffmpeg encoders (libx264, tuned for latency). */
export interface H264EncodeOptions {
  /** Target bitrate, in bits per second. Default: 2,000,000. */
  bitrateBps?: number;
  /** Frames between keyframes (late joiners wait at most this long). Default: 30. */
  keyframeIntervalFrames?: number;
  /** Pass H.264 input through without re-encoding (`-c:v copy`). Default: false. */
  copy?: boolean;
  /** H.264 profile (`--h264-profile`). Default: `baseline` (constrained baseline: every browser decodes it). */
  profile?: H264Profile;
  /** H.264 level, e.g. `4.1` (`--h264-level`). Default: the encoder picks one from the size and frame rate. */
  level?: string;
  /**
   * The ffmpeg encoder: `libx264` (`ultrafast`/`zerolatency`) or `h264_v4l2m2m` (a Raspberry Pi 4's hardware
   * encoder; see `chooseRawEncoder`). Default: `libx264`.
   */
  encoder?: RawH264Encoder;
}

/** The numeric H.264 profiles (`profile_idc`) ffmpeg's V4L2 encoder takes. */
const V4L2_PROFILES: Record<H264Profile, string> = { baseline: '66', main: '77', high: '100' };

/**
 * The encoder arguments of {@link h264OutputArgs} (`-c:v` and its settings, without rate control); validates the
 * profile, level and encoder.
 */
export function h264EncoderArgs(options: H264EncodeOptions): string[] {
  const profile = options.profile ?? 'baseline';
  assertH264Profile(profile, 'h264.profile');
  if (options.level !== undefined) assertH264Level(options.level, 'h264.level');
  const encoder: string = options.encoder ?? 'libx264';
  assertOption(
    ['libx264', 'h264_v4l2m2m'].includes(encoder),
    `h264.encoder must be libx264 or h264_v4l2m2m; got ${encoder}`,
  );
  if (encoder === 'h264_v4l2m2m')
    return [
      '-c:v',
      'h264_v4l2m2m',
      '-pix_fmt',
      'yuv420p',
      '-profile:v',
      V4L2_PROFILES[profile],
      ...(options.level === undefined ? [] : ['-level:v', String(Math.round(Number(options.level) * 10))]),
    ];
  const params = x264Params(profile, false);
  return [
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-profile:v',
    profile,
    ...(options.level === undefined ? [] : ['-level:v', options.level]),
    ...(params === '' ? [] : ['-x264-params', params]),
    '-pix_fmt',
    'yuv420p',
    '-sc_threshold',
    '0',
  ];
}

/** Flags that keep ffmpeg from buffering live input before it starts (no probing delay, no input queue). */
export const LOW_DELAY_INPUT_ARGS = ['-fflags', 'nobuffer', '-flags', 'low_delay'] as const;

/** The common prefix: no banner, errors only, no stdin interaction (unless ffmpeg reads frames from it). */
export function ffmpegPrelude(readsStdin = false): string[] {
  return ['-hide_banner', '-loglevel', 'error', ...(readsStdin ? [] : ['-nostdin'])];
}

/** Output arguments for a JPEG stream on stdout at `quality` (ffmpeg's 2 = best … 31 = worst). */
export function jpegOutputArgs(quality: number, scale?: string): string[] {
  assertOption(Number.isInteger(quality) && quality >= 2 && quality <= 31, 'jpegQuality must be an integer in 2..31');
  return [
    '-an',
    ...(scale ? ['-vf', scale] : []),
    '-c:v',
    'mjpeg',
    '-pix_fmt',
    'yuvj420p',
    '-q:v',
    String(quality),
    '-fps_mode',
    'passthrough',
    '-flush_packets',
    '1',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}

/**
 * Output arguments for H.264 in FLV on stdout: libx264 `ultrafast`/`zerolatency` (no B-frames, no lookahead;
 * constrained baseline unless `profile` says otherwise) or `h264_v4l2m2m`, a fixed keyframe interval, every packet
 * flushed at once. FLV carries SPS/PPS once; the demuxer puts them before every keyframe. With `copy`, the input's
 * H.264 is passed through.
 */
export function h264OutputArgs(options: H264EncodeOptions = {}, scale?: string): string[] {
  const rate = rateArgs('h264', options.bitrateBps ?? 2_000_000, options.keyframeIntervalFrames ?? 30);
  const codec = options.copy
    ? ['-c:v', 'copy']
    : [...(scale ? ['-vf', scale] : []), ...h264EncoderArgs(options), ...rate];
  return [
    '-an',
    ...codec,
    '-fps_mode',
    'passthrough',
    '-flush_packets',
    '1',
    '-f',
    'flv',
    '-flvflags',
    'no_duration_filesize',
    'pipe:1',
  ];
}

/** VP8 encoding settings for the bridge's shared VP8 encoder (libvpx, realtime). */
export interface Vp8EncodeOptions {
  /** Target bitrate, in bits per second. Default: 1,500,000. */
  bitrateBps?: number;
  /** Frames between keyframes (a late joiner or a lost picture waits at most this long). Default: 30. */
  keyframeIntervalFrames?: number;
}

/**
 * Output arguments for VP8 in IVF on stdout: libvpx with `-deadline realtime`, `-cpu-used 8` (fastest), error
 * resilience on, no alternate reference frames and no lag (each frame leaves as soon as it is encoded), a fixed
 * keyframe interval, every packet flushed at once.
 */
export function vp8OutputArgs(options: Vp8EncodeOptions = {}, scale?: string): string[] {
  const rate = rateArgs('vp8', options.bitrateBps ?? 1_500_000, options.keyframeIntervalFrames ?? 30);
  return [
    '-an',
    ...(scale ? ['-vf', scale] : []),
    '-c:v',
    'libvpx',
    '-pix_fmt',
    'yuv420p',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-error-resilient',
    '1',
    '-lag-in-frames',
    '0',
    '-auto-alt-ref',
    '0',
    ...rate,
    '-fps_mode',
    'passthrough',
    '-flush_packets',
    '1',
    '-f',
    'ivf',
    'pipe:1',
  ];
}

/**
 * The rate-control arguments every bridge encoder shares: a fixed keyframe interval of `gop` frames and a constant
 * `bitrateBps` with a half-second buffer. Validates both; `option` names the option group in the message.
 */
function rateArgs(option: 'h264' | 'vp8', bitrateBps: number, gop: number): string[] {
  assertOption(bitrateBps >= 10_000 && bitrateBps <= 100_000_000, `${option}.bitrateBps must be in 10000..100000000`);
  assertOption(
    Number.isInteger(gop) && gop >= 1 && gop <= 600,
    `${option}.keyframeIntervalFrames must be an integer in 1..600`,
  );
  const bitrate = String(bitrateBps);
  return [
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-b:v',
    bitrate,
    '-maxrate',
    bitrate,
    '-bufsize',
    String(Math.round(bitrateBps / 2)),
  ];
}
