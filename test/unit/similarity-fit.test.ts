// The stabilizer's similarity fit (packages/browser-sdk/src/transforms/stabilizer/similarity-fit.ts): exact
// recovery of known motions, robustness to outliers, and the degenerate inputs that must give null.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fitSimilarityLeastSquares,
  fitSimilarityRobust,
  type Similarity,
} from '../../packages/browser-sdk/src/transforms/stabilizer/similarity-fit.js';

/** A deterministic generator (mulberry32), so every run sees the same points. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const similarity = (scale: number, angleRad: number, tx: number, ty: number): Similarity => ({
  a: scale * Math.cos(angleRad),
  b: scale * Math.sin(angleRad),
  tx,
  ty,
});

/** `count` points spread over a 640x480 frame, and their images under `m` (plus noise up to `noisePx`). */
function pairs(m: Similarity, count: number, seed: number, noisePx = 0): { from: Float64Array; to: Float64Array } {
  const next = random(seed);
  const from = new Float64Array(2 * count);
  const to = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    const x = next() * 640;
    const y = next() * 480;
    from.set([x, y], 2 * i);
    to.set(
      [
        m.a * x - m.b * y + m.tx + (next() - 0.5) * 2 * noisePx,
        m.b * x + m.a * y + m.ty + (next() - 0.5) * 2 * noisePx,
      ],
      2 * i,
    );
  }
  return { from, to };
}

function assertClose(actual: Similarity | null, expected: Similarity, tolerance: number, what: string): void {
  assert.ok(actual, `${what}: a fit`);
  for (const key of ['a', 'b', 'tx', 'ty'] as const) {
    assert.ok(
      Math.abs(actual[key] - expected[key]) <= tolerance,
      `${what}: ${key} = ${actual[key]}, expected ${expected[key]} ± ${tolerance}`,
    );
  }
}

const MOTIONS: { name: string; m: Similarity }[] = [
  { name: 'identity', m: similarity(1, 0, 0, 0) },
  { name: 'a pure shift', m: similarity(1, 0, 12.5, -7.25) },
  { name: 'a small rotation (camera shake)', m: similarity(1, 0.02, 3, -2) },
  { name: 'a zoom in with rotation', m: similarity(1.1, -0.3, -40, 25) },
  { name: 'a half-size, quarter-turn', m: similarity(0.5, Math.PI / 2, 300, 10) },
];

describe('fitSimilarityLeastSquares', () => {
  for (const { name, m } of MOTIONS) {
    it(`recovers ${name} exactly from noiseless pairs`, () => {
      const { from, to } = pairs(m, 20, 1);
      assertClose(fitSimilarityLeastSquares(from, to), m, 1e-9, name);
    });
  }

  it('two points are enough; Float32Array inputs work', () => {
    const m = similarity(2, 0.5, 1, 2);
    const { from, to } = pairs(m, 2, 7);
    assertClose(fitSimilarityLeastSquares(Float32Array.from(from), Float32Array.from(to)), m, 1e-3, 'float32');
  });

  it('only the pairs marked in `use` count', () => {
    const good = pairs(similarity(1, 0.1, 5, 5), 10, 2);
    const bad = pairs(similarity(3, -1, 100, 0), 10, 3);
    const from = Float64Array.from([...good.from, ...bad.from]);
    const to = Float64Array.from([...good.to, ...bad.to]);
    const use = Uint8Array.from({ length: 20 }, (_, i) => (i < 10 ? 1 : 0));
    assertClose(fitSimilarityLeastSquares(from, to, use), similarity(1, 0.1, 5, 5), 1e-9, 'first half');
    assertClose(
      fitSimilarityLeastSquares(
        from,
        to,
        use.map((u) => 1 - u),
      ),
      similarity(3, -1, 100, 0),
      1e-9,
      'second half',
    );
  });

  const degenerate: { name: string; from: number[]; to: number[]; use?: number[] }[] = [
    { name: 'no points', from: [], to: [] },
    { name: 'one point', from: [1, 2], to: [3, 4] },
    { name: 'two identical points', from: [5, 5, 5, 5], to: [1, 1, 9, 9] },
    { name: 'a mask that keeps one point', from: [0, 0, 10, 0, 0, 10], to: [0, 0, 10, 0, 0, 10], use: [0, 1, 0] },
  ];
  for (const { name, from, to, use } of degenerate) {
    it(`null for ${name}`, () => {
      const mask = use ? Uint8Array.from(use) : undefined;
      assert.equal(fitSimilarityLeastSquares(Float64Array.from(from), Float64Array.from(to), mask), null);
    });
  }
});

describe('fitSimilarityRobust', () => {
  for (const { name, m } of MOTIONS) {
    it(`${name}: exact despite 30 % outliers, which are not counted as inliers`, () => {
      const inliers = pairs(m, 70, 11);
      const outliers = pairs(similarity(1, 0, 0, 0), 30, 12);
      const next = random(13);
      for (let i = 0; i < outliers.to.length; i++) outliers.to[i] = next() * 640; // points that moved anywhere
      const from = Float64Array.from([...inliers.from, ...outliers.from]);
      const to = Float64Array.from([...inliers.to, ...outliers.to]);
      const fit = fitSimilarityRobust(from, to);
      assertClose(fit, m, 1e-6, name);
      assert.ok(fit && fit.inliers >= 70 && fit.inliers <= 71, `inliers ${fit?.inliers}`);
    });
  }

  it('noisy inliers: close to the true motion, every inlier found within the threshold', () => {
    const m = similarity(1.02, 0.05, 8, -3);
    const { from, to } = pairs(m, 100, 21, 0.4);
    const fit = fitSimilarityRobust(from, to, { thresholdPx: 1.5 });
    assertClose(fit, m, 0.2, 'noisy');
    assert.ok(Math.abs(fit!.a - m.a) < 1e-3 && Math.abs(fit!.b - m.b) < 1e-3, 'scale and angle within 0.1 %');
    assert.equal(fit!.inliers, 100);
  });

  it('deterministic: the same input gives the same fit', () => {
    const { from, to } = pairs(similarity(1, 0.1, 2, 3), 50, 31, 1);
    assert.deepEqual(fitSimilarityRobust(from, to), fitSimilarityRobust(from, to));
  });

  const none: {
    name: string;
    count: number;
    options?: Parameters<typeof fitSimilarityRobust>[2];
    scatter?: boolean;
  }[] = [
    { name: 'fewer pairs than minInliers', count: 5 },
    { name: 'fewer pairs than a custom minInliers', count: 9, options: { minInliers: 10 } },
    { name: 'no motion shared by enough points (pure scatter)', count: 60, scatter: true },
  ];
  for (const { name, count, options, scatter } of none) {
    it(`null for ${name}`, () => {
      const { from, to } = pairs(similarity(1, 0, 1, 1), count, 41);
      if (scatter) {
        const next = random(42);
        for (let i = 0; i < to.length; i++) to[i] = next() * 640;
      }
      assert.equal(fitSimilarityRobust(from, to, options), null);
    });
  }

  it('a small custom minInliers accepts what the default refuses', () => {
    const { from, to } = pairs(similarity(1, 0, 4, 4), 4, 51);
    assert.equal(fitSimilarityRobust(from, to), null);
    assertClose(fitSimilarityRobust(from, to, { minInliers: 3 }), similarity(1, 0, 4, 4), 1e-9, 'four points');
  });
});
