import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOption } from '@framewire/core';
import { LOW_DELAY_INPUT_ARGS, type H264EncodeOptions } from '../process/ffmpeg-args.js';
import { FfmpegSource } from './ffmpeg-source.js';
import { assertVideoGeometry } from './test-pattern-source.js';

/** Options of {@link createV4l2Source}. */
export interface V4l2SourceOptions {
  /** Source id. Default: `v4l2`. */
  id?: string;
  /** The device. Default: `/dev/video0`. */
  device?: string;
  /** The format to ask the device for: `mjpeg`, `yuyv422` or `h264` (see {@link listV4l2Formats}). Default: the device's default. */
  inputFormat?: 'mjpeg' | 'yuyv422' | 'h264' | (string & {});
  /** Frame width in pixels. Default: the device's default. */
  width?: number;
  /** Frame height in pixels. Default: the device's default. */
  height?: number;
  /** Frames per second. Default: the device's default. */
  frameRate?: number;
  /** What the source produces: `jpeg` or `h264`. An `h264` device read as `h264` is passed through. Default: `jpeg`. */
  codec?: 'jpeg' | 'h264';
  /** JPEG quality (2 best – 31). Default: 5. */
  jpegQuality?: number;
  /** H.264 encoding settings. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /**
   * An ffmpeg filtergraph for the video (vidgear's FFGear), applied by the source's own ffmpeg, e.g.
   * `hflip,eq=gamma=1.2`; see {@link FfmpegSourceOptions.videoFilter}. Default: none.
   */
  videoFilter?: string;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
}

/** The ffmpeg input arguments for a V4L2 device (`-f v4l2 -input_format … -video_size … -framerate … -i dev`). */
export function v4l2InputArgs(options: V4l2SourceOptions = {}): string[] {
  const device = options.device ?? '/dev/video0';
  assertOption(/^\/dev\/[\w./-]+$/.test(device), `device must be a /dev path; got ${device}`);
  if (options.width !== undefined || options.height !== undefined || options.frameRate !== undefined)
    assertVideoGeometry(options.width ?? 640, options.height ?? 480, options.frameRate ?? 30);
  assertOption((options.width === undefined) === (options.height === undefined), 'width and height go together');
  const args = [...LOW_DELAY_INPUT_ARGS, '-f', 'v4l2'];
  if (options.inputFormat) {
    assertOption(/^\w+$/.test(options.inputFormat), `inputFormat must be a format name; got ${options.inputFormat}`);
    args.push('-input_format', options.inputFormat);
  }
  if (options.width !== undefined && options.height !== undefined)
    args.push('-video_size', `${options.width}x${options.height}`);
  if (options.frameRate !== undefined) args.push('-framerate', String(options.frameRate));
  args.push('-i', device);
  return args;
}

/**
 * A V4L2 device (USB webcam, HDMI grabber, a Pi camera through its V4L2 driver) read by ffmpeg. A device that
 * delivers H.264 (`inputFormat: 'h264'`) is passed through untouched when the source produces `h264`.
 */
export function createV4l2Source(options: V4l2SourceOptions = {}): FfmpegSource {
  const codec = options.codec ?? 'jpeg';
  const h264 = { ...(options.inputFormat === 'h264' ? { copy: true } : {}), ...options.h264 };
  return new FfmpegSource({
    id: options.id ?? 'v4l2',
    kind: 'v4l2',
    inputArgs: v4l2InputArgs(options),
    codec,
    h264,
    ...(options.jpegQuality === undefined ? {} : { jpegQuality: options.jpegQuality }),
    ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
    ...(options.videoFilter === undefined ? {} : { videoFilter: options.videoFilter }),
  });
}

/** A V4L2 device found by {@link listV4l2Devices}. */
export interface V4l2Device {
  /** Device path, e.g. `/dev/video0`. */
  device: string;
  /** The driver's name for it, e.g. `HD Pro Webcam C920`. */
  name: string;
}

/** Lists V4L2 devices from sysfs (`/sys/class/video4linux/video<n>/name`), sorted by number. None → `[]`. */
export async function listV4l2Devices(sysfsRoot = '/sys/class/video4linux'): Promise<V4l2Device[]> {
  let entries: string[];
  try {
    entries = await readdir(sysfsRoot);
  } catch {
    return [];
  }
  const devices = await Promise.all(
    entries
      .filter((entry) => /^video\d+$/.test(entry))
      .map(async (entry) => ({
        device: `/dev/${entry}`,
        name: (await readFile(join(sysfsRoot, entry, 'name'), 'utf8').catch(() => entry)).trim(),
      })),
  );
  return devices.sort((a, b) => Number(a.device.slice(10)) - Number(b.device.slice(10)));
}

/** One pixel format a V4L2 device offers. */
export interface V4l2Format {
  /** `raw` (e.g. YUYV) or `compressed` (MJPEG, H.264). */
  type: 'raw' | 'compressed';
  /** ffmpeg's name, usable as `inputFormat`, e.g. `mjpeg`, `yuyv422`, `h264`. */
  format: string;
  /** The driver's description, e.g. `Motion-JPEG`. */
  description: string;
  /** Frame sizes, e.g. `['1280x720', '640x480']`, or a stepwise range such as `{32-2592, 2}x{32-1944, 2}`. */
  sizes: string[];
}

/** Parses the output of `ffmpeg -f v4l2 -list_formats all -i <device>` (it prints to stderr). */
export function parseV4l2Formats(text: string): V4l2Format[] {
  const formats: V4l2Format[] = [];
  for (const line of text.split('\n')) {
    const match = /\]\s*(Raw|Compressed)\s*:(.*)$/.exec(line);
    if (!match) continue;
    const [format = '', description = '', sizes = ''] = (match[2] ?? '').split(/\s:\s/).map((part) => part.trim());
    const type = match[1];
    formats.push({
      type: type === 'Raw' ? 'raw' : 'compressed',
      format,
      description,
      sizes: sizes.startsWith('{') ? [sizes] : sizes.split(/\s+/).filter(Boolean),
    });
  }
  return formats;
}

/** Asks ffmpeg which formats and sizes `device` offers. Resolves `[]` when the device cannot be opened. */
export function listV4l2Formats(device: string, ffmpegPath = 'ffmpeg'): Promise<V4l2Format[]> {
  return new Promise((resolve) => {
    execFile(
      ffmpegPath,
      ['-hide_banner', '-nostdin', '-f', 'v4l2', '-list_formats', 'all', '-i', device],
      { timeout: 10_000 },
      (_error, _stdout, stderr) => resolve(parseV4l2Formats(stderr)),
    );
  });
}
