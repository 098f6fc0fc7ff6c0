// TokenBucket (packages/signaling/src/token-bucket.ts), on an injected clock: each case is a list of (time, take)
// steps and the answers expected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../packages/signaling/src/token-bucket.js';

/** Runs `steps` ([ms since start, how many take() calls]) and returns how many of each step's calls succeeded. */
function run(ratePerS: number, burst: number, steps: [atMs: number, takes: number][]): number[] {
  let now = 1_000_000;
  const start = now;
  const bucket = new TokenBucket(ratePerS, burst, () => now);
  return steps.map(([atMs, takes]) => {
    now = start + atMs;
    let granted = 0;
    for (let i = 0; i < takes; i++) if (bucket.take()) granted++;
    return granted;
  });
}

describe('TokenBucket', () => {
  const cases: { name: string; rate: number; burst: number; steps: [number, number][]; granted: number[] }[] = [
    { name: 'starts full: a burst passes, then it is empty', rate: 10, burst: 5, steps: [[0, 8]], granted: [5] },
    {
      name: 'refills at the rate',
      rate: 10,
      burst: 5,
      steps: [
        [0, 5],
        [100, 3],
        [350, 3],
      ],
      granted: [5, 1, 2],
    },
    {
      name: 'never holds more than the burst',
      rate: 10,
      burst: 5,
      steps: [
        [0, 5],
        [60_000, 10],
      ],
      granted: [5, 5],
    },
    {
      name: 'fractions of a token accumulate',
      rate: 1,
      burst: 1,
      steps: [
        [0, 1],
        [400, 1],
        [800, 1],
        [1000, 1],
      ],
      granted: [1, 0, 0, 1],
    },
    {
      name: 'a failed take spends nothing',
      rate: 2,
      burst: 1,
      steps: [
        [0, 1],
        [250, 5],
        [500, 1],
      ],
      granted: [1, 0, 1],
    },
    {
      name: 'a steady client at the rate is never refused',
      rate: 20,
      burst: 1,
      steps: Array.from({ length: 50 }, (_, i) => [i * 50, 1] as [number, number]),
      granted: new Array<number>(50).fill(1),
    },
    {
      // 500/s is half a token a millisecond (exact in binary): the full bucket serves the first, then every other.
      name: 'a client at twice the rate gets every other request through',
      rate: 500,
      burst: 1,
      steps: Array.from({ length: 40 }, (_, i) => [i + 1, 1] as [number, number]),
      granted: Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1 : 0)),
    },
    {
      name: 'a zero rate never refills',
      rate: 0,
      burst: 2,
      steps: [
        [0, 3],
        [3_600_000, 1],
      ],
      granted: [2, 0],
    },
  ];
  for (const { name, rate, burst, steps, granted } of cases) {
    it(name, () => {
      assert.deepEqual(run(rate, burst, steps), granted);
    });
  }

  it('uses Date.now by default', () => {
    const bucket = new TokenBucket(0, 1);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
  });
});
