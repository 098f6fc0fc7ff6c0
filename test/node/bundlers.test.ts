/**
 * Bundlers out of the box: the SDK as `npm pack` makes it, built into a fresh Vite app and a fresh webpack 5 app
 * (test/fixtures/bundler-app) with each bundler's defaults and no copying of the SDK's files by hand. In Chromium
 * each app records a second of the fake camera (the encoder worker), reads the recording back (mediabunny),
 * packages it as HLS and plays it (hls.js), and stabilizes camera frames (the stabilizer worker with OpenCV.js).
 * The recording is checked by ffprobe. What each app ships is measured and printed.
 *
 * The apps install the packed tarball as npm would (extracted into node_modules/@framewire/browser-sdk); its
 * dependencies and the bundlers are links to this repository's installed copies, so the test runs offline.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'puppeteer-core';
import { launchChromium } from '../helpers/chromium.js';
import { ffprobe, startServer, tempDir, type StartedServer } from '../helpers/node.js';

const run = promisify(execFile);
const ROOT = process.cwd();
const FIXTURE = join(ROOT, 'test/fixtures/bundler-app');
/** Generous: the webpack build minifies hls.js, dash.js, mediabunny and mqtt, on a machine that may be busy. */
const BUILD_TIMEOUT_MS = 300_000;
const PAGE_TIMEOUT_MS = 120_000;

interface Bundler {
  name: 'vite' | 'webpack';
  config: string;
  /** The bundler's command line, run with `node` in the app's folder. */
  command: string[];
  /** Packages its config imports (linked from this repository). */
  configImports: string[];
}

const BUNDLERS: Bundler[] = [
  {
    name: 'vite',
    config: 'vite.config.mjs',
    command: [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build'],
    configImports: [],
  },
  {
    name: 'webpack',
    config: 'webpack.config.mjs',
    command: [join(ROOT, 'node_modules/webpack-cli/bin/cli.js'), '--config', 'webpack.config.mjs'],
    configImports: ['minimizer-webpack-plugin'],
  },
];

/** What the app's page reports in `window.__result`. */
interface AppResult {
  error?: string;
  code?: string;
  steps: string[];
  recordingBytes: number;
  framesRead: number;
  played: { width: number; height: number; type: string };
  stabilized: number;
  stabilizedOut: number;
}

/** Bytes of every file under `dir`, by path relative to it. */
async function filesIn(dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    sizes.set(path.slice(dir.length + 1), (await stat(path)).size);
  }
  return sizes;
}

/**
 * A fresh app for `bundler` in `dir`: the fixture's page and code, the bundler's config, and the packed SDK in
 * node_modules with its dependencies linked.
 */
