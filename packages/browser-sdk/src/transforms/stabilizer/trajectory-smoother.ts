/*
 * The camera path and its smoothed version. Each step adds the motion from the previous frame (dx, dy in pixels,
 * da in radians); the path is their running sum, as in vidgear. The smoothed path at frame i is a straight line
 * fitted by least squares to the path over a window of `smoothingRadius` frames that ends `lookaheadFrames`
 * after i, evaluated at i. With the window centred this is vidgear's box average; with no look-ahead (a causal
 * window) the line's slope removes the lag a plain average would add to a pan.
 */

/** A position on the camera path, or a correction to it. */
export interface PathPoint {
  /** Horizontal offset, pixels. */
  x: number;
  /** Vertical offset, pixels. */
  y: number;
  /** Rotation, radians. */
  angle: number;
}

/** Keeps the path of one segment (frames of one size, without a cut) and answers corrections for its frames. */
export class TrajectorySmoother {
  readonly #past: number;
  readonly #future: number;
  readonly #path = new Map<number, PathPoint>();
  #last = -1;
  #first = 0;

  /** @param smoothingRadius window width in frames (≥ 1). @param lookaheadFrames future frames in the window. */
  constructor(smoothingRadius: number, lookaheadFrames: number) {
    this.#future = Math.min(lookaheadFrames, smoothingRadius - 1);
    this.#past = smoothingRadius - 1 - this.#future;
  }

  /** Index the next {@link push} gets. */
  get length(): number {
    return this.#last + 1;
  }

  /** Adds the next frame's motion from its predecessor (zero for a segment's first frame); returns its index. */
  push(motion: PathPoint): number {
    const previous = this.#path.get(this.#last) ?? { x: 0, y: 0, angle: 0 };
    this.#last++;
    const point =
      this.#last === this.#first
        ? { x: 0, y: 0, angle: 0 }
        : { x: previous.x + motion.x, y: previous.y + motion.y, angle: previous.angle + motion.angle };
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
  correction(index: number): PathPoint {
    const start = Math.max(this.#first, index - this.#past);
    const end = Math.min(this.#last, index + this.#future);
    const actual = this.#path.get(index);
    if (!actual || end <= start) return { x: 0, y: 0, angle: 0 };
    // Least-squares line over (j, path[j]), j in [start, end], evaluated at `index`.
    let sj = 0;
    let sjj = 0;
    const s = { x: 0, y: 0, angle: 0 };
    const sx = { x: 0, y: 0, angle: 0 };
    let n = 0;
    for (let j = start; j <= end; j++) {
      const p = this.#path.get(j);
      if (!p) continue;
      const t = j - index;
      n++;
      sj += t;
      sjj += t * t;
      s.x += p.x;
      s.y += p.y;
      s.angle += p.angle;
      sx.x += t * p.x;
      sx.y += t * p.y;
      sx.angle += t * p.angle;
    }
    const det = n * sjj - sj * sj;
    // Intercept at t = 0 of the fitted line; a plain mean when the window is symmetric or degenerate.
    const at = (sum: number, cross: number): number => (det > 1e-9 ? (sjj * sum - sj * cross) / det : sum / n);
    return {
      x: at(s.x, sx.x) - actual.x,
      y: at(s.y, sx.y) - actual.y,
      angle: at(s.angle, sx.angle) - actual.angle,
    };
  }

  /** Forgets the path: the next frame starts a new segment (after a cut or a size change). */
  reset(): void {
    this.#path.clear();
    this.#first = this.#last + 1;
  }
}
