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
