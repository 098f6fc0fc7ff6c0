import { FramewireError } from '@framewire/core';
import { ReconnectBackoff, type ReconnectBackoffOptions } from '../core/reconnect-backoff.js';

/**
 * Sends one write request (an upload part, a packaged file), retrying network failures and HTTP 5xx with
 * `retry`'s backoff. Resolves on a 2xx answer; rejects with a fatal `FW_ERR_WRITE_FAILED` naming what failed on a
 * 4xx answer or when the retries run out. `details` are added to the error's details.
 */
export async function fetchWithRetry(
  url: string,
  init: RequestInit,
  retry: ReconnectBackoffOptions,
  what: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  const backoff = new ReconnectBackoff(retry);
  for (;;) {
    let status: number | undefined;
    let cause: unknown;
    try {
      const response = await fetch(url, init);
      if (response.ok) return;
      status = response.status;
    } catch (error) {
      cause = error;
    }
    const delay = status !== undefined && status < 500 ? null : backoff.nextDelayMs();
    if (delay === null) {
      throw new FramewireError(
        'FW_ERR_WRITE_FAILED',
        `${what} failed${status === undefined ? '' : ` with HTTP ${status}`}`,
        {
          cause,
          fatal: true,
          stage: 'write',
          details: status === undefined ? details : { ...details, status },
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
