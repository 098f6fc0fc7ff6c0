/**
 * A token bucket: `ratePerS` tokens a second up to `burst`. `take()` spends one token and says whether there was
 * one. Time comes from `now()` (ms), injectable for tests.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #lastMs: number;

  /** @param ratePerS refill rate, tokens a second. @param burst capacity (the bucket starts full). */
  constructor(ratePerS: number, burst: number, now: () => number = Date.now) {
    this.#ratePerMs = ratePerS / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#lastMs = now();
  }

  /** Spends one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#lastMs) * this.#ratePerMs);
    this.#lastMs = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
