/** A rectangle in output pixels. */
export interface PixelRect {
  /** Left edge, pixels. */
  x: number;
  /** Top edge, pixels. */
  y: number;
  /** Width, pixels. */
  width: number;
  /** Height, pixels. */
  height: number;
}

/**
 * What the {@link Stabilizer} did to one output frame. The frame's content moved by (`dx`, `dy`) pixels and
 * turned by `angle` radians about the frame centre, then was zoomed by `scale` about the output centre.
 */
export interface StabilizerTransform {
  /** The frame's timestamp, µs (unchanged by stabilization). */
  timestampUs: number;
  /** The frame's capture wall-clock time, ms since the Unix epoch; `undefined` when the frame had no stamp. */
  captureTimeMs: number | undefined;
  /** Horizontal correction, input pixels (positive moves the picture right). */
  dx: number;
  /** Vertical correction, input pixels (positive moves the picture down). */
  dy: number;
  /** Rotation correction, radians (positive turns clockwise on screen). */
  angle: number;
  /** Zoom correction about the frame centre, applied with `dx`, `dy` and `angle` (1: none; above 1 magnifies). */
  zoom: number;
  /** Zoom applied after the correction: 1, or above 1 with `cropAndZoom`. */
  scale: number;
  /**
   * The largest centred rectangle of the output, with the output's aspect ratio, that holds only picture (no
   * border fill). Cropping every frame to the smallest of these gives a border-free video.
   */
  crop: PixelRect;
  /**
   * False when the motion from the previous frame could not be measured (too few trackable features: a black,
   * flat or blurred frame, a cut, the first frame of a size): that step counts as no motion (vidgear's fallback).
   */
  motionFound: boolean;
  /** Frames between this frame's arrival and its output: the look-ahead, less at the end of the stream. */
  delayFrames: number;
  /**
   * True when this frame starts a new shot: a scene cut was detected between it and the previous frame (or its
   * size changed), so the smoothing starts again here and nothing is smoothed across the cut.
   */
  cut: boolean;
}

/** Output geometry of a warp. */
export interface WarpGeometry {
  /** Input frame size, pixels. */
  width: number;
  height: number;
  /** Output frame size, pixels. */
  outputWidth: number;
  outputHeight: number;
  /** Zoom about the output centre. */
  scale: number;
}

/**
 * The largest centred rectangle of the output (same aspect ratio) that the warped input covers entirely, for a
 * correction (`dx`, `dy`, `angle`, `zoom` about the frame centre) applied to a `width`×`height` frame drawn
 * centred at `scale` on the output.
 */
export function coveredCrop(g: WarpGeometry, dx: number, dy: number, angle: number, zoom = 1): PixelRect {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // Inverse rotation of the correction's translation.
  const gx = cos * dx + sin * dy;
  const gy = -sin * dx + cos * dy;
  let k = 1;
  for (const [ox, oy] of [
    [1, 1],
    [1, -1],
    [-1, 1],
    [-1, -1],
  ] as const) {
    const cx = (ox * g.outputWidth) / 2 / g.scale;
    const cy = (oy * g.outputHeight) / 2 / g.scale;
    // A corner of the output rectangle, taken back into input coordinates (centred), per unit of k.
    const ex = cos * cx + sin * cy;
    const ey = -sin * cx + cos * cy;
    for (const [e, gg, half] of [
      [ex, gx, (zoom * g.width) / 2],
      [ey, gy, (zoom * g.height) / 2],
    ] as const) {
      if (Math.abs(e) < 1e-9) continue;
      const bound = e > 0 ? (half + gg) / e : (half - gg) / -e;
      k = Math.min(k, bound);
    }
  }
  k = Math.max(0, k);
  const width = g.outputWidth * k;
  const height = g.outputHeight * k;
  return { x: (g.outputWidth - width) / 2, y: (g.outputHeight - height) / 2, width, height };
}
