import { assertOption } from '@framewire/core';

// H.264 levels (ITU-T H.264 Table A-1): maximum frame size in macroblocks and macroblocks per second.
const AVC_LEVELS = [
  { level: 30, maxFs: 1620, maxMbps: 40500 },
  { level: 31, maxFs: 3600, maxMbps: 108000 },
  { level: 32, maxFs: 5120, maxMbps: 216000 },
  { level: 40, maxFs: 8192, maxMbps: 245760 },
  { level: 42, maxFs: 8704, maxMbps: 522240 },
  { level: 50, maxFs: 22080, maxMbps: 589824 },
  { level: 51, maxFs: 36864, maxMbps: 983040 },
  { level: 52, maxFs: 36864, maxMbps: 2073600 },
] as const;

/**
 * The RFC 6381 codec string for H.264 High profile at the lowest level that fits `width`×`height` at
 * `frameRate` (e.g. `avc1.64001f` for 1280×720 at 30 fps, `avc1.640028` for 1920×1080 at 30 fps).
 *
 * The level bounds the frame size an encoder accepts: a fixed `avc1.42001f` refuses 1920×1080.
 */
export function avcCodecForSize(width: number, height: number, frameRate = 30): string {
  assertOption(width > 0 && height > 0 && frameRate > 0, 'width, height and frameRate must be > 0');
  const macroblocks = Math.ceil(width / 16) * Math.ceil(height / 16);
  const fit = AVC_LEVELS.find((l) => macroblocks <= l.maxFs && macroblocks * frameRate <= l.maxMbps);
  assertOption(fit, `${width}x${height} at ${frameRate} fps exceeds every H.264 level`);
  return `avc1.6400${fit.level.toString(16).padStart(2, '0')}`;
}
