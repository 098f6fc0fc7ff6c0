/*
 * The Kalman smoother: each axis of the camera path (x, y, angle, log zoom) is followed by a constant-velocity
 * Kalman filter, so an intended pan (constant velocity) is kept without lag and shake (quick changes of velocity)
 * is treated as measurement noise. Causal by itself (no delay); with a look-ahead, a Rauch-Tung-Striebel pass over
 * the frames after i refines frame i's estimate with what came next.
 */
import type { PathPoint, PathSmoother } from './trajectory-smoother.js';

/** One axis's estimate: position, velocity and their covariance (symmetric 2×2: pp, pv, vv). */
interface AxisEstimate {
  p: number;
  v: number;
  pp: number;
  pv: number;
  vv: number;
}

/** Per frame: the path as measured, and each axis's prediction (before the frame) and filtered estimate. */
interface Step {
  measured: number[];
  predicted: AxisEstimate[];
  filtered: AxisEstimate[];
}

const AXIS_COUNT = 4;

/** The Kalman filter's settings for a smoothing width: the process noise, relative to the measurement's. */
function processNoise(smoothingRadius: number): number {
  // A constant-velocity filter whose response to a step spans about `smoothingRadius` frames: the steady-state
  // bandwidth scales as (q / r)^(1/4), so q / r = (c / width)^4 (c chosen so width 25 attenuates 4 Hz shake at
  // 30 fps by about 10×, as the moving window of width 25 does).
  return Math.pow(3 / Math.max(1, smoothingRadius), 4);
}

/** Smooths the camera path of one segment with per-axis constant-velocity Kalman filters. */
export class KalmanSmoother implements PathSmoother {
  readonly #future: number;
  readonly #q: number;
  readonly #steps = new Map<number, Step>();
  #last = -1;
  #first = 0;
  #path = [0, 0, 0, 0];

  /** @param smoothingRadius sets how smooth (larger: smoother). @param lookaheadFrames frames of RTS look-ahead. */
  constructor(smoothingRadius: number, lookaheadFrames: number) {
    // As for the moving window, the look-ahead is capped at smoothingRadius − 1 (the Stabilizer's delay).
    this.#future = Math.min(lookaheadFrames, Math.max(0, smoothingRadius - 1));
    this.#q = processNoise(smoothingRadius);
  }

  get length(): number {
    return this.#last + 1;
  }

  push(motion: PathPoint): number {
    this.#last++;
    const first = this.#last === this.#first;
    if (first) this.#path = [0, 0, 0, 0];
    else {
      const [x = 0, y = 0, angle = 0, logScale = 0] = this.#path;
      this.#path = [x + motion.x, y + motion.y, angle + motion.angle, logScale + Math.log(motion.scale ?? 1)];
    }
    const previous = this.#steps.get(this.#last - 1);
    const predicted: AxisEstimate[] = [];
    const filtered: AxisEstimate[] = [];
    for (let a = 0; a < AXIS_COUNT; a++) {
      const z = this.#path[a] ?? 0;
      const before = first || !previous ? undefined : previous.filtered[a];
      // Start at the first measurement, at rest, with a wide velocity prior.
      const prior = before ? this.#predict(before) : { p: z, v: 0, pp: 1, pv: 0, vv: 1 };
      predicted.push(prior);
      filtered.push(first ? { p: z, v: 0, pp: 1, pv: 0, vv: 1 } : update(prior, z));
    }
    this.#steps.set(this.#last, { measured: [...this.#path], predicted, filtered });
    this.#steps.delete(this.#last - this.#future - 2);
    return this.#last;
  }

  isReady(index: number): boolean {
    return index + this.#future <= this.#last;
  }

  correction(index: number): Required<PathPoint> {
    const step = this.#steps.get(index);
    if (!step) return { x: 0, y: 0, angle: 0, scale: 1 };
    const smoothed: number[] = [];
    for (let a = 0; a < AXIS_COUNT; a++) smoothed.push(this.#smoothed(index, a) - (step.measured[a] ?? 0));
    const [x = 0, y = 0, angle = 0, logScale = 0] = smoothed;
    return { x, y, angle, scale: Math.exp(logScale) };
  }

  reset(): void {
    this.#steps.clear();
    this.#first = this.#last + 1;
  }

  /** Frame `index`'s position on axis `a`, refined backwards (RTS) from the last frame of its look-ahead. */
  #smoothed(index: number, a: number): number {
    const end = Math.min(this.#last, index + this.#future);
    const last = this.#steps.get(end)?.filtered[a];
    if (!last) return 0;
    let p = last.p;
    let v = last.v;
    for (let j = end - 1; j >= index; j--) {
      const f = this.#steps.get(j)?.filtered[a];
      const next = this.#steps.get(j + 1)?.predicted[a];
      if (!f || !next) break;
      // Gain C = P_f · Fᵀ · P_pred⁻¹, with F = [1 1; 0 1].
      const fp = f.pp + f.pv;
      const fv = f.pv + f.vv;
      const det = next.pp * next.vv - next.pv * next.pv;
      if (Math.abs(det) < 1e-18) break;
      const ip = next.vv / det;
      const iv = -next.pv / det;
      const iw = next.pp / det;
      const c00 = fp * ip + f.pv * iv;
      const c01 = fp * iv + f.pv * iw;
      const c10 = fv * ip + f.vv * iv;
      const c11 = fv * iv + f.vv * iw;
      const dp = p - next.p;
      const dv = v - next.v;
      p = f.p + c00 * dp + c01 * dv;
      v = f.v + c10 * dp + c11 * dv;
    }
    return p;
  }

  /** The constant-velocity prediction one frame on, with white-acceleration process noise. */
  #predict(e: AxisEstimate): AxisEstimate {
    const q = this.#q;
    return {
      p: e.p + e.v,
      v: e.v,
      pp: e.pp + 2 * e.pv + e.vv + q / 3,
      pv: e.pv + e.vv + q / 2,
      vv: e.vv + q,
    };
  }
}

/** The Kalman update with a position measurement `z` of unit variance. */
function update(e: AxisEstimate, z: number): AxisEstimate {
  const s = e.pp + 1;
  const kp = e.pp / s;
  const kv = e.pv / s;
  const r = z - e.p;
  return {
    p: e.p + kp * r,
    v: e.v + kv * r,
    pp: (1 - kp) * e.pp,
    pv: (1 - kp) * e.pv,
    vv: e.vv - kv * e.pv,
  };
}
