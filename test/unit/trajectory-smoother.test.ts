// The stabilizer's trajectory smoother (packages/browser-sdk/src/transforms/stabilizer/trajectory-smoother.ts):
// the camera path is the running sum of motions, the correction is (line fit over the window) − path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TrajectorySmoother,
  type PathPoint,
} from '../../packages/browser-sdk/src/transforms/stabilizer/trajectory-smoother.js';

const motion = (x: number, y = 0, angle = 0): PathPoint => ({ x, y, angle });

/**
 * Pushes a first frame (its motion is ignored) then `motions`, asking each frame's correction as soon as it is
 * ready (as the stabilizer does), and the rest at the end of the stream.
 */
function corrections(radius: number, lookahead: number, motions: PathPoint[]): PathPoint[] {
  const smoother = new TrajectorySmoother(radius, lookahead);
  const out: PathPoint[] = [];
  for (const m of [motion(99, 99, 99), ...motions]) {
    smoother.push(m);
    while (out.length < smoother.length && smoother.isReady(out.length)) out.push(smoother.correction(out.length));
  }
  while (out.length < smoother.length) out.push(smoother.correction(out.length));
  return out;
}

function assertPoints(actual: PathPoint[], expected: PathPoint[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((p, i) => {
    for (const key of ['x', 'y', 'angle'] as const) {
      const e = expected[i]![key];
      assert.ok(Math.abs(p[key] - e) < 1e-9, `${what}: frame ${i} ${key} = ${p[key]}, expected ${e}`);
    }
  });
}

const zero = (n: number): PathPoint[] => Array.from({ length: n }, () => motion(0));

describe('TrajectorySmoother', () => {
  const cases: { name: string; radius: number; lookahead: number; motions: PathPoint[]; expected: PathPoint[] }[] = [
    {
      name: 'a steady pan with a causal window: the line fit follows it without lag',
      radius: 5,
      lookahead: 0,
      motions: Array.from({ length: 11 }, () => motion(2, -1, 0.01)),
      expected: zero(12),
    },
    {
      name: 'a steady pan with a centred window: no correction either',
      radius: 5,
      lookahead: 2,
      motions: Array.from({ length: 11 }, () => motion(3, 0.5, -0.02)),
      expected: zero(12),
    },
    {
      name: 'jitter with a centred window of 3: the plain mean inside; at the ends, the line through two frames',
      radius: 3,
      lookahead: 1,
      // path: 0 1 0 1 0
      motions: [motion(1), motion(-1), motion(1), motion(-1)],
      expected: [motion(0), motion(-2 / 3), motion(2 / 3), motion(-2 / 3), motion(0)],
    },
    {
      name: 'a causal line fit over three frames, worked by hand',
      radius: 3,
      lookahead: 0,
      // path: 0 1 2 6; frame 3 fits (t, x) = (-2, 1) (-1, 2) (0, 6): intercept 5.5
      motions: [motion(1), motion(1), motion(4)],
      expected: [motion(0), motion(0), motion(0), motion(-0.5)],
    },
    {
      name: 'axes are independent: a shake in y and angle only',
      radius: 3,
      lookahead: 1,
      motions: [motion(0, 3, 0.3), motion(0, -3, -0.3)],
      expected: [motion(0), motion(0, -2, -0.2), motion(0)],
    },
    {
      name: 'a window of one frame never corrects',
      radius: 1,
      lookahead: 0,
      motions: [motion(5), motion(-7), motion(3)],
      expected: zero(4),
    },
  ];
  for (const { name, radius, lookahead, motions, expected } of cases) {
    it(name, () => {
      assertPoints(corrections(radius, lookahead, motions), expected, name);
    });
  }

  it('isReady waits for the look-ahead frames (capped at radius − 1)', () => {
    const smoother = new TrajectorySmoother(5, 2);
    const first = smoother.push(motion(0));
    assert.equal(first, 0);
    assert.equal(smoother.isReady(0), false);
    smoother.push(motion(1));
    assert.equal(smoother.isReady(0), false);
    smoother.push(motion(1));
    assert.deepEqual([smoother.isReady(0), smoother.isReady(1)], [true, false]);
    const capped = new TrajectorySmoother(3, 10);
    capped.push(motion(0));
    capped.push(motion(0));
    assert.equal(capped.isReady(0), false, 'look-ahead capped at 2');
    capped.push(motion(0));
    assert.equal(capped.isReady(0), true);
  });

  it('reset() starts a new segment at the origin; frames of the old one get no correction', () => {
    const smoother = new TrajectorySmoother(3, 1);
    smoother.push(motion(0));
    smoother.push(motion(10));
    smoother.reset();
    const a = smoother.push(motion(50)); // the segment's first frame: motion ignored
    const b = smoother.push(motion(2));
    const c = smoother.push(motion(-2));
    assert.deepEqual([a, b, c], [2, 3, 4], 'indices keep counting');
    assertPoints([smoother.correction(1)], [motion(0)], 'old segment');
    // New path 0 2 0: frame 3 sees frames 2..4, mean 2/3.
    assertPoints([smoother.correction(b)], [motion(2 / 3 - 2)], 'new segment');
  });

  it('forgets frames no window can reach any more', () => {
    const smoother = new TrajectorySmoother(3, 1);
    for (let i = 0; i < 20; i++) smoother.push(motion(i % 2 ? 1 : -1));
    assertPoints([smoother.correction(0)], [motion(0)], 'frame 0 is gone');
    assert.notEqual(smoother.correction(18).x, 0, 'a recent frame still has its path');
  });
});

describe('TrajectorySmoother, look-ahead beyond half the window', () => {
  it('centres a wider window: radius 3 with look-ahead 2 averages frames i − 2 … i + 2', () => {
    // path: 0 5 0 5 0 5 0; frame 3 sees 5 frames (1..5): 5 0 5 0 5, a symmetric window: the mean 3.
    const out = corrections(3, 2, [motion(5), motion(-5), motion(5), motion(-5), motion(5), motion(-5)]);
    assert.ok(Math.abs(out[3]!.x - (3 - 5)) < 1e-9, `frame 3: ${out[3]!.x}`);
  });

  it('smooths zoom as a ratio: a steady zoom needs no correction, a zoom shake is evened out', () => {
    const steady = new TrajectorySmoother(5, 0);
    for (let i = 0; i < 8; i++) steady.push({ x: 0, y: 0, angle: 0, scale: 1.01 });
    assert.ok(Math.abs(steady.correction(7).scale - 1) < 1e-9);
    const shaky = new TrajectorySmoother(3, 1);
    for (const scale of [1, 1.1, 1 / 1.1]) shaky.push({ x: 0, y: 0, angle: 0, scale });
    // log path 0 l 0 (l = ln 1.1): frame 1 sees the mean l/3, its correction is exp(l/3 − l).
    assert.ok(Math.abs(shaky.correction(1).scale - Math.exp((-2 / 3) * Math.log(1.1))) < 1e-9);
  });
});
