// A small static server for the demo: demo/ at /, the SDK's dist/ (workers, vendor files) at /sdk/, examples/ at
// /examples/, /config.json telling the page where the bridge and the signaling server are, and POST /room-token,
// which mints signaling tokens the way an application's own server would (it shares the signaling secret).
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { MIME_TYPES as MIME, assertTlsOptions } from '@framewire/node-bridge';

const root = resolve(import.meta.dirname, '..');
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

/** Answers POST /room-token {room, role} with `{ token }` signed with the signaling secret, or a 400/405 error. */
async function mintRoomToken(request, response, tokens) {
  const reply = (status, body) => {
    response.writeHead(status, { 'content-type': MIME['.json'], 'cache-control': 'no-store' });
    response.end(JSON.stringify(body));
  };
  if (request.method !== 'POST') return reply(405, { error: { code: 'FW_ERR_INVALID_OPTION', message: 'use POST' } });
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 1024) return reply(413, { error: { code: 'FW_ERR_MESSAGE_TOO_LARGE', message: 'too large' } });
  }
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const { room, role } = parsed ?? {};
  // Only publishers and viewers: the demo never hands out admin tokens.
  if (!['publisher', 'viewer'].includes(role)) {
    return reply(400, { error: { code: 'FW_ERR_INVALID_OPTION', message: 'role must be publisher or viewer' } });
  }
  try {
    // The token authority checks the room name (the signaling protocol's ROOM_NAME).
    return reply(200, { token: await tokens.issue({ room, role, ttlS: 3600 }) });
  } catch (error) {
    return reply(400, { error: { code: error.code ?? 'FW_ERR_INVALID_OPTION', message: error.message } });
  }
}

/**
 * `config` with `{host}` in its values replaced by the host name the page was opened with (its Host header), so that
 * a page opened from a phone as https://raspberrypi.local:8080/ finds the bridge on raspberrypi.local too.
 */
function configFor(config, request) {
  const hostname = new URL(`http://${request.headers.host ?? 'localhost'}`).hostname;
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      typeof value === 'string' ? value.replaceAll('{host}', hostname) : value,
    ]),
  );
}

/**
 * Starts the demo server on `host`:`port` and resolves with the Node http.Server (https.Server with `tls`, checked
 * like the bridge's). With `signalingSecret`, it serves POST /room-token for the room page. `{host}` in a `config`
 * value becomes the host name the page was opened with.
 * @param {{ host?: string, port?: number, config: Record<string, string>, signalingSecret?: string,
 *   tls?: import('@framewire/node-bridge').TlsOptions }} options
 */
export async function startDemoServer({ host = '127.0.0.1', port = 8080, config, signalingSecret, tls }) {
  const tokens = signalingSecret
    ? new (await import('@framewire/signaling')).TokenAuthority(signalingSecret)
    : undefined;
  if (tls) assertTlsOptions(tls);
  const serve = (request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://demo');
    if (pathname === '/room-token' && tokens) {
      mintRoomToken(request, response, tokens).catch(() => {
        response.writeHead(500);
        response.end();
      });
      return;
    }
    if (pathname === '/config.json') {
      response.writeHead(200, { 'content-type': MIME['.json'], 'cache-control': 'no-store' });
      response.end(JSON.stringify(configFor(config, request)));
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
  };
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, serve) : createServer(serve);
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveServer(server));
  });
}
