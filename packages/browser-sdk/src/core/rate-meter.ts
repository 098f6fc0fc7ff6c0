/**
 * Measures an event rate (frames per second) over a sliding window.
 */
export class RateMeter {
  readonly #windowMs: number;
  readonly #times: number[] = [];
  readonly #now: () => number;

  /** @param windowMs the averaging window, in ms (default 1000). @param now the clock, in ms (injectable for tests). */
  constructor(windowMs = 1000, now: () => number = () => performance.now()) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts one event now. */
  tick(): void {
    const now = this.#now();
    this.#times.push(now);
    this.#trim(now);
  }

  /** Events per second over the window (0 with fewer than two events). */
  get rate(): number {
    this.#trim(this.#now());
    const first = this.#times[0];
    const last = this.#times[this.#times.length - 1];
    if (first === undefined || last === undefined || last === first) return 0;
    return ((this.#times.length - 1) * 1000) / (last - first);
  }

  #trim(now: number): void {
    const oldest = now - this.#windowMs;
    const keepFrom = this.#times.findIndex((t) => t >= oldest);
    this.#times.splice(0, keepFrom < 0 ? this.#times.length : keepFrom);
  }
}
