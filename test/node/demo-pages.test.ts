import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchChromium } from '../helpers/chromium.js';
import { collectPageErrors, screenshot, serveDemo, startBridge } from '../helpers/demo-page.js';
import { tempDir } from '../helpers/node.js';

describe('demo pages', () => {
  it('each page works from its route: capture, stabilization, bridge (with motion events), recordings, and packaging a generated clip into two renditions', async () => {
    const recordings = await tempDir();
    const bridge = await startBridge(0, ['--record', recordings.path, '--record-segment-minutes', '0.05', '--motion']);
    const demo = await serveDemo(`http://127.0.0.1:${bridge.port}/`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1000, height: 900 });
      const errors = collectPageErrors(page);
      // Clicks through the DOM: the page reflows as video starts, which trips puppeteer's coordinate clicks.
      const click = (selector: string): Promise<void> =>
        page.$eval(selector, (element) => (element as HTMLElement).click());
      const frames = (selector: string, n: number): Promise<unknown> =>
        page.waitForFunction(
          (s, min) => Number(document.querySelector<HTMLElement>(s)?.dataset['frames']) >= min,
          { timeout: 60_000 },
          selector,
          n,
        );

      await page.goto(`${demo.url}?autostart#capture`);
      await frames('#camera-stats', 20);
      const overlay = await page.$eval('#camera-overlay', (e) =>
        Object.fromEntries(Object.entries((e as HTMLElement).dataset)),
      );
      assert.ok(Number(overlay['fps']) > 0 && overlay['droppedFrames'] !== undefined, JSON.stringify(overlay));
      await screenshot(page, 'demo-capture');
      // A recording cancelled half-way: no download, the page can record again.
      await page.$eval('#record-seconds', (input) => ((input as HTMLInputElement).value = '30'));
      await click('#record-start');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#record-status')?.dataset['state'] === 'recording',
      );
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLProgressElement>('#record-progress')?.value) > 0,
        {
          timeout: 60_000,
        },
      );
      await click('#record-cancel');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#record-status')?.dataset['state'] === 'cancelled',
      );
      const afterCancel = await page.evaluate(() => ({
        download: document.querySelector<HTMLAnchorElement>('#record-download')!.hidden,
        canRecord: !document.querySelector<HTMLButtonElement>('#record-start')!.disabled,
      }));
      assert.deepEqual(afterCancel, { download: true, canRecord: true });
      await click('#camera-stop');

      await click('nav a[href="#stabilize"]');
      await page.waitForFunction(() => document.body.dataset['route'] === 'stabilize');
      await click('#stabilize-start');
      await frames('#stabilize-stats', 15);
      assert.match(await page.$eval('#stabilize-stats', (e) => e.textContent), /frames · correction .* px/);
      const stabilized = await page.$eval('#stabilize-overlay', (e) =>
        Object.fromEntries(Object.entries((e as HTMLElement).dataset)),
      );
      assert.ok(Number(stabilized['fps']) > 0, `output fps shown: ${JSON.stringify(stabilized)}`);
      assert.ok(Number(stabilized['latencyMs']) >= 0, `stabilizer latency shown: ${JSON.stringify(stabilized)}`);
      await screenshot(page, 'demo-stabilize');
      await click('#stabilize-stop');
      // The live pipeline, CameraSource → Stabilizer → canvas, with the Kalman smoother.
      await page.select('#stabilize-input', 'camera');
      await page.select('#stabilize-smoothing', 'kalman');
      await click('#stabilize-start'); // counts from 0 again
      await frames('#stabilize-stats', 15);
      assert.match(
        await page.$eval('#stabilize-stats', (e) => e.textContent),
        /frames · correction .* px, .*° · zoom \d+\.\d+× · crop/,
      );
      assert.equal(await page.$eval('#stabilize-error', (e) => (e as HTMLElement).hidden), true, 'no error shown');
      await click('#stabilize-stop');

      await click('nav a[href="#bridge"]');
      await page.waitForFunction(
        () => (document.querySelector<HTMLImageElement>('#bridge-view')?.naturalWidth ?? 0) > 0,
      );
      assert.equal(await page.$eval('#bridge-view', (e) => (e as HTMLImageElement).naturalWidth), 320);
      // Beside it, the WebSocket (H.264) view decodes with BridgeSource and shows its latency.
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#bridge-ws-view')?.dataset['frames']) > 10,
      );
      const ws = await page.evaluate(() => ({
        width: document.querySelector<HTMLCanvasElement>('#bridge-ws-view')!.width,
        latencyMs: Number(document.querySelector<HTMLElement>('#bridge-ws-stats')!.dataset['latencyMs']),
        text: document.querySelector('#bridge-ws-stats')!.textContent,
      }));
      assert.equal(ws.width, 320);
      assert.ok(Number.isFinite(ws.latencyMs) && ws.latencyMs >= 0, `latency ${ws.text}`);
      assert.match(ws.text, /ms glass-to-glass \(p50\), \d+ ms p95/);
      // And the WebRTC view (WhepSource), with the latency its capture-time channel gives.
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#bridge-webrtc-view')?.dataset['frames']) > 10,
        { timeout: 60_000 },
      );
      const rtc = await page.evaluate(() => ({
        width: document.querySelector<HTMLCanvasElement>('#bridge-webrtc-view')!.width,
        text: document.querySelector('#bridge-webrtc-stats')!.textContent,
      }));
      assert.equal(rtc.width, 320);
      assert.match(rtc.text, /fps/);
      // The motion badge reads the bridge's /events (--motion): the test pattern always moves.
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#bridge-motion')?.dataset['state'] === 'motion',
        { timeout: 60_000 },
      );
      assert.match(
        await page.$eval('#bridge-motion-events li', (e) => e.textContent),
        /testpattern: motion \(\d+\.\d% of the picture\)/,
      );
      assert.match(
        await page.$eval('#bridge-kiosk-link', (e) => (e as HTMLAnchorElement).href),
        new RegExp(`kiosk\\.html\\?src=http%3A%2F%2F127\\.0\\.0\\.1%3A${bridge.port}%2Fvideo$`),
      );
      await screenshot(page, 'demo-bridge');

      // The bridge's recordings: listed (Refresh until a 3-second file is finished) and played from the bridge.
      await click('nav a[href="#recordings"]');
      await page.waitForFunction(
        () => {
          if (document.querySelector('#recordings-list button[data-state="finished"]')) return true;
          document.querySelector<HTMLButtonElement>('#recordings-refresh')?.click();
          return false;
        },
        { timeout: 60_000, polling: 500 },
      );
      await page.$eval('#recordings-list button[data-state="finished"]', (b) => b.click());
      await page.waitForFunction(
        () => {
          const player = document.querySelector<HTMLVideoElement>('#recordings-player');
          return player !== null && player.readyState >= 2 && player.currentTime > 0;
        },
        { timeout: 60_000 },
      );
      assert.equal(await page.$eval('#recordings-player', (v) => (v as HTMLVideoElement).videoWidth), 320);
      await screenshot(page, 'demo-recordings');

      await click('nav a[href="#package"]');
      await page.waitForFunction(() => document.documentElement.dataset['offlineReady'] === 'true');
      await click('#package-make-clip');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#package-status')?.dataset['state'] === 'ready',
        { timeout: 60_000 },
      );
      await page.select('#package-ladder', 'two');
      await click('#package-start');
      await page.waitForFunction(
        () =>
          ['done', 'failed'].includes(document.querySelector<HTMLElement>('#package-status')?.dataset['state'] ?? ''),
        { timeout: 60_000 },
      );
      const packaged = await page.$eval('#package-status', (e) => e.textContent);
      assert.match(
        packaged,
        /^encoded · 4\.0 s · 2 rendition\(s\)/,
        await page.$eval('#package-error', (e) => e.textContent),
      );
      await page.waitForFunction(
        () =>
          document.querySelector<HTMLElement>('#package-hls-status')?.dataset['state'] === 'playing' &&
          document.querySelector<HTMLElement>('#package-dash-status')?.dataset['state'] === 'playing',
        { timeout: 60_000 },
      );
      await screenshot(page, 'demo-package-ladder');

      // The plain <script> tag example.
      await page.goto(`${demo.url}examples/script-tag.html`);
      await frames('#stats', 10);
      await screenshot(page, 'example-script-tag');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await demo.close();
      await bridge.stop('SIGTERM');
      await recordings.remove();
    }
  });
});
