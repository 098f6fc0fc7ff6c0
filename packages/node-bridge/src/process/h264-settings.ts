import { assertOption } from '@framewire/core';

/** An H.264 profile every browser decodes (no 10-bit, no 4:2:2). */
export type H264Profile = 'baseline' | 'main' | 'high';

/** The H.264 profiles the bridge's encoders take. */
export const H264_PROFILES: readonly H264Profile[] = ['baseline', 'main', 'high'];

/** The H.264 levels the software encoders take (`--h264-level`), as written in the standard. */
export const H264_LEVELS: readonly string[] = [
  '1',
  '1.1',
  '1.2',
  '1.3',
  '2',
  '2.1',
  '2.2',
  '3',
  '3.1',
  '3.2',
  '4',
  '4.1',
  '4.2',
  '5',
  '5.1',
  '5.2',
];

/** The levels the Raspberry Pi's hardware encoder takes (rpicam-vid `--level`). */
export const PI_HARDWARE_H264_LEVELS: readonly string[] = ['4', '4.1', '4.2'];

/** Throws `FW_ERR_INVALID_OPTION`, naming `option`, unless `value` is baseline, main or high. */
export function assertH264Profile(value: unknown, option: string): asserts value is H264Profile {
  assertOption(
    typeof value === 'string' && (H264_PROFILES as readonly string[]).includes(value),
    `${option} must be baseline, main or high; got ${String(value)}`,
  );
}

/** Throws `FW_ERR_INVALID_OPTION`, naming `option`, unless `value` is one of `levels` (default {@link H264_LEVELS}). */
export function assertH264Level(
  value: unknown,
  option: string,
  levels: readonly string[] = H264_LEVELS,
): asserts value is string {
  assertOption(
    typeof value === 'string' && levels.includes(value),
    `${option} must be one of ${levels.join(', ')}; got ${String(value)}`,
  );
}

/**
 * A bitrate in bits per second from `2000000`, `2M`, `2.5M` or `800k` (CLI `--bitrate`). Throws
 * `FW_ERR_INVALID_OPTION`, naming `option`, for anything else.
 */
export function parseBitrate(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  assertOption(match, `${option} must be bits per second, e.g. 2000000, 2M or 800k; got ${text}`);
  const unit = match[2]?.toLowerCase();
  const scale = unit === 'm' ? 1_000_000 : unit === 'k' ? 1_000 : 1;
  return Math.round(Number(match[1]) * scale);
}

/**
 * libx264 settings (`x264-params`) for `profile`, given `ultrafast`/`zerolatency`: that preset turns CABAC and the
 * 8×8 transform off, and x264 then writes a constrained-baseline stream whatever profile was asked for, so main turns
 * CABAC back on and high the 8×8 transform too. `repeatHeaders` adds `repeat-headers=1`: SPS/PPS before every
 * keyframe in a raw H.264 stream, for viewers that join late. Empty when there is nothing to set.
 */
export function x264Params(profile: H264Profile, repeatHeaders: boolean): string {
  const params = [
    ...(repeatHeaders ? ['repeat-headers=1'] : []),
    ...(profile === 'baseline' ? [] : ['cabac=1']),
    ...(profile === 'high' ? ['8x8dct=1'] : []),
  ];
  return params.join(':');
}
