import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { ElementHandle } from 'puppeteer-core';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot } from '../helpers/demo-page.js';
import { ffprobe, makeMediaFile, startCli, tempDir } from '../helpers/node.js';

/** A port that was free a moment ago (the demo script takes fixed ports, as a user would give them). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('demo', () => {
  it('npm run demo, serves the page; the camera, recording, file capture, the bridge test pattern over MJPEG and MQTT, and both services work in Chromium', async () => {
    const [demoPort, bridgePort, signalingPort, mqttPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    Object.assign(process.env, {
      FRAMEWIRE_MQTT_PORT: String(mqttPort),
      FRAMEWIRE_DEMO_PORT: String(demoPort),
      FRAMEWIRE_BRIDGE_PORT: String(bridgePort),
      FRAMEWIRE_SIGNALING_PORT: String(signalingPort),
    });
    const demo = await startCli('scripts/run-demo.mjs', [], /framewire demo: (http:\/\/localhost:\d+\/)/, 20_000);
    const browser = await launchChromium();
    try {
      assert.equal(demo.match[1], `http://localhost:${demoPort}/`);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(`http://127.0.0.1:${demoPort}/?autostart`);
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#camera-stats')?.dataset['frames']) >= 20,
        { timeout: 60_000 },
      );
      await page.waitForFunction(
        () =>
          document.querySelector<HTMLElement>('#bridge-status')?.dataset['state'] === 'ok' &&
          document.querySelector<HTMLElement>('#signaling-status')?.dataset['state'] === 'ok',
        { timeout: 60_000 },
      );
      await page.waitForFunction(
        () => (document.querySelector<HTMLImageElement>('#bridge-view')?.naturalWidth ?? 0) > 0,
        { timeout: 60_000 },
      );
      const state = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('#camera-view')!;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let lit = 0;
        for (let i = 0; i < pixels.length; i += 4 * 97) if (pixels[i]! + pixels[i + 1]! + pixels[i + 2]! > 60) lit++;
        return {
          size: [canvas.width, canvas.height],
          litShare: lit / (pixels.length / (4 * 97)),
          bridgeWidth: document.querySelector<HTMLImageElement>('#bridge-view')!.naturalWidth,
          stats: document.querySelector('#camera-stats')!.textContent,
        };
      });
      assert.deepEqual(state.size, [1280, 720]);
      assert.ok(state.litShare > 0.2, `the camera picture is drawn (${state.litShare})`);
      assert.equal(state.bridgeWidth, 1280);
      assert.match(state.stats, /1280×720 · [\d.]+ fps/);
      // Record and download: 1 s of the camera as VP9 in WebM, read back by ffprobe.
      await page.select('#record-container', 'webm');
      await page.select('#record-codec', 'vp9');
      await page.$eval('#record-seconds', (input) => ((input as HTMLInputElement).value = '1'));
      await page.click('#record-start');
      await page
        .waitForFunction(() => document.querySelector<HTMLElement>('#record-status')?.dataset['state'] === 'done', {
          timeout: 60_000,
        })
        .catch(async (error: unknown) => {
          const status = await page.$eval('#record-status', (e) => e.textContent);
          throw new Error(`recording did not finish: ${status} ${errors.join('; ')}`, { cause: error });
        });
      const download = await page.evaluate(async () => {
        const link = document.querySelector<HTMLAnchorElement>('#record-download')!;
        const bytes = new Uint8Array(await (await fetch(link.href)).arrayBuffer());
        let binary = '';
        for (const byte of bytes) binary += String.fromCharCode(byte);
        return { name: link.download, hidden: link.hidden, base64: btoa(binary) };
      });
      assert.equal(download.name, 'framewire-recording.webm');
      assert.equal(download.hidden, false);
      const dir = await tempDir();
      try {
        const recorded = join(dir.path, download.name);
        await writeFile(recorded, Buffer.from(download.base64, 'base64'));
        const probe = await ffprobe(recorded, ['-count_frames']);
        const video = probe.streams.find((s) => s.codec_type === 'video');
        assert.ok(video, 'a video stream');
        assert.equal(video.codec_name, 'vp9');
        assert.deepEqual([video.width, video.height], [1280, 720]);
        // Every frame the page gave the recorder is in the file or counted as dropped, however fast this machine is;
        // the share kept per codec while the encoder starts is measured in bench/recorder-live-frames.bench.mjs.
        const counts = await page.$eval('#record-status', (e) =>
          Object.fromEntries(Object.entries((e as HTMLElement).dataset)),
        );
        assert.ok(Number(counts['framesWritten']) >= 2, `frames written: ${JSON.stringify(counts)}`);
        assert.equal(Number(video.nb_read_frames), Number(counts['framesWritten']), JSON.stringify(counts));
        assert.equal(
          Number(counts['framesWritten']) + Number(counts['framesDropped']),
          Number(counts['framesGiven']),
          JSON.stringify(counts),
        );

        // Capture a file picked in the page.
        await page.click('#camera-stop');
        const clip = await makeMediaFile({ path: join(dir.path, 'clip.webm'), durationS: 1, size: '320x240' });
        const input = (await page.$('#capture-file')) as ElementHandle<HTMLInputElement>;
        await input.uploadFile(clip);
        await page.select('#capture-kind', 'file');
        await page.click('#camera-start');
        await page.waitForFunction(
          () => /^320×240 .* (2\d|30) frames/.test(document.querySelector('#camera-stats')?.textContent ?? ''),
          { timeout: 60_000 },
        );
      } finally {
        await dir.remove();
      }
      // The MQTT page: the bridge's test pattern through the mosquitto the demo started, via the bridge's /mqtt.
      await page.click('#camera-stop');
      await page.$eval('nav a[href="#mqtt"]', (link) => (link as HTMLElement).click());
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#mqtt-view')?.dataset['frames']) >= 5,
        {
          timeout: 30_000,
        },
      );
      assert.equal(await page.$eval('#mqtt-view', (canvas) => (canvas as HTMLCanvasElement).width), 1280);
      assert.deepEqual(errors, []);
      await screenshot(page, 'demo');
    } finally {
      await browser.close();
      assert.equal(await demo.stop('SIGINT'), 0, demo.output());
    }
  });
});
