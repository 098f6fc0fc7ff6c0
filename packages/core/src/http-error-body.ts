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
 * Reads the code and message of an error response's body `text`: the {@link HttpErrorBody} shape, or the flat
 * `{ "error": code, "message": message }` that earlier bridges answered. `undefined` for anything else (not
 * JSON, or no string code); a missing message is `''`.
 */
export function parseHttpErrorBody(text: string): { code: string; message: string } | undefined {
  try {
    // JSON `null` throws here too (nothing to destructure): not an error body.
    const { error, message } = JSON.parse(text) as { error?: unknown; message?: unknown };
    const body = (typeof error === 'object' && error !== null ? error : { code: error, message }) as {
      code?: unknown;
      message?: unknown;
    };
    if (typeof body.code !== 'string') return undefined;
    return { code: body.code, message: typeof body.message === 'string' ? body.message : '' };
  } catch {
    return undefined;
  }
}
