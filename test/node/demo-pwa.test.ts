import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ElementHandle, Page } from 'puppeteer-core';
import { launchChromium } from '../helpers/chromium.js';
import { collectPageErrors, screenshot, serveDemo } from '../helpers/demo-page.js';
import { makeMediaFile, tempDir } from '../helpers/node.js';

interface ManifestIcon {
  src: string;
  sizes: string;
  type: string;
  purpose?: string;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): [number, number] {
  assert.equal(bytes.subarray(1, 4).toString('ascii'), 'PNG', 'a PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('ascii'), 'IHDR');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

const waitForState = (page: Page, selector: string, state: string, timeout = 30_000): Promise<unknown> =>
  page
    .waitForFunction(
      (s, want) => document.querySelector<HTMLElement>(s)?.dataset['state'] === want,
      { timeout },
      selector,
      state,
    )
    .catch(async (error: unknown) => {
      const text = await page.$eval(selector, (e) => `${e.textContent} [${(e as HTMLElement).dataset['state']}]`);
      const problem = await page.$eval('#package-error', (e) => e.textContent).catch(() => '');
      throw new Error(`${selector} did not reach ${state}: ${text} ${problem}`, { cause: error });
    });

describe('demo PWA', () => {
  it('the web manifest has the required members, and its icons exist with the declared sizes', async () => {
    const manifest = JSON.parse(await readFile('demo/manifest.webmanifest', 'utf8')) as Record<string, unknown>;
    for (const member of ['name', 'short_name', 'start_url', 'display', 'icons', 'theme_color', 'background_color']) {
      assert.ok(manifest[member], `manifest.${member}`);
    }
    assert.ok(['standalone', 'fullscreen', 'minimal-ui'].includes(String(manifest['display'])));
    const icons = manifest['icons'] as ManifestIcon[];
    for (const icon of icons) {
      assert.equal(icon.type, 'image/png');
      const [width, height] = pngSize(await readFile(join('demo', icon.src)));
      assert.equal(`${width}x${height}`, icon.sizes, icon.src);
    }
    const sizes = icons.map((i) => i.sizes);
    assert.ok(sizes.includes('192x192') && sizes.includes('512x512'), 'installable: 192 and 512 px icons');
    assert.ok(
      icons.some((i) => i.purpose === 'maskable'),
      'a maskable icon',
    );
  });

  it('the Service Worker registers, and the pages load from its cache with the server gone and the network off', async () => {
    const demo = await serveDemo();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await page.goto(demo.url);
      await page.waitForFunction(() => document.documentElement.dataset['offlineReady'] === 'true', {
        timeout: 60_000,
      });
      assert.equal(
        await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL),
        `${demo.url}service-worker.js`,
      );
      await demo.close();
      await page.setOfflineMode(true);
      await page.goto(`${demo.url}#stabilize`);
      await page.waitForFunction(() => document.body.dataset['route'] === 'stabilize', { timeout: 60_000 });
      const shown = await page.evaluate(() => ({
        title: document.querySelector('h1')?.textContent,
        visible: [...document.querySelectorAll<HTMLElement>('main > section[data-route]')]
          .filter((s) => !s.hidden)
          .map((s) => s.dataset['route']),
        styled: getComputedStyle(document.body).maxWidth,
      }));
      assert.deepEqual(shown, { title: 'framewire', visible: ['stabilize'], styled: '1152px' });
      await screenshot(page, 'demo-offline');
      // The kiosk page is part of the shell too: offline, it says so.
      await page.goto(`${demo.url}kiosk.html?src=${encodeURIComponent('http://127.0.0.1:9/video')}`);
      await waitForState(page, 'body', 'offline');
      assert.match(await page.$eval('#kiosk-status', (e) => e.textContent), /Cannot show the stream/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await demo.close();
    }
  });

  it('after one online visit, the stabilization page stabilizes offline: the Service Worker cached OpenCV.js in the background', async () => {
    const demo = await serveDemo();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      // One visit of the capture page: the stabilization page is never opened online.
      await page.goto(demo.url);
      await page.waitForFunction(() => document.documentElement.dataset['openCvCached'] === 'true', {
        timeout: 60_000,
      });
      await demo.close();
      await page.setOfflineMode(true);
      await page.goto(`${demo.url}?offline#stabilize`);
      await page.$eval('#stabilize-start', (button) => (button as HTMLButtonElement).click());
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#stabilize-stats')?.dataset['frames']) >= 15,
        { timeout: 60_000 },
      );
      assert.match(await page.$eval('#stabilize-stats', (e) => e.textContent), /frames · correction .* px/);
      assert.equal(await page.$eval('#stabilize-error', (e) => (e as HTMLElement).hidden), true);
      await screenshot(page, 'demo-stabilize-offline');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await demo.close();
    }
  });

  it('the package page packages a file to DASH + HLS, and hls.js and dash.js play it through the Service Worker', async () => {
    const demo = await serveDemo();
    const dir = await tempDir();
    const browser = await launchChromium();
    try {
      const clip = await makeMediaFile({ path: join(dir.path, 'clip.mp4'), durationS: 4, size: '320x240' });
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${demo.url}#package`);
      await page.waitForFunction(() => document.documentElement.dataset['offlineReady'] === 'true', {
        timeout: 60_000,
      });
      // From here on no server: the Service Worker serves the shell, the SDK and the package.
      await demo.close();
      const input = (await page.$('#package-file')) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(clip);
      await page.click('#package-start');
      await waitForState(page, '#package-status', 'done');
      assert.equal(await page.$eval('#package-progress', (e) => (e as HTMLProgressElement).value), 100);
      assert.match(await page.$eval('#package-status', (e) => e.textContent), /^copied · 4\.0 s · 1 rendition/);
      await waitForState(page, '#package-hls-status', 'playing');
      await waitForState(page, '#package-dash-status', 'playing');
      const served = await page.evaluate(async () => {
        const base = [...document.querySelectorAll('#package-files li')].length;
        const entries = await (await caches.open('framewire-packaged')).keys();
        const mpd = entries.find((r) => r.url.endsWith('/manifest.mpd'))!.url;
        const response = await fetch(mpd);
        return { files: base, status: response.status, type: response.headers.get('content-type'), mpd };
      });
      assert.equal(served.status, 200);
      assert.equal(served.type, 'application/dash+xml');
      assert.match(served.mpd, /\/packaged\/\d+\/manifest\.mpd$/);
      assert.ok(served.files >= 6, `files listed: ${served.files}`);
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#package-hls-overlay')?.dataset['fps']) > 0,
        {
          timeout: 60_000,
        },
      );
      await screenshot(page, 'demo-package');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await demo.close();
      await dir.remove();
    }
  });
});
