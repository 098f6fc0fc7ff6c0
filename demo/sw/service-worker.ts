/**
 * The demo's Service Worker (built to `demo/service-worker.js`, scope: the demo's root).
 *
 * - Offline shell: on install it caches the pages, styles, icons, every demo bundle (listed by the build in
 *   `dist/shell-files.json`) and the SDK's workers; same-origin GET requests are then answered network first,
 *   falling back to that cache, so the demo opens with the network off.
 * - OpenCV.js (`sdk/vendor/opencv.js`, about 11 MB, for the stabilization page) is cached after installation, in
 *   the background, when the page asks (a `precache` message): installing stays quick, and after one online visit
 *   the stabilization page works offline even if it was never opened. (Used before that, it is cached on first use
 *   like any other file.)
 * - `/packaged/<path>`: answered from the `framewire-packaged` cache, where the packaging page puts the
 *   in-memory output of `Packager` (`pkg.files`), so hls.js and dash.js play a package with no server.
 */
import { PACKAGED_CACHE, PACKAGED_PREFIX } from './packaged-files.js';

declare const self: ServiceWorkerGlobalScope;

const SHELL_CACHE = 'framewire-shell-v1';
const SHELL_FILES = [
  './',
  'index.html',
  'kiosk.html',
  'styles.css',
  'kiosk.css',
  'manifest.webmanifest',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'icons/icon-maskable-512.png',
  'sdk/workers/encoder.worker.js',
  'sdk/workers/mjpeg.worker.js',
  'sdk/workers/opfs-writer.worker.js',
  'sdk/workers/stabilizer.worker.js',
];

async function installShell(): Promise<void> {
  const cache = await caches.open(SHELL_CACHE);
  const listed = (await (await fetch('dist/shell-files.json', { cache: 'no-store' })).json()) as string[];
  await cache.addAll([...SHELL_FILES, ...listed.map((file) => `dist/${file}`)]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(installShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** Large files cached after installation, in the background (see the top of this file). */
const BACKGROUND_FILES = ['sdk/vendor/opencv.js'];

/** Caches the background files that are not cached yet; resolves false when one could not be fetched. */
async function cacheBackgroundFiles(): Promise<boolean> {
  const cache = await caches.open(SHELL_CACHE);
  try {
    for (const file of BACKGROUND_FILES) if (!(await cache.match(file))) await cache.add(file);
    return true;
  } catch {
    return false;
  }
}

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type !== 'precache') return;
  event.waitUntil(cacheBackgroundFiles().then((ok) => event.source?.postMessage({ type: 'precached', ok })));
});

/** Network first (fresh while developing), the cached copy when the network is gone. */
async function networkFirst(request: Request): Promise<Response> {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
    if (cached) return cached;
    throw error;
  }
}

async function packagedFile(url: URL): Promise<Response> {
  const cache = await caches.open(PACKAGED_CACHE);
  const cached = await cache.match(url.origin + url.pathname);
  return cached ?? new Response('Not packaged', { status: 404, headers: { 'content-type': 'text/plain' } });
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(PACKAGED_PREFIX)) {
    event.respondWith(packagedFile(url));
    return;
  }
  event.respondWith(networkFirst(event.request));
});
