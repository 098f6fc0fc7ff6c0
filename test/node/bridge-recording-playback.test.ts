// A bridge recording played by Chromium in a <video> element straight from the bridge (/recordings/<name>, the token
// in the query): it plays, seeks through byte ranges (206), and shows the recorded size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BridgeServer, createTestPatternSource, type RecordingListEntry } from '@framewire/node-bridge';
import { launchChromium } from '../helpers/chromium.js';
import { tempDir, waitUntil } from '../helpers/node.js';

const TOKEN = 'recording-token-2';

describe('bridge recording playback', () => {
  it('Chromium plays and seeks a finished recording through range requests', async () => {
    const dir = await tempDir();
    const source = createTestPatternSource({
      width: 320,
      height: 240,
      frameRate: 15,
      codec: 'h264',
      audio: 'tone',
      h264: { keyframeIntervalFrames: 15 },
    });
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      token: TOKEN,
      record: { dir: dir.path, segmentMinutes: 0.05 },
    });
    const browser = await launchChromium();
    try {
      const base = `http://127.0.0.1:${bridge.port}`;
      const entry = await waitUntil(
        async () => {
          const response = await fetch(`${base}/recordings?token=${TOKEN}`);
          const { recordings } = (await response.json()) as { recordings: RecordingListEntry[] };
          return recordings.find((r) => r.state === 'finished');
        },
        'a finished recording',
        60_000,
      );
      const page = await browser.newPage();
      const statuses: number[] = [];
      page.on('response', (response) => {
        if (response.url().includes(entry.name)) statuses.push(response.status());
      });
      await page.goto(`${base}/health`);
      // tsx compiles with esbuild's keepNames, whose `__name()` calls travel inside page.evaluate callbacks.
      await page.evaluate('window.__name = (f) => f');
      const result = await page.evaluate(async (url) => {
        const video = document.createElement('video');
        video.muted = true;
        video.src = url;
        document.body.append(video);
        const event = (name: string): Promise<void> =>
          new Promise((resolve, reject) => {
            video.addEventListener(name, () => resolve(), { once: true });
            video.addEventListener('error', () => reject(new Error(`video error ${video.error?.code ?? '?'}`)), {
              once: true,
            });
          });
        await event('loadedmetadata');
        await video.play();
        await new Promise<void>((resolve) => {
          const check = (): void => (video.currentTime > 0.5 ? resolve() : void setTimeout(check, 50));
          check();
        });
        const duration = video.duration;
        const seeked = event('seeked');
        video.currentTime = duration / 2;
        await seeked;
        return {
          width: video.videoWidth,
          height: video.videoHeight,
          duration,
          currentTime: video.currentTime,
        };
      }, `${base}${entry.url}?token=${TOKEN}`);
      assert.deepEqual([result.width, result.height], [320, 240]);
      assert.ok(result.duration > 1, `duration ${result.duration}`);
      assert.ok(result.currentTime > 0.5, `seeked to ${result.currentTime}`);
      assert.ok(statuses.includes(206), `range responses: ${statuses.join(', ')}`);
    } finally {
      await browser.close();
      await bridge.close();
      await dir.remove();
    }
  });
});
