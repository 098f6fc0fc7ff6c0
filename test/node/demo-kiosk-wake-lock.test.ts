import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium } from '../helpers/chromium.js';
import { serveDemo } from '../helpers/demo-page.js';

/** The kiosk, pointed at a stream that is not there (the screen is kept awake all the same). */
const KIOSK = `kiosk.html?src=${encodeURIComponent('http://127.0.0.1:9/video')}`;

/** Waits until the silent fallback video plays and its time advances. */
async function fallbackVideoPlays(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset['wake'] === 'video', { timeout: 60_000 });
  await page.waitForFunction(
    () => {
      const video = document.querySelector<HTMLVideoElement>('video[data-wake-fallback]');
      return video !== null && !video.paused && video.currentTime > 1;
    },
    { timeout: 60_000 },
  );
}

describe('demo kiosk: keeping the screen awake', () => {
  let demo: Awaited<ReturnType<typeof serveDemo>>;
  let browser: Browser;
  before(async () => {
    demo = await serveDemo();
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await demo.close();
  });

  it('holds a wake lock sentinel, which the browser releases when the page is hidden and the kiosk takes again when it is shown', async () => {
    const page = await browser.newPage();
    // Records every sentinel the page obtains from the real Wake Lock API.
    await page.evaluateOnNewDocument(() => {
      const sentinels: WakeLockSentinel[] = [];
      Object.assign(window, { wakeLockSentinels: sentinels });
      const request = Reflect.get<WakeLock, 'request'>(WakeLock.prototype, 'request');
      WakeLock.prototype.request = async function (this: WakeLock, type?: WakeLockType) {
        const sentinel = await request.call(this, type);
        sentinels.push(sentinel);
        return sentinel;
      };
    });
    const sentinels = (): Promise<boolean[]> =>
      page.evaluate(() =>
        (window as unknown as { wakeLockSentinels: WakeLockSentinel[] }).wakeLockSentinels.map((s) => s.released),
      );
    await page.goto(`${demo.url}${KIOSK}`);
    await page.waitForFunction(
      () => document.body.dataset['wake'] === 'wake-lock' && document.body.dataset['wakeLock'] === 'held',
      { timeout: 60_000 },
    );
    assert.deepEqual(await sentinels(), [false]);
    assert.equal(await page.$('video[data-wake-fallback]'), null, 'no fallback video while the lock is held');

    // Another tab in front hides the kiosk: the browser releases the lock.
    const other = await browser.newPage();
    await other.bringToFront();
    await page.waitForFunction(() => document.body.dataset['wakeLock'] === 'released', { timeout: 60_000 });
    assert.deepEqual(await sentinels(), [true]);

    // Shown again: the kiosk takes a new lock.
    await other.close();
    await page.bringToFront();
    await page.waitForFunction(() => document.body.dataset['wakeLock'] === 'held', { timeout: 60_000 });
    assert.deepEqual(await sentinels(), [true, false]);
    await page.close();
  });

  it('plays the silent fallback video where the browser has no Wake Lock API', async () => {
    const page = await browser.newPage();
    await page.evaluateOnNewDocument(() => {
      Reflect.deleteProperty(Navigator.prototype, 'wakeLock');
    });
    await page.goto(`${demo.url}${KIOSK}`);
    assert.equal(await page.evaluate(() => 'wakeLock' in navigator), false);
    await fallbackVideoPlays(page);
    await page.close();
  });

  it('plays the silent fallback video when the wake lock request is refused', async () => {
    const page = await browser.newPage();
    await page.evaluateOnNewDocument(() => {
      Object.assign(window, { wakeLockRequests: 0 });
      WakeLock.prototype.request = () => {
        (window as unknown as { wakeLockRequests: number }).wakeLockRequests++;
        return Promise.reject(new DOMException('refused by the test', 'NotAllowedError'));
      };
    });
    await page.goto(`${demo.url}${KIOSK}`);
    await fallbackVideoPlays(page);
    assert.equal(await page.evaluate(() => (window as unknown as { wakeLockRequests: number }).wakeLockRequests), 1);
    assert.equal(await page.evaluate(() => document.body.dataset['wakeLock']), undefined);
    await page.close();
  });
});
