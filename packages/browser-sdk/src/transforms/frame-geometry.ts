/*
 * The pure arithmetic of the crop and resize transforms: where a crop lands in a frame's coded pixels, and the
 * output size of a resize. No DOM here, so the unit tier tests it from the sources.
 */
import { FramewireError } from '@framewire/core';
import type { PixelRect } from './stabilizer/stabilizer-transform.js';

/**
 * How many pixels apart a `visibleRect` offset must be for a pixel format: a 4:2:0 frame (I420, NV12, the formats
 * cameras and decoders give) shares one chroma sample between 2×2 pixels, so its crops start on even columns and
 * rows; 4:2:2 on even columns; 4:4:4 and RGB anywhere. `null` (an opaque frame) has no constraint.
 */
export function sampleAlignment(format: string | null): { x: 1 | 2; y: 1 | 2 } {
  if (format === null) return { x: 1, y: 1 };
  if (format.startsWith('I420') || format === 'NV12') return { x: 2, y: 2 };
  if (format.startsWith('I422')) return { x: 2, y: 1 };
  return { x: 1, y: 1 };
}

/**
 * The `visibleRect` (in coded pixels) that crops `rect`, given relative to the frame's visible area `visible`, out
 * of a frame of `format`. An offset the format cannot start at (odd on 4:2:0) is rounded down to the sample grid, so
 * the crop stays a view without a copy: the picture then starts up to one pixel left of or above the one asked for.
 * The size is always the one asked for. Throws `FW_ERR_INVALID_OPTION` when `rect` does not fit in the frame.
 */
export function cropVisibleRect(rect: PixelRect, visible: PixelRect, format: string | null): PixelRect {
  if (rect.x + rect.width > visible.width || rect.y + rect.height > visible.height) {
    throw new FramewireError(
      'FW_ERR_INVALID_OPTION',
      `options: the crop x ${rect.x}, y ${rect.y}, ${rect.width}×${rect.height} does not fit in a ` +
        `${visible.width}×${visible.height} frame`,
      { fatal: true, stage: 'transform' },
    );
  }
  const align = sampleAlignment(format);
  const x = visible.x + rect.x;
  const y = visible.y + rect.y;
  return { x: x - (x % align.x), y: y - (y % align.y), width: rect.width, height: rect.height };
}

/**
 * The output size of a resize of a `inputWidth`×`inputHeight` picture. With both `width` and `height`, exactly
 * those (the picture is stretched to them); with one of them, the other follows the input's aspect ratio, rounded
 * to the nearest even number (at least 2) because 4:2:0 encoders need even sizes.
 */
export function resizedSize(
  inputWidth: number,
  inputHeight: number,
  target: { width?: number | undefined; height?: number | undefined },
): { width: number; height: number } {
  const even = (n: number): number => Math.max(2, 2 * Math.round(n / 2));
  if (target.width !== undefined && target.height !== undefined) return { width: target.width, height: target.height };
  if (target.width !== undefined)
    return { width: target.width, height: even((target.width * inputHeight) / inputWidth) };
  if (target.height !== undefined)
    return { width: even((target.height * inputWidth) / inputHeight), height: target.height };
  return { width: inputWidth, height: inputHeight };
}
