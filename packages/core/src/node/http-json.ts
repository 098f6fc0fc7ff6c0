import type { ServerResponse } from 'node:http';

/** Sends `body` as a JSON response with `status`, no caching, and CORS open to any origin (read-only data). */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
  });
  response.end(text);
}
