import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import { sendError } from '@framewire/core/node';

/** MIME types of the files a framewire page and its packaged streams use. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.crt': 'application/x-x509-ca-cert',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.mpd': 'application/dash+xml',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.ts': 'video/mp2t',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.vtt': 'text/vtt; charset=utf-8',
};

/**
 * Serves the files of one directory (a packager's DASH/HLS output, a page) with the right MIME types, CORS, and
 * byte ranges. Paths that leave the directory, hidden files and anything but regular files are answered 404;
 * playlists and manifests are marked `no-cache` (live ones change), everything else is cacheable for a second.
 */
export class StaticFiles {
  /** The served directory (absolute). */
  readonly root: string;
  readonly #corsOrigin: string;

  /** Serves `root`; `corsOrigin` is sent as `Access-Control-Allow-Origin` (default `*`). */
  constructor(root: string, corsOrigin = '*') {
    this.root = resolve(root);
    this.#corsOrigin = corsOrigin;
  }

  /** Answers a GET/HEAD for `relativePath` (URL-encoded, relative to the root; `''` means `index.html`). */
  async handle(request: IncomingMessage, response: ServerResponse, relativePath: string): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relativePath);
    } catch {
      sendError(response, 400, 'FW_ERR_INVALID_OPTION', 'bad path');
      return;
    }
    const path = resolve(join(this.root, decoded === '' || decoded.endsWith('/') ? `${decoded}index.html` : decoded));
    const inside = relative(this.root, path);
    if (inside.startsWith('..') || inside.split(sep).some((part) => part.startsWith('.')) || decoded.includes('\0')) {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', 'not found');
      return;
    }
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', 'not found');
      return;
    }
    const type = MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = {
      'content-type': type,
      'access-control-allow-origin': this.#corsOrigin,
      'access-control-expose-headers': 'content-length, content-range',
      'accept-ranges': 'bytes',
      'cache-control': /\.(m3u8|mpd)$/.test(path) ? 'no-cache' : 'max-age=1',
      'x-content-type-options': 'nosniff',
    };
    let start = 0;
    let end = info.size - 1;
    const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
    let status = 200;
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(Number(range[2]), end);
      } else start = Math.max(0, info.size - Number(range[2]));
      if (start > end || start >= info.size) {
        response.writeHead(416, {
          'content-range': `bytes */${info.size}`,
          'access-control-allow-origin': this.#corsOrigin,
        });
        response.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
    }
    headers['content-length'] = info.size === 0 ? 0 : end - start + 1;
    response.writeHead(status, headers);
    if (request.method === 'HEAD' || info.size === 0) {
      response.end();
      return;
    }
    const stream = createReadStream(path, { start, end });
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  }
}
