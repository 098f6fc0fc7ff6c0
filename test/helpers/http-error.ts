import assert from 'node:assert/strict';

/**
 * The `code` of a framewire server's error response body, which must have the one shape every server answers:
 * `{ "error": { "code": "FW_ERR_…", "message": "…" } }` (an assertion fails on any other body).
 */
export function errorCode(body: string): string {
  const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof parsed.error?.code, 'string', `an error body with error.code: ${body.slice(0, 200)}`);
  assert.equal(typeof parsed.error?.message, 'string', `an error body with error.message: ${body.slice(0, 200)}`);
  return parsed.error?.code as string;
}
