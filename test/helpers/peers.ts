/** Helpers for peer tests: the built SDK served on loopback, Chromium pages as peers, wrtc for Node peers. */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Browser, Page } from 'puppeteer-core';
import type { WrtcModule } from '@framewire/node-bridge';
import { isLoopbackCandidate } from './ice-loopback.js';
import { inboundVideoStats } from './page-video-stats.js';
import { startServer, type StartedServer } from './node.js';

/** `@roamhq/wrtc`, loaded from its prebuilt package. */
export const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WrtcModule;

const SDK_DIST = resolve(import.meta.dirname, '../../packages/browser-sdk/dist');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
};

/** Serves an empty page at `/` and the built SDK (`packages/browser-sdk/dist`) at `/sdk/`, on 127.0.0.1. */
export function startSdkServer(): Promise<StartedServer> {
  return startServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>peer</title>');
      return;
    }
    const file = normalize(join(SDK_DIST, decodeURIComponent(path.replace(/^\/sdk\//, ''))));
    if (
      !path.startsWith('/sdk/') ||
      !file.startsWith(SDK_DIST + sep) ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
}

/**
 * Opens a page on the SDK server with `isLoopbackCandidate` and `inboundVideoStats` (test/helpers/page-video-stats.ts)
 * defined, and page errors collected in `errors`.
 */
export async function openPeerPage(browser: Browser, origin: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${origin}/`);
  // tsx compiles the tests with esbuild's keepNames, whose `__name()` calls travel inside page.evaluate callbacks.
  await page.addScriptTag({
    content:
      `window.__name = (f) => f; window.isLoopbackCandidate = ${isLoopbackCandidate.toString()};` +
      ` window.inboundVideoStats = ${inboundVideoStats.toString()};`,
  });
  return page;
}

/** A 4:2:0 frame whose luma is `luma` everywhere (a flat grey picture). */
export function flatI420(
  width: number,
  height: number,
  luma: number,
): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array((width * height * 3) / 2);
  data.fill(luma, 0, width * height);
  data.fill(128, width * height);
  return { width, height, data };
}

/**
 * Lets the garbage collector finalize wrtc's objects while Node is still running. `@roamhq/wrtc` 0.10 crashes
 * (SIGSEGV in `RTCRtpReceiver`'s finalizer) when remote tracks are still waiting for finalization as the process
 * tears down; collecting them first avoids it. Call it in the last `after()` of a test file that used wrtc.
 */
export async function settleWrtc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc();
  }
}
