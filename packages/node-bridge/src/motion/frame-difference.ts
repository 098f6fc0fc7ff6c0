import type { MotionBox } from '../protocol.js';
import type { MotionMaskRect } from './motion-options.js';

/** What {@link frameDifference} measured between two gray images. */
export interface FrameDifference {
  /** Fraction of the watched pixels whose gray level changed by at least the threshold, 0..1. */
  area: number;
  /** Mean absolute difference of the watched pixels, 0..1 (of 255 gray levels). */
  score: number;
  /** Bounding box of the changed pixels, in fractions of the frame; absent when none changed. */
  box?: MotionBox;
}

/**
 * The watch map of a `width`×`height` image: 1 for a pixel whose changes count, 0 for one masked out. Without watch
 * rectangles every pixel is watched; with some, only theirs are; then ignore rectangles are cleared.
 */
export function motionMaskMap(mask: readonly MotionMaskRect[], width: number, height: number): Uint8Array {
  const watching = mask.some((rect) => rect.mode === 'watch');
  const map = new Uint8Array(width * height).fill(watching ? 0 : 1);
  const paint = (rect: MotionMaskRect, value: number): void => {
    const x0 = Math.floor(rect.x * width);
    const y0 = Math.floor(rect.y * height);
    const x1 = Math.min(width, Math.ceil((rect.x + rect.width) * width));
    const y1 = Math.min(height, Math.ceil((rect.y + rect.height) * height));
    for (let y = y0; y < y1; y++) map.fill(value, y * width + x0, y * width + x1);
  };
  for (const rect of mask) if (rect.mode === 'watch') paint(rect, 1);
  for (const rect of mask) if (rect.mode === 'ignore') paint(rect, 0);
  return map;
}

/**
 * Compares two gray images of `width`×`height` (one byte per pixel) pixel by pixel: a watched pixel (`map` 1)
 * changed when its levels differ by `threshold` or more. A map that watches nothing gives area and score 0.
 */
export function frameDifference(
  previous: Uint8Array,
  current: Uint8Array,
  width: number,
  height: number,
  threshold: number,
  map: Uint8Array,
): FrameDifference {
  let watched = 0;
  let changed = 0;
  let sum = 0;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (map[i] === 0) continue;
      watched++;
      const diff = Math.abs((current[i] ?? 0) - (previous[i] ?? 0));
      sum += diff;
      if (diff < threshold) continue;
      changed++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (watched === 0) return { area: 0, score: 0 };
  const result: FrameDifference = { area: changed / watched, score: sum / watched / 255 };
  if (changed > 0)
    result.box = {
      x: minX / width,
      y: minY / height,
      width: (maxX - minX + 1) / width,
      height: (maxY - minY + 1) / height,
    };
  return result;
}
