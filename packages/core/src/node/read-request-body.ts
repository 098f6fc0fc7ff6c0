import type { IncomingMessage } from 'node:http';
import { HttpFailure } from './http-failure.js';

/**
 * Reads a request body as UTF-8; rejects with a 413 `FW_ERR_MESSAGE_TOO_LARGE` {@link HttpFailure} as soon as it
 * exceeds `maxBytes` (the rest is not read: answer with `Connection: close`).
 */
export function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.pause();
        reject(new HttpFailure(413, 'FW_ERR_MESSAGE_TOO_LARGE', `the body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
