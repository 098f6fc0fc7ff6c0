import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { Page } from 'puppeteer-core';
import { launchChromium } from '../helpers/chromium.js';
import { collectPageErrors, screenshot, serveDemo, startBridge } from '../helpers/demo-page.js';

const frames = (page: Page): Promise<number> =>
  page.$eval('#kiosk-view', (canvas) => Number((canvas as HTMLCanvasElement).dataset['frames'] ?? 0));

const waitForKiosk = (page: Page, state: string, timeout = 30_000): Promise<unknown> =>
  page
    .waitForFunction((want) => document.body.dataset['state'] === want, { timeout }, state)
    .catch(async (error: unknown) => {
      const status = await page.$eval('#kiosk-status', (e) => e.textContent);
      throw new Error(`the kiosk did not reach ${state}: ${status}`, { cause: error });
    });

describe('demo kiosk', () => {
  it('shows the bridge stream full screen, says when the bridge is gone, and recovers when it is restarted', async () => {
    let bridge = await startBridge();
    const demo = await serveDemo(`http://127.0.0.1:${bridge.port}/`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 640, height: 480 });
      const errors = collectPageErrors(page);
      const src = encodeURIComponent(`http://127.0.0.1:${bridge.port}/video`);
      await page.goto(`${demo.url}kiosk.html?src=${src}&stats`);
      await waitForKiosk(page, 'playing');
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#kiosk-view')?.dataset['frames']) > 10,
      );
      const shown = await page.evaluate(() => ({
        size: [document.querySelector('canvas')!.width, document.querySelector('canvas')!.height],
        box: [document.querySelector('canvas')!.clientWidth, document.querySelector('canvas')!.clientHeight],
        chrome: document.querySelectorAll('button, nav, header, select, input').length,
        status: getComputedStyle(document.querySelector('#kiosk-status')!).display,
        wake: document.body.dataset['wake'],
        fps: Number(document.querySelector<HTMLElement>('#kiosk-stats')!.dataset['fps']),
      }));
      assert.deepEqual(shown.size, [320, 240]);
      assert.deepEqual(shown.box, [640, 480], 'the canvas fills the window');
      assert.equal(shown.chrome, 0, 'no UI chrome');
      assert.equal(shown.status, 'none', 'no status while playing');
      assert.ok(shown.wake === 'wake-lock' || shown.wake === 'video', `screen kept awake by ${shown.wake}`);
      assert.ok(shown.fps > 0, `stats overlay fps ${shown.fps}`);
      await screenshot(page, 'kiosk-playing');

      // The bridge goes away: the kiosk says so, and keeps trying.
      assert.equal(await bridge.stop('SIGTERM'), 0);
      await waitForKiosk(page, 'offline');
      // The first attempt after the end finds nobody listening.
      await page.waitForFunction(
        () =>
          /Cannot show the stream: FW_ERR_NETWORK_FAILED.*Trying again in \d+ s/s.test(
            document.querySelector('#kiosk-status')?.textContent ?? '',
          ),
        { timeout: 60_000 },
      );
      await screenshot(page, 'kiosk-offline');

      // It comes back on the same port: frames flow again without anyone touching the page.
      const before = await frames(page);
      bridge = await startBridge(bridge.port);
      await waitForKiosk(page, 'playing', 40_000);
      await page.waitForFunction(
        (n) => Number(document.querySelector<HTMLElement>('#kiosk-view')?.dataset['frames']) > n + 10,
        { timeout: 60_000 },
        before,
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await bridge.stop('SIGTERM');
      await demo.close();
    }
  });

  it('shows a bridge over WebSocket (BridgeSource, H.264) and over WebRTC (WhepSource, VP8), with glass-to-glass latency', async () => {
    const bridge = await startBridge();
    const demo = await serveDemo(`http://127.0.0.1:${bridge.port}/`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      const src = encodeURIComponent(`ws://127.0.0.1:${bridge.port}/ws`);
      await page.goto(`${demo.url}kiosk.html?src=${src}&stats`);
      await waitForKiosk(page, 'playing');
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#kiosk-view')?.dataset['frames']) > 10,
      );
      const shown = await page.evaluate(() => ({
        size: [document.querySelector('canvas')!.width, document.querySelector('canvas')!.height],
        latencyMs: Number(document.querySelector<HTMLElement>('#kiosk-stats')!.dataset['latencyMs']),
      }));
      assert.deepEqual(shown.size, [320, 240]);
      assert.ok(Number.isFinite(shown.latencyMs) && shown.latencyMs >= 0, `latency ${shown.latencyMs}`);
      await screenshot(page, 'kiosk-websocket');

      // The same bridge over WebRTC: `type=webrtc` with the bridge's base URL.
      await page.goto(
        `${demo.url}kiosk.html?src=${encodeURIComponent(`http://127.0.0.1:${bridge.port}/`)}&type=webrtc&stats`,
      );
      await waitForKiosk(page, 'playing');
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#kiosk-view')?.dataset['frames']) > 10,
        { timeout: 60_000 },
      );
      // WhepSource stamps capture times once it has matched the bridge's capture-time channel to RTP timestamps
      // (after about 10 frames, at most 60): the overlay shows latency from then on.
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#kiosk-stats')?.dataset['latencyMs'] !== undefined,
        { timeout: 60_000 },
      );
      const rtc = await page.evaluate(() => ({
        size: [document.querySelector('canvas')!.width, document.querySelector('canvas')!.height],
        latencyMs: Number(document.querySelector<HTMLElement>('#kiosk-stats')!.dataset['latencyMs']),
      }));
      assert.deepEqual(rtc.size, [320, 240]);
      assert.ok(Number.isFinite(rtc.latencyMs) && rtc.latencyMs >= 0, `WebRTC latency ${rtc.latencyMs}`);
      const health = /framewire_output_clients\{source="\*",output="webrtc"\} (\d+)/.exec(
        await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text(),
      );
      assert.equal(health?.[1], '1', 'one WebRTC viewer at the bridge');
      await screenshot(page, 'kiosk-webrtc');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await bridge.stop('SIGTERM');
      await demo.close();
    }
  });

  it('takes its stream from a JSON config file, and shows a clear status when the stream does not exist', async () => {
    const demo = await serveDemo();
    const config = 'demo/kiosk-test.json';
    await writeFile(config, JSON.stringify({ src: '/no-such-stream.m3u8', fit: 'cover' }));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${demo.url}kiosk.html?config=kiosk-test.json`);
      await waitForKiosk(page, 'offline');
      assert.equal(await page.evaluate(() => document.body.dataset['fit']), 'cover');
      assert.match(
        await page.$eval('#kiosk-status', (e) => e.textContent),
        /Cannot show the stream: FW_ERR_NETWORK_FAILED.*404/s,
      );
      await screenshot(page, 'kiosk-missing-stream');
    } finally {
      await browser.close();
      await demo.close();
      await rm(config);
    }
  });
});
