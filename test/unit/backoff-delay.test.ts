// backoffDelayMs (packages/core/src/backoff-delay.ts), the one exponential backoff behind SupervisedProcess restarts,
// WhipPushOutput retries and the SDK's ReconnectBackoff: a table of (initial, max, failures) and the delay expected,
// then ReconnectBackoff driven by it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from '../../packages/core/src/backoff-delay.js';
import { ReconnectBackoff } from '../../packages/browser-sdk/src/core/reconnect-backoff.js';

describe('backoffDelayMs', () => {
  const cases: [initialMs: number, maxMs: number, failures: number, expected: number][] = [
    [500, 8000, 0, 500],
    [500, 8000, 1, 1000],
    [500, 8000, 2, 2000],
    [500, 8000, 4, 8000],
    [500, 8000, 5, 8000],
    [500, 8000, 60, 8000],
    [1000, 30_000, 3, 8000],
    [1000, 1000, 0, 1000],
    [0, 8000, 7, 0],
    [300, 1000, 2, 1000],
    [250, 10_000, 1500, 10_000],
  ];
  for (const [initialMs, maxMs, failures, expected] of cases) {
    it(`${initialMs} ms doubled ${failures} times, at most ${maxMs} ms, is ${expected} ms`, () => {
      assert.equal(backoffDelayMs(initialMs, maxMs, failures), expected);
    });
  }

  it('drives ReconnectBackoff: doubling delays, capped, then null once retries are used up', () => {
    const backoff = new ReconnectBackoff({ initialDelayMs: 100, maxDelayMs: 500, maxRetries: 5 });
    const delays = Array.from({ length: 6 }, () => backoff.nextDelayMs());
    assert.deepEqual(delays, [100, 200, 400, 500, 500, null]);
    backoff.reset();
    assert.equal(backoff.nextDelayMs(), 100);
  });
});
