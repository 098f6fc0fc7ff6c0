import type { ErrorCode } from './error-codes.js';

/**
 * The body of every error response of framewire's HTTP servers (bridge, signaling):
 * `{ "error": { "code": "FW_ERR_…", "message": "…" } }`, with the HTTP status on the response.
 */
export interface HttpErrorBody {
  /** What went wrong. */
  error: {
    /** The stable error code (`FW_ERR_…`, see docs/errors). */
    code: ErrorCode;
    /** A sentence for people; it may change between versions. */
    message: string;
  };
}

/** The {@link HttpErrorBody} for `code` and `message`. */
export function httpErrorBody(code: ErrorCode, message: string): HttpErrorBody {
  return { error: { code, message } };
}

/**
 * Reads the code and message of an error response's body `text` ({@link HttpErrorBody}); `undefined` for anything
 * else (not JSON, or no string `error.code`). A missing message is `''`.
 */
export function parseHttpErrorBody(text: string): { code: string; message: string } | undefined {
  try {
    // JSON `null` throws here too (nothing to destructure): not an error body.
    const { error } = JSON.parse(text) as Partial<Record<'error', { code?: unknown; message?: unknown }>>;
    if (typeof error?.code === 'string')
      return { code: error.code, message: typeof error.message === 'string' ? error.message : '' };
  } catch {
    // not JSON
  }
  return undefined;
}
