// The stabilizer's Kalman smoother (packages/browser-sdk/src/transforms/stabilizer/kalman-smoother.ts): per-axis
// constant-velocity filters on the camera path, causal, with an RTS pass over the look-ahead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KalmanSmoother } from '../../packages/browser-sdk/src/transforms/stabilizer/kalman-smoother.js';
import type { PathPoint } from '../../packages/browser-sdk/src/transforms/stabilizer/trajectory-smoother.js';

/** The corrections of every frame for per-frame motions `dx(i)`, each asked as soon as it is ready. */
function corrections(radius: number, lookahead: number, frames: number, dx: (i: number) => number): PathPoint[] {
  const smoother = new KalmanSmoother(radius, lookahead);
  const out: PathPoint[] = [];
  for (let i = 0; i < frames; i++) {
    smoother.push({ x: dx(i), y: 0, angle: 0 });
    while (out.length < smoother.length && smoother.isReady(out.length)) out.push(smoother.correction(out.length));
  }
  while (out.length < smoother.length) out.push(smoother.correction(out.length));
  return out;
}

/** RMS of the frame-to-frame change of (path + correction) less the intended motion: the jitter left. */
function outputJitter(dx: (i: number) => number, out: PathPoint[], from: number, intended: number): number {
  let path = 0;
  let previous: number | undefined;
  let sum = 0;
  let n = 0;
  out.forEach((c, i) => {
    if (i > 0) path += dx(i);
    const shown = path + c.x;
    if (previous !== undefined && i > from) {
      sum += (shown - previous - intended) ** 2;
      n++;
    }
    previous = shown;
  });
  return Math.sqrt(sum / n);
}

describe('KalmanSmoother', () => {
  const shake = (i: number): number => 6 * (Math.sin(i * 0.9) - Math.sin((i - 1) * 0.9)); // ~4 Hz at 30 fps

  it('a steady pan is kept: after the filter settles, no correction', () => {
    const out = corrections(25, 0, 90, () => 3);
    for (let i = 60; i < 90; i++) assert.ok(Math.abs(out[i]!.x) < 0.05, `frame ${i}: ${out[i]!.x}`);
  });

  it('shake is attenuated causally, more with a look-ahead, and a pan under the shake is kept', () => {
    const dx = (i: number): number => 2 + shake(i);
    // The intended motion is 2 px per frame: jitter is measured around it, so a lost pan would count as jitter.
    const none = Array.from({ length: 90 }, () => ({ x: 0, y: 0, angle: 0 }));
    const input = outputJitter(dx, none, 30, 2);
    const causal = outputJitter(dx, corrections(25, 0, 90, dx), 30, 2);
    const ahead = outputJitter(dx, corrections(25, 12, 90, dx), 30, 2);
    assert.ok(causal < input / 3, `causal ${causal} vs input ${input}`);
    assert.ok(ahead < causal, `look-ahead ${ahead} vs causal ${causal}`);
  });

  it('waits for its look-ahead (capped at radius − 1), and reset() starts a new segment with no correction', () => {
    const smoother = new KalmanSmoother(3, 10);
    smoother.push({ x: 0, y: 0, angle: 0 });
    smoother.push({ x: 1, y: 0, angle: 0 });
    assert.equal(smoother.isReady(0), false);
    smoother.push({ x: 1, y: 0, angle: 0 });
    assert.equal(smoother.isReady(0), true);
    smoother.reset();
    const first = smoother.push({ x: 50, y: 0, angle: 0, scale: 2 });
    assert.deepEqual(smoother.correction(first), { x: 0, y: 0, angle: 0, scale: 1 });
  });
});
