// A real nginx HTTP origin for live DASH/HLS publishing tests, started as the current user with its own folder: the
// nginx configuration and the njs upload script are the blocks of docs/guides/origin.md (so the guide is what the
// tests run), with its placeholders (port, root, token, njs folder) replaced. Plain JS: the browser tests' dev
// server middleware (media-test-server.mjs) loads it without a TypeScript loader.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';
const GUIDE = join(dirname(fileURLToPath(import.meta.url)), '../../docs/guides/origin.md');

/** The fenced block of the guide whose info string starts with `lang`. */
function guideBlock(lang) {
  const text = readFileSync(GUIDE, 'utf8');
  const match = new RegExp(`^\`\`\`${lang} norun:[^\\n]*\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(text);
  if (!match) throw new Error(`docs/guides/origin.md has no \`\`\`${lang} norun: block`);
  return match[1];
}

/** `text` with each [from, to] replaced; every `from` must be there (the guide and this helper stay in step). */
function substitute(text, pairs) {
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`docs/guides/origin.md: the nginx block lost "${from}"`);
    text = text.replaceAll(from, to);
  }
  return text;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Starts nginx on 127.0.0.1 (a free port) with the guide's configuration; writes need `Authorization: Bearer
 * <token>`. Rejects with a message naming scripts/setup.sh when nginx or its njs module is not installed.
 *
 * @param {{ token?: string }} options
 */
export async function startNginxOrigin(options = {}) {
  const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
  if (!existsSync(NGINX) || !existsSync(NJS_MODULE)) {
    throw new Error(`nginx with its njs module is not installed (${NGINX}, ${NJS_MODULE}): run scripts/setup.sh`);
  }
  const token = options.token ?? 'test-origin-token';
  const dir = mkdtempSync(join(tmpdir(), 'framewire-nginx-'));
  const root = join(dir, 'www');
  const njs = join(dir, 'njs');
  for (const folder of [root, njs, join(dir, 'temp')]) mkdirSync(folder, { recursive: true });
  writeFileSync(join(njs, 'framewire-upload.js'), guideBlock('js'));
  const port = await freePort();
  const server = substitute(guideBlock('nginx'), [
    ['listen 8080;', `listen 127.0.0.1:${port};`],
    ['root /srv/origin;', `root ${root};`],
    ['js_path /etc/nginx/njs;', `js_path ${njs};`],
    ['Bearer change-me', `Bearer ${token}`],
  ]);
  const temp = (name) => `${name}_temp_path ${join(dir, 'temp', name)};`;
  const config = [
    `load_module ${NJS_MODULE};`,
    // As root (a CI container), workers would switch to "nobody", which cannot write into this folder.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    // The request's own URI: $uri would be the internal one after the recordings' rewrite.
    "  log_format framewire '$msec $request_method $request_uri $status';",
    `  access_log ${join(dir, 'access.log')} framewire;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${temp(name)}`),
    server,
    '}',
  ].join('\n');
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);

  let child;
  const start = async () => {
    let exited = false;
    let output = '';
    child = spawn(NGINX, ['-p', `${dir}/`, '-c', configPath, '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 60_000;
    while (!(await accepts(port))) {
      if (exited || Date.now() > deadline) {
        const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
        child.kill('SIGKILL');
        throw new Error(`nginx did not start on port ${port}: ${output}${log.split('\n').slice(-5).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    root,
    token,
    /** Every request so far: `{ timeMs, method, path, status }`, in order. */
    accessLog() {
      const path = join(dir, 'access.log');
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [time, method, uri, status] = line.split(' ');
          const path = uri.split('?')[0];
          return { timeMs: Math.round(Number(time) * 1000), method, path, status: Number(status) };
        });
    },
    /** Files under the root, relative paths, sorted. */
    files() {
      return readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
        .sort();
    },
    /** Stops nginx (SIGTERM: fast shutdown) and waits for it to exit. */
    stop,
    /** Starts it again on the same port after `stop()`. */
    start,
    /** Stops nginx and removes its folder. */
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
