import { assertOption, backoffDelayMs } from '@framewire/core';

/** Options of {@link ReconnectBackoff}. */
export interface ReconnectBackoffOptions {
  /** Delay before the first retry, in ms. Default: 500. */
  initialDelayMs?: number;
  /** Upper bound of any delay, in ms. Default: 8000. */
  maxDelayMs?: number;
  /** Retries in a row before giving up; `Infinity` never gives up. Default: 8. */
  maxRetries?: number;
}

/**
 * Exponential reconnect delays: `initialDelayMs`, then twice as long each time up to `maxDelayMs`, until
 * `maxRetries` retries in a row have failed. A success (`reset()`) starts over.
 */
export class ReconnectBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #maxRetries: number;
  #attempt = 0;

  /** Throws `FW_ERR_INVALID_OPTION` on a negative delay or retry count. */
  constructor(options: ReconnectBackoffOptions = {}) {
    this.#initialMs = options.initialDelayMs ?? 500;
    this.#maxMs = options.maxDelayMs ?? 8000;
    this.#maxRetries = options.maxRetries ?? 8;
    assertOption(this.#initialMs >= 0, 'reconnect.initialDelayMs must be ≥ 0');
    assertOption(this.#maxMs >= this.#initialMs, 'reconnect.maxDelayMs must be ≥ reconnect.initialDelayMs');
    assertOption(this.#maxRetries >= 0, 'reconnect.maxRetries must be ≥ 0');
  }

  /** Retries made since the last success. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next retry in ms, or `null` when retries are used up. Counts the retry. */
  nextDelayMs(): number | null {
    if (this.#attempt >= this.#maxRetries) return null;
    const delay = backoffDelayMs(this.#initialMs, this.#maxMs, this.#attempt);
    this.#attempt++;
    return delay;
  }

  /** A connection worked: the next failure starts from `initialDelayMs` again. */
  reset(): void {
    this.#attempt = 0;
  }
}