async function createApp(bundler: Bundler, dir: string, tarball: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const file of ['index.html', 'src', bundler.config])
    await cp(join(FIXTURE, file), join(dir, file), { recursive: true });
  const sdkDir = join(dir, 'node_modules/@framewire/browser-sdk');
  await mkdir(sdkDir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', sdkDir, '--strip-components', '1']);
  const manifest = JSON.parse(await readFile(join(sdkDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = Object.keys(manifest.dependencies ?? {});
  assert.ok(!dependencies.some((name) => name.startsWith('@framewire/')), 'workspace packages are bundled in');
  for (const name of [...dependencies, ...bundler.configImports]) {
    const link = join(dir, 'node_modules', name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(ROOT, 'node_modules', name), link, 'dir');
  }
}

/** Builds the app; for webpack, whose defaults have no HTML step, the page is copied beside the bundle. */
async function buildApp(bundler: Bundler, dir: string): Promise<void> {
  try {
    await run(process.execPath, bundler.command, { cwd: dir, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 << 20 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${bundler.name} build failed:\n${stdout}\n${stderr}`, { cause: error });
  }
  if (bundler.name === 'webpack') {
    const page = await readFile(join(dir, 'index.html'), 'utf8');
    await writeFile(
      join(dir, 'dist/index.html'),
      page.replace('<script type="module" src="./src/main.js">', '<script src="./main.js">'),
    );
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};

/**
 * A static server for `dist` (none when undefined), plus `/upload/…`: PUT keeps the body in memory, GET serves it
 * back.
 */
async function serveApp(dist: string | undefined): Promise<{ server: StartedServer; uploads: Map<string, Buffer> }> {
  const uploads = new Map<string, Buffer>();
  const server = await startServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://app').pathname);
      const type = TYPES[extname(path)] ?? 'application/octet-stream';
      if (path.startsWith('/upload/')) {
        if (request.method === 'PUT') {
          const chunks: Buffer[] = [];
          for await (const chunk of request) chunks.push(chunk as Buffer);
          uploads.set(path.slice('/upload/'.length), Buffer.concat(chunks));
          response.writeHead(201).end();
          return;
        }
        const body = uploads.get(path.slice('/upload/'.length));
        if (body) response.writeHead(200, { 'content-type': type }).end(body);
        else response.writeHead(404).end();
        return;
      }
      const file = resolve(dist ?? '/nonexistent', `.${path === '/' ? '/index.html' : path}`);
      try {
        if (dist === undefined || !file.startsWith(`${dist}/`)) throw new Error('not served');
        const body = await readFile(file);
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
      } catch {
        response.writeHead(404).end();
      }
    })();
  });
  return { server, uploads };
}

describe('bundlers: the packed SDK in a Vite app and a webpack 5 app', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser;
  const builds = new Map<string, Promise<void>>();

  before(async () => {
    work = await tempDir();
    const { stdout } = await run('npm', [
      'pack',
      '-w',
      'packages/browser-sdk',
      '--pack-destination',
      work.path,
      '--silent',
    ]);
    const tarball = join(work.path, stdout.trim().split('\n').at(-1) ?? '');
    for (const bundler of BUNDLERS) {
      const dir = join(work.path, `${bundler.name}-app`);
      await createApp(bundler, dir, tarball);
      // Both build at once; each test waits for its own (webpack's takes longest, the Vite app runs meanwhile).
      const build = buildApp(bundler, dir);
      build.catch(() => undefined);
      builds.set(bundler.name, build);
    }
    browser = await launchChromium();
  });

  after(async () => {
    await Promise.allSettled(builds.values());
    await browser.close();
    await work.remove();
  });

  /**
   * Opens the app at `origin` in Chromium, waits for its result, and checks it: every step done, no request failed,
   * the recording read by ffprobe, the encoder and stabilizer workers started from `origin`.
   */
  async function checkApp(label: string, origin: string, uploads: Map<string, Buffer>): Promise<void> {
    const page = await browser.newPage();
    const workers: { name: string; url: string }[] = [];
    page.on('workercreated', (worker) => {
      worker
        .evaluate(() => self.name)
        .then(
          (name) => workers.push({ name, url: worker.url() }),
          () => workers.push({ name: '(ended before it was asked)', url: worker.url() }),
        );
    });
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    const logs: string[] = [];
    page.on('console', (message) => logs.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => logs.push(`pageerror: ${String(error)}`));
    try {
      await page.goto(`${origin}/`);
      const handle = await page.waitForFunction(() => (window as { __result?: unknown }).__result, {
        timeout: PAGE_TIMEOUT_MS,
        polling: 250,
      });
      const result = (await handle.jsonValue()) as AppResult;
      const context = `result ${JSON.stringify(result)}\nfailed ${failed.join(', ')}\n${logs.join('\n')}`;
      assert.equal(result.error, undefined, context);
      assert.deepEqual(result.steps, ['recorded', 'read back', 'played', 'stabilized'], context);
      assert.deepEqual(failed, [], 'every file the app asked for was there');

      // The recording, read by an independent reader.
      const recording = uploads.get('recording.mp4');
      assert.ok(recording, 'the recording was uploaded');
      assert.equal(recording.length, result.recordingBytes);
      const file = join(work.path, `${label}-recording.mp4`);
      await writeFile(file, recording);
      const probe = await ffprobe(file, ['-count_frames']);
      const video = probe.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, 'h264');
      const frames = Number(video.nb_read_frames);
      assert.ok(frames > 0, `ffprobe counts ${frames} frames`);
      assert.equal(result.framesRead, frames, 'FileSource reads every frame ffprobe counts');
      assert.ok(result.played.width > 0 && result.played.height > 0, `played ${JSON.stringify(result.played)}`);
      assert.ok(uploads.has('package/master.m3u8'), 'the HLS package was uploaded');
      assert.equal(result.stabilized, 3);
      assert.ok(result.stabilizedOut >= 3, 'the frames came out of the stabilizer worker');

      // The workers really ran, from files the bundler emitted on the app's origin.
      const names = workers.map((w) => w.name);
      for (const name of ['framewire-encoder', 'framewire-stabilizer']) {
        assert.ok(names.includes(name), `${name} started (workers: ${JSON.stringify(workers)})`);
      }
      for (const worker of workers) assert.ok(worker.url.startsWith(`${origin}/`), worker.url);
    } finally {
      await page.close();
    }
  }

  for (const bundler of BUNDLERS) {
    it(`${bundler.name}: records the fake camera in the encoder worker, reads the MP4 back, plays its HLS package, stabilizes with OpenCV in a worker`, async (t: TestContext) => {
      const dir = join(work.path, `${bundler.name}-app`);
      await builds.get(bundler.name);
      const dist = join(dir, 'dist');
      const sizes = await filesIn(dist);
      const { server, uploads } = await serveApp(dist);
      try {
        await checkApp(bundler.name, server.url, uploads);
      } finally {
        await server.close();
      }

      const html = await readFile(join(dist, 'index.html'), 'utf8');
      const entry = /<script[^>]*\ssrc="\.?\/?([^"]+)"/.exec(html)?.[1];
      assert.ok(entry && sizes.has(entry), `the page's script ${entry} is in dist`);
      const entryBytes = sizes.get(entry) ?? 0;
      const entryGzip = gzipSync(await readFile(join(dist, entry))).length;
      const total = [...sizes.values()].reduce((a, b) => a + b, 0);
      const opencv = [...sizes].find(([name, bytes]) => bytes > 8_000_000 && name.endsWith('.js'))?.[1] ?? 0;
      const line =
        `${bundler.name}: dist ${sizes.size} files, ${total} bytes (${total - opencv} without OpenCV.js); ` +
        `JS entry ${entry} ${entryBytes} bytes, ${entryGzip} gzip`;
      t.diagnostic(line);
      process.stdout.write(`${line}\n`);
    });
  }

  it('vite dev: the same app from the dev server, dependency pre-bundling on (no optimizeDeps setting), works as built', async () => {
    const dir = join(work.path, 'vite-app');
    await builds.get('vite');
    // The page's uploads go through the dev server's proxy to an upload-only server.
    const uploadServer = await serveApp(undefined);
    const { createServer } = await import('vite');
    const vite = await createServer({
      root: dir,
      configFile: false,
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: 0, proxy: { '/upload': uploadServer.server.url } },
    });
    try {
      await vite.listen();
      const origin = vite.resolvedUrls?.local[0]?.replace(/\/$/, '') ?? '';
      assert.ok(origin.startsWith('http://127.0.0.1:'), `the dev server's address ${origin}`);
      await checkApp('vite-dev', origin, uploadServer.uploads);
      const prebundled = await readdir(join(dir, 'node_modules/.vite/deps'));
      assert.ok(prebundled.includes('@framewire_browser-sdk.js'), `the SDK was pre-bundled: ${prebundled.join(', ')}`);
    } finally {
      await vite.close();
      await uploadServer.server.close();
    }
  });
});
