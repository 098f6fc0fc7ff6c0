// A small static server for the demo: demo/ at /, the SDK's dist/ (workers, vendor files) at /sdk/, examples/ at
// /examples/, and /config.json telling the page where the bridge and the signaling server are.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};
const MOUNTS = [
  ['/sdk/', join(root, 'packages/browser-sdk/dist')],
  ['/examples/', join(root, 'examples')],
  ['/', join(root, 'demo')],
];

/** Resolves a URL path inside a mount, refusing anything that escapes it (../, encoded or not). */
function fileFor(pathname) {
  for (const [prefix, dir] of MOUNTS) {
    if (!pathname.startsWith(prefix)) continue;
    const file = normalize(join(dir, decodeURIComponent(pathname.slice(prefix.length))));
    if (file !== dir && !file.startsWith(dir + sep)) return undefined;
    return file.endsWith(sep) || file === dir ? join(file, 'index.html') : file;
  }
  return undefined;
}

/**
 * Starts the demo server on `host`:`port` and resolves with the Node http.Server.
 * @param {{ host?: string, port?: number, config: Record<string, string> }} options
 */
export function startDemoServer({ host = '127.0.0.1', port = 8080, config }) {
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://demo');
    if (pathname === '/config.json') {
      response.writeHead(200, { 'content-type': MIME['.json'], 'cache-control': 'no-store' });
      response.end(JSON.stringify(config));
      return;
    }
    let file;
    try {
      file = fileFor(pathname);
      if (file && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!file || !statSync(file).isFile()) throw new Error('not found');
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Not found');
      return;
    }
    response.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveServer(server));
  });
}
