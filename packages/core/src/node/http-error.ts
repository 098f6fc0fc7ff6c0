import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../error-codes.js';
import { httpErrorBody } from '../http-error-body.js';
import { sendJson } from './http-json.js';
import type { HttpFailure } from './http-failure.js';

/**
 * Answers `status` with the one error body of framewire's servers, `{ "error": { "code": code, "message": message } }`
 * (JSON, no caching, CORS open: see {@link sendJson}).
 */
export function sendError(response: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(response, status, httpErrorBody(code, message));
}

/** Answers an {@link HttpFailure} with its status, code and message ({@link sendError}). */
export function sendFailure(response: ServerResponse, failure: HttpFailure): void {
  sendError(response, failure.status, failure.code, failure.message);
}
