import { assertOption } from '@framewire/core';

/** How the area a moved frame no longer covers is filled (vidgear's `border_type`). */
export type StabilizerBorderType = 'black' | 'reflect' | 'reflect101' | 'replicate' | 'wrap';

/** The border types, in vidgear's order. */
export const STABILIZER_BORDER_TYPES: readonly StabilizerBorderType[] = [
  'black',
  'reflect',
  'reflect101',
  'replicate',
  'wrap',
];

/** How the camera path is smoothed: a moving window (vidgear's) or a Kalman filter. */
export type StabilizerSmoothing = 'window' | 'kalman';

/** The smoothing methods. */
export const STABILIZER_SMOOTHINGS: readonly StabilizerSmoothing[] = ['window', 'kalman'];

/**
 * Options of the {@link Stabilizer}: vidgear's `Stabilizer` options with the same meaning and defaults, plus
 * `lookaheadFrames`, which trades delay for smoothness.
 */
export interface StabilizerOptions {
  /**
   * Width of the smoothing window, in frames (vidgear's `smoothing_radius`, which is a width too): larger is
   * smoother and follows intended pans more slowly. Integer ≥ 1. Default: 25.
   */
  smoothingRadius?: number;
  /**
   * Frames the smoother may look ahead: each output frame waits for min(this, smoothingRadius − 1) later frames.
   * 0 smooths causally and adds no delay (live video); ⌊smoothingRadius / 2⌋ centres the window, as vidgear does,
   * for vidgear's smoothness with half its delay; a longer look-ahead widens the centred window to 2 × that + 1
   * frames (with `smoothing: 'kalman'`, refines each estimate over that many later frames). Integer from 0 to
   * `smoothingRadius`. Default: 0.
   */
  lookaheadFrames?: number;
  /**
   * How the camera path (position, rotation and zoom) is smoothed: `window` fits a straight line to the path over
   * the moving window (vidgear's box average, without its lag on pans when causal); `kalman` follows each axis
   * with a constant-velocity Kalman filter (causal; smoother on slow sway than a causal window, and keeps pans),
   * with a backward (Rauch-Tung-Striebel) pass over the look-ahead when `lookaheadFrames` > 0; `smoothingRadius`
   * sets its smoothness. Default: `window`.
   */
  smoothing?: StabilizerSmoothing;
  /**
   * Pixels added on each side of the frame before warping (vidgear's `border_size`): the output grows by twice
   * this, unless `cropAndZoom`. Integer ≥ 0. Default: 0.
   */
  borderSize?: number;
  /**
   * With `borderSize` > 0, crop `borderSize` pixels per side of the warped frame and zoom back to the input size,
   * hiding most of the moving border (vidgear's `crop_n_zoom`; the zoom keeps the aspect ratio). Forces the
   * border to black, as in vidgear. Default: false.
   */
  cropAndZoom?: boolean;
  /** Fill of the uncovered area (vidgear's `border_type`). Default: `black`. */
  borderType?: StabilizerBorderType;
  /**
   * Width of the grayscale copy motion is measured on, pixels: smaller is faster, larger measures finer motion.
   * Frames narrower than this are analysed at their own size. Integer from 64 to 1920. Default: 320.
   */
  analysisWidth?: number;
}

/** Options with every default filled in (what the worker receives). */
export type ResolvedStabilizerOptions = Required<StabilizerOptions>;

/** Validates `options` (throwing `FW_ERR_INVALID_OPTION` naming the option) and fills in the defaults. */
export function resolveStabilizerOptions(options: StabilizerOptions = {}): ResolvedStabilizerOptions {
  assertOption(typeof options === 'object', 'options must be an object');
  const isInt = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
  const smoothingRadius = options.smoothingRadius ?? 25;
  assertOption(isInt(smoothingRadius, 1, 1000), 'options.smoothingRadius must be an integer from 1 to 1000');
  const lookaheadFrames = options.lookaheadFrames ?? 0;
  assertOption(
    isInt(lookaheadFrames, 0, smoothingRadius),
    `options.lookaheadFrames must be an integer from 0 to smoothingRadius (${smoothingRadius})`,
  );
  const borderSize = options.borderSize ?? 0;
  assertOption(isInt(borderSize, 0, 4096), 'options.borderSize must be an integer from 0 to 4096');
  const cropAndZoom = options.cropAndZoom ?? false;
  assertOption(typeof cropAndZoom === 'boolean', 'options.cropAndZoom must be a boolean');
  const borderType = options.borderType ?? 'black';
  assertOption(
    STABILIZER_BORDER_TYPES.includes(borderType),
    `options.borderType must be one of ${STABILIZER_BORDER_TYPES.join(', ')}`,
  );
  const smoothing = options.smoothing ?? 'window';
  assertOption(
    STABILIZER_SMOOTHINGS.includes(smoothing),
    `options.smoothing must be one of ${STABILIZER_SMOOTHINGS.join(', ')}`,
  );
  const analysisWidth = options.analysisWidth ?? 320;
  assertOption(isInt(analysisWidth, 64, 1920), 'options.analysisWidth must be an integer from 64 to 1920');
  return {
    smoothingRadius,
    lookaheadFrames,
    borderSize,
    cropAndZoom,
    // vidgear forces a black border when cropping and zooming.
    borderType: cropAndZoom && borderSize > 0 ? 'black' : borderType,
    analysisWidth,
    smoothing,
  };
}
