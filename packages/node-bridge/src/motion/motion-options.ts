import { assertOption } from '@framewire/core';
import type { MotionBox } from '../protocol.js';

/** A rectangle of the frame that motion detection ignores or, with `watch`, the only part it looks at. */
export interface MotionMaskRect extends MotionBox {
  /** `ignore`: changes inside do not count. `watch`: only changes inside watch rectangles count. */
  mode: 'ignore' | 'watch';
}

/** How motion is measured and decided (the part of {@link MotionOptions} a {@link MotionDetector} uses). */
export interface MotionDetectorOptions {
  /** Samples per second compared. Default: 5. */
  frameRate?: number;
  /** Width of the gray image compared, in pixels. Default: 160. */
  width?: number;
  /** Height of the gray image compared, in pixels. Default: 90. */
  height?: number;
  /** Per-pixel difference (of 0..255 gray levels) from the previous sample that counts a pixel as changed, 1..255. Default: 25. */
  threshold?: number;
  /** Fraction of the watched pixels that must change for a sample to count as motion, 0..1 (exclusive of 0). Default: 0.01. */
  minArea?: number;
  /** Rectangles to ignore or to watch, in fractions of the frame. Default: none (the whole frame is watched). */
  mask?: MotionMaskRect[];
  /** Changed samples in a row that start an event (`motion-start`). Default: 2. */
  startFrames?: number;
  /** Quiet time (no changed sample) that ends an event (`motion-end`), in ms. Default: 5000. */
  endQuietMs?: number;
}

/** Options of motion detection on the bridge (`BridgeServer.start({ motion })`, CLI `--motion`). */
export interface MotionOptions extends MotionDetectorOptions {
  /** The sources to watch, by id. Default: every source the bridge starts with. */
  sources?: string[];
  /** POST every event (JSON {@link BridgeMotionEvent}) to this http(s) URL. Default: none. */
  webhookUrl?: string;
  /** Retries of a failed webhook delivery, with exponential backoff from 500 ms. Default: 3. */
  webhookRetries?: number;
  /** Time one webhook request may take, in ms. Default: 5000. */
  webhookTimeoutMs?: number;
}

/** The defaults of {@link MotionDetectorOptions}, in one place. */
export const MOTION_DEFAULTS = {
  frameRate: 5,
  width: 160,
  height: 90,
  threshold: 25,
  minArea: 0.01,
  startFrames: 2,
  endQuietMs: 5000,
  webhookRetries: 3,
  webhookTimeoutMs: 5000,
} as const;

/** {@link MotionDetectorOptions} with every default applied. */
export type ResolvedMotionOptions = Required<Omit<MotionDetectorOptions, 'mask'>> & { mask: MotionMaskRect[] };

const inRange = (value: number | undefined, min: number, max: number, integer = false): boolean =>
  value === undefined ||
  (typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value)));

/** The numeric options and their ranges: [name, min, max, integer]. */
const RANGES: [keyof MotionOptions & keyof typeof MOTION_DEFAULTS, number, number, boolean][] = [
  ['frameRate', 0.1, 30, false],
  ['width', 16, 1920, true],
  ['height', 16, 1080, true],
  ['threshold', 1, 255, true],
  ['startFrames', 1, 100, true],
  ['endQuietMs', 0, 3_600_000, false],
  ['webhookRetries', 0, 20, true],
  ['webhookTimeoutMs', 1, 600_000, false],
];

/** True when the rectangle lies inside the frame (fractions 0..1) and is not empty. */
function insideFrame(x: unknown, y: unknown, width: unknown, height: unknown): boolean {
  const values = [x, y, width, height];
  if (!values.every((v): v is number => typeof v === 'number' && v >= 0 && v <= 1)) return false;
  const [left, top, w, h] = values as [number, number, number, number];
  return w > 0 && h > 0 && left + w <= 1 + 1e-9 && top + h <= 1 + 1e-9;
}

/** Validates `options` (throws `FW_ERR_INVALID_OPTION` naming the option) and applies the defaults. */
export function resolveMotionOptions(options: MotionOptions): ResolvedMotionOptions {
  for (const [name, min, max, integer] of RANGES)
    assertOption(
      inRange(options[name], min, max, integer),
      `motion.${name} must be ${integer ? 'an integer ' : ''}in ${min}..${max}; got ${String(options[name])}`,
    );
  assertOption(
    inRange(options.minArea, 0, 1) && options.minArea !== 0,
    `motion.minArea must be a fraction of the frame in (0, 1]; got ${options.minArea}`,
  );
  if (options.webhookUrl !== undefined) {
    const url = URL.canParse(options.webhookUrl) ? new URL(options.webhookUrl) : undefined;
    assertOption(
      url && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '',
      `motion.webhookUrl must be an http:// or https:// URL; got ${options.webhookUrl}`,
    );
  }
  assertOption(
    options.sources === undefined || (Array.isArray(options.sources) && options.sources.length > 0),
    'motion.sources must list at least one source id',
  );
  const mask = options.mask ?? [];
  assertOption(Array.isArray(mask), 'motion.mask must be an array of rectangles');
  for (const [index, rect] of mask.entries()) {
    assertOption(
      ['ignore', 'watch'].includes(rect.mode) && insideFrame(rect.x, rect.y, rect.width, rect.height),
      `motion.mask[${index}] must be { mode: 'ignore' | 'watch', x, y, width, height } in fractions of the frame (0..1, inside it)`,
    );
  }
  return {
    frameRate: options.frameRate ?? MOTION_DEFAULTS.frameRate,
    width: options.width ?? MOTION_DEFAULTS.width,
    height: options.height ?? MOTION_DEFAULTS.height,
    threshold: options.threshold ?? MOTION_DEFAULTS.threshold,
    minArea: options.minArea ?? MOTION_DEFAULTS.minArea,
    mask,
    startFrames: options.startFrames ?? MOTION_DEFAULTS.startFrames,
    endQuietMs: options.endQuietMs ?? MOTION_DEFAULTS.endQuietMs,
  };
}

/**
 * Parses the CLI's mask syntax: `x,y,w,h` (a rectangle to ignore) or `watch:x,y,w,h` (a rectangle to watch; with
 * any, only watched rectangles count), also `ignore:x,y,w,h`; fractions of the frame from its top-left corner.
 * Throws `FW_ERR_INVALID_OPTION` naming `--motion-mask` for anything else.
 */
export function parseMotionMask(text: string): MotionMaskRect {
  const match = /^(?:(ignore|watch):)?([^,]+),([^,]+),([^,]+),([^,]+)$/.exec(text.trim());
  const numbers = match ? match.slice(2).map(Number) : [];
  const [x, y, width, height] = numbers;
  const ok = match !== null && insideFrame(x, y, width, height);
  assertOption(
    ok,
    `--motion-mask must be x,y,w,h or watch:x,y,w,h in fractions of the frame (0..1, inside it), e.g. 0,0,0.5,0.2; got ${text}`,
  );
  return {
    mode: match[1] === 'watch' ? 'watch' : 'ignore',
    x: x ?? 0,
    y: y ?? 0,
    width: width ?? 0,
    height: height ?? 0,
  };
}
