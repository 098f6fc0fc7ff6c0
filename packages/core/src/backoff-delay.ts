import { assertOption } from './framewire-error.js';

/**
 * The delay before retry number `failures + 1` of an exponential backoff, in ms: `initialMs` after the first failure
 * (`failures` 0), twice as long after each further failure in a row, never more than `maxMs`. Throws
 * `FW_ERR_INVALID_OPTION` when `failures` is not an integer ≥ 0 or a delay is negative.
 */
export function backoffDelayMs(initialMs: number, maxMs: number, failures: number): number {
  assertOption(Number.isInteger(failures) && failures >= 0, `failures must be an integer >= 0; got ${failures}`);
  assertOption(initialMs >= 0 && maxMs >= 0, `backoff delays must be >= 0; got ${initialMs} and ${maxMs}`);
  return Math.min(maxMs, initialMs * 2 ** failures);
}
