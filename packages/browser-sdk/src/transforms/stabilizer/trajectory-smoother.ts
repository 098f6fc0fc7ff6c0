/*
 * The camera path and its smoothed version. Each step adds the motion from the previous frame (dx, dy in pixels,
 * da in radians, the zoom as its logarithm); the path is their running sum, as in vidgear. The smoothed path at
 * frame i is a straight line fitted by least squares to the path over a window that ends `lookaheadFrames` after
 * i (at most `smoothingRadius` − 1), evaluated at i. The window is `smoothingRadius` frames wide while the
 * look-ahead is at most half of it; a longer look-ahead centres the window on i (as many frames before as after),
 * so waiting longer always smooths more. With the window centred this is vidgear's box average; with no look-ahead (a causal window) the line's
 * slope removes the lag a plain average would add to a pan.
 */

/** A position on the camera path, or a correction to it. */
export interface PathPoint {
  /** Horizontal offset, pixels. */
  x: number;
  /** Vertical offset, pixels. */
  y: number;
  /** Rotation, radians. */
  angle: number;
  /** Zoom (1: none; above 1 magnifies). Default: 1. */
  scale?: number;
}

/** What {@link TrajectorySmoother} and {@link KalmanSmoother} offer the stabilizer engine. */
export interface PathSmoother {
  /** Index the next {@link PathSmoother.push} gets. */
  readonly length: number;
  /** Adds the next frame's motion from its predecessor (ignored for a segment's first frame); returns its index. */
  push(motion: PathPoint): number;
  /** True once frame `index` has all the future frames it waits for. */
  isReady(index: number): boolean;
  /** The correction (smoothed − actual, the zoom as a ratio) for frame `index`, with the frames known so far. */
  correction(index: number): Required<PathPoint>;
  /** Forgets the path: the next frame starts a new segment (after a cut or a size change). */
  reset(): void;
}

/** The path's axes, the zoom as its logarithm (zooms compose by multiplication, their logarithms add up). */
interface PathState {
  x: number;
  y: number;
  angle: number;
  logScale: number;
}

const AXES = ['x', 'y', 'angle', 'logScale'] as const;
const ORIGIN: Readonly<PathState> = { x: 0, y: 0, angle: 0, logScale: 0 };

/**
 * The moving-window smoother: keeps the path of one segment (frames of one size, without a cut) and answers
 * corrections for its frames.
 */
export class TrajectorySmoother implements PathSmoother {
  readonly #past: number;
  readonly #future: number;
  readonly #path = new Map<number, PathState>();
  #last = -1;
  #first = 0;

  /** @param smoothingRadius window width in frames (≥ 1). @param lookaheadFrames future frames in the window. */
  constructor(smoothingRadius: number, lookaheadFrames: number) {
    this.#future = Math.min(lookaheadFrames, smoothingRadius - 1);
    this.#past = Math.max(smoothingRadius - 1 - this.#future, this.#future);
  }

  /** Index the next {@link push} gets. */
  get length(): number {
    return this.#last + 1;
  }

  /** Adds the next frame's motion from its predecessor (zero for a segment's first frame); returns its index. */
  push(motion: PathPoint): number {
    const previous = this.#path.get(this.#last) ?? ORIGIN;
    this.#last++;
    const point: PathState =
      this.#last === this.#first
        ? ORIGIN
        : {
            x: previous.x + motion.x,
            y: previous.y + motion.y,
            angle: previous.angle + motion.angle,
            logScale: previous.logScale + Math.log(motion.scale ?? 1),
          };
    this.#path.set(this.#last, point);
    // Keep what any later window can still reach.
    this.#path.delete(this.#last - this.#past - this.#future - 2);
    return this.#last;
  }

  /** True once frame `index` has all the future frames its window wants. */
  isReady(index: number): boolean {
    return index + this.#future <= this.#last;
  }

  /**
   * The correction (smoothed − actual) for frame `index`, using the frames known so far (at the end of a stream,
   * fewer future frames than asked).
   */
  correction(index: number): Required<PathPoint> {
    const start = Math.max(this.#first, index - this.#past);
    const end = Math.min(this.#last, index + this.#future);
    const actual = this.#path.get(index);
    if (!actual || end <= start) return { x: 0, y: 0, angle: 0, scale: 1 };
    // Least-squares line over (j, path[j]), j in [start, end], evaluated at `index`.
    let sj = 0;
    let sjj = 0;
    const s: PathState = { ...ORIGIN };
    const sx: PathState = { ...ORIGIN };
    let n = 0;
    for (let j = start; j <= end; j++) {
      const p = this.#path.get(j);
      if (!p) continue;
      const t = j - index;
      n++;
      sj += t;
      sjj += t * t;
      for (const axis of AXES) {
        s[axis] += p[axis];
        sx[axis] += t * p[axis];
      }
    }
    const det = n * sjj - sj * sj;
    // Intercept at t = 0 of the fitted line; a plain mean when the window is symmetric or degenerate.
    const at = (axis: keyof PathState): number =>
      (det > 1e-9 ? (sjj * s[axis] - sj * sx[axis]) / det : s[axis] / n) - actual[axis];
    return { x: at('x'), y: at('y'), angle: at('angle'), scale: Math.exp(at('logScale')) };
  }

  /** Forgets the path: the next frame starts a new segment (after a cut or a size change). */
  reset(): void {
    this.#path.clear();
    this.#first = this.#last + 1;
  }
}
