/*
 * A robust 4-degree-of-freedom similarity fit (rotation, uniform scale, translation) between two point sets.
 * opencv.js lacks `estimateAffinePartial2D`, which vidgear's Stabilizer uses: this is its replacement, RANSAC
 * over two-point samples followed by a least-squares refit on the inliers.
 */

/** A similarity `q = [a −b; b a]·p + (tx, ty)`: scale √(a²+b²), angle atan2(b, a). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** The result of {@link fitSimilarityRobust}. */
export interface SimilarityFit extends Similarity {
  /** Point pairs consistent with the fit. */
  inliers: number;
}

/** Settings of {@link fitSimilarityRobust}. */
export interface SimilarityFitOptions {
  /** A pair is an inlier when the fit maps `p` within this distance of `q`, in the points' units. Default: 1.5. */
  thresholdPx?: number;
  /** Upper bound of RANSAC iterations. Default: 200. */
  maxIterations?: number;
  /** Fewest inliers for a fit to count. Default: 6. */
  minInliers?: number;
}

/** Least-squares similarity over the pairs whose `use[i]` is true (all when `use` is omitted); null if degenerate. */
export function fitSimilarityLeastSquares(
  from: Float32Array | Float64Array,
  to: Float32Array | Float64Array,
  use?: Uint8Array,
): Similarity | null {
  const n = from.length / 2;
  let count = 0;
  let px = 0;
  let py = 0;
  let qx = 0;
  let qy = 0;
  for (let i = 0; i < n; i++) {
    if (use && !use[i]) continue;
    px += from[2 * i] ?? 0;
    py += from[2 * i + 1] ?? 0;
    qx += to[2 * i] ?? 0;
    qy += to[2 * i + 1] ?? 0;
    count++;
  }
  if (count < 2) return null;
  px /= count;
  py /= count;
  qx /= count;
  qy /= count;
  let norm = 0;
  let dot = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    if (use && !use[i]) continue;
    const ux = (from[2 * i] ?? 0) - px;
    const uy = (from[2 * i + 1] ?? 0) - py;
    const vx = (to[2 * i] ?? 0) - qx;
    const vy = (to[2 * i + 1] ?? 0) - qy;
    norm += ux * ux + uy * uy;
    dot += ux * vx + uy * vy;
    cross += ux * vy - uy * vx;
  }
  if (norm < 1e-9) return null;
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: qx - (a * px - b * py), ty: qy - (b * px + a * py) };
}

/** Marks the pairs `m` maps within `threshold` of their target; returns how many. */
function markInliers(
  m: Similarity,
  from: Float32Array | Float64Array,
  to: Float32Array | Float64Array,
  threshold: number,
  out: Uint8Array,
): number {
  const limit = threshold * threshold;
  let count = 0;
  for (let i = 0; i < out.length; i++) {
    const x = from[2 * i] ?? 0;
    const y = from[2 * i + 1] ?? 0;
    const ex = m.a * x - m.b * y + m.tx - (to[2 * i] ?? 0);
    const ey = m.b * x + m.a * y + m.ty - (to[2 * i + 1] ?? 0);
    const inlier = ex * ex + ey * ey <= limit;
    out[i] = inlier ? 1 : 0;
    if (inlier) count++;
  }
  return count;
}

/**
 * Fits the similarity mapping `from[i]` to `to[i]` (interleaved x, y), ignoring outliers (points on moving
 * objects, tracking failures). Deterministic: the sampling uses a fixed-seed generator. Returns null when fewer
 * than `minInliers` pairs agree on one motion.
 */
export function fitSimilarityRobust(
  from: Float32Array | Float64Array,
  to: Float32Array | Float64Array,
  options: SimilarityFitOptions = {},
): SimilarityFit | null {
  const threshold = options.thresholdPx ?? 1.5;
  const maxIterations = options.maxIterations ?? 200;
  const minInliers = options.minInliers ?? 6;
  const n = Math.min(from.length, to.length) / 2;
  if (n < Math.max(2, minInliers)) return null;
  const best = new Uint8Array(n);
  const trial = new Uint8Array(n);
  let bestCount = 0;
  let seed = 0x9e3779b9;
  const random = (): number => {
    // xorshift32: fast, deterministic, good enough to pick sample pairs.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const pair = new Uint8Array(n);
  let iterations = maxIterations;
  for (let k = 0; k < iterations; k++) {
    const i = Math.floor(random() * n);
    let j = Math.floor(random() * (n - 1));
    if (j >= i) j++;
    pair.fill(0);
    pair[i] = 1;
    pair[j] = 1;
    const model = fitSimilarityLeastSquares(from, to, pair);
    if (!model) continue;
    const count = markInliers(model, from, to, threshold, trial);
    if (count > bestCount) {
      bestCount = count;
      best.set(trial);
      // Adaptive stop: enough iterations to have drawn an all-inlier pair with 99.5 % confidence.
      const w = count / n;
      const needed = Math.ceil(Math.log(0.005) / Math.log(Math.max(1e-12, 1 - w * w)));
      iterations = Math.min(iterations, Math.max(needed, 8));
    }
  }
  if (bestCount < minInliers) return null;
  // Two refinement rounds: refit on the inliers, then re-select inliers with the better model.
  let model = fitSimilarityLeastSquares(from, to, best);
  for (let round = 0; model && round < 2; round++) {
    const count = markInliers(model, from, to, threshold, best);
    if (count < minInliers) return null;
    bestCount = count;
    model = fitSimilarityLeastSquares(from, to, best);
  }
  return model ? { ...model, inliers: bestCount } : null;
}
