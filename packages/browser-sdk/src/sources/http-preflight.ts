import { FramewireError } from '@framewire/core';

/** What {@link preflight} learned about a URL. */
export interface PreflightResult {
  /** The response's `content-type`, lower case, without parameters (`''` when absent). */
  contentType: string;
  /** The full `content-type` header, parameters included. */
  contentTypeHeader: string;
  /** The final URL after redirects. */
  url: string;
}

/** A fatal `FW_ERR_NETWORK_FAILED` for `url`, with the HTTP status in `details.status` when there was one. */
export function fetchError(url: string, status: number | undefined, cause?: unknown): FramewireError {
  const what = status === undefined ? 'could not be reached' : `answered HTTP ${status}`;
  return new FramewireError('FW_ERR_NETWORK_FAILED', `${url} ${what}`, {
    cause,
    fatal: true,
    stage: 'network',
    details: status === undefined ? { url } : { url, status },
  });
}

/**
 * Requests the first byte of `url` to learn whether it answers and with what content type, before a player or
 * demuxer takes over (their own errors rarely keep the HTTP status). The body is never read: the request is
 * aborted once the headers are in, which also suits endless responses such as MJPEG.
 * Rejects with `FW_ERR_NETWORK_FAILED`.
 */
export async function preflight(url: string): Promise<PreflightResult> {
  const controller = new AbortController();
  let response: Response;
  try {
    response = await fetch(url, { headers: { Range: 'bytes=0-0' }, signal: controller.signal, cache: 'no-store' });
  } catch (error) {
    throw fetchError(url, undefined, error);
  }
  controller.abort();
  if (!response.ok) throw fetchError(url, response.status);
  const header = response.headers.get('content-type') ?? '';
  return {
    contentType: (header.split(';')[0] ?? '').trim().toLowerCase(),
    contentTypeHeader: header,
    url: response.url || url,
  };
}
