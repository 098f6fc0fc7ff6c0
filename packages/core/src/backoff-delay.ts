/**
 * The delay before retry number `failures + 1` of an exponential backoff, in ms: `initialMs` after the first failure
 * (`failures` 0), twice as long after each further failure in a row, never more than `maxMs`. The callers validate
 * their delays as options; `failures` is their own count (an integer ≥ 0).
 */
export function backoffDelayMs(initialMs: number, maxMs: number, failures: number): number {
  return Math.min(maxMs, initialMs * 2 ** failures);
}
