// Shared by the capture/recording benchmarks: one ffmpeg-made 720p H.264 file, served on 127.0.0.1 (port 0) with
// CORS so the benchmark page can read it, and the SDK's <script> bundle loaded into the page.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const WIDTH = 1280;
export const HEIGHT = 720;
export const FRAMES = 300;

let fixture;
/** Makes the 10 s, 300-frame 720p H.264 file once and serves it; resolves with `{ path, url }`. */
export function benchFile() {
  fixture ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'framewire-bench-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'bench-720p.mp4');
    await exec('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=30`, '-frames:v', String(FRAMES)],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-pix_fmt', 'yuv420p', path],
    ]);
    const bytes = readFileSync(path);
    const server = createServer((_, res) => {
      res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'video/mp4' });
      res.end(bytes);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    return { path, url: `http://127.0.0.1:${server.address().port}/bench-720p.mp4` };
  })();
  return fixture;
}

/** Loads the SDK's <script> bundle (it finds mediabunny and its workers beside itself) into the page once. */
export async function loadBundle(page) {
  await page.evaluate(async () => {
    if (globalThis.Framewire) return;
    await new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/sdk/framewire.min.js';
      script.onload = resolve;
      script.onerror = () => reject(new Error('cannot load the SDK bundle'));
      document.head.append(script);
    });
  });
}

/** Runs `ffmpeg` with `args` and resolves with the time it took, in seconds. */
export async function timeFfmpeg(args) {
  const start = performance.now();
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  return (performance.now() - start) / 1000;
}
