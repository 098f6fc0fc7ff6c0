// The bridge's Janus output (--janus-url) and the SDK's JanusSource, with the Debian Janus started here on loopback:
// 10 viewers through Janus while the bridge sends one stream, Janus killed and started again (the bridge re-creates
// its mountpoint, the viewers come back by themselves), and a wrong API secret (FW_ERR_JANUS_REFUSED).
// The 10 viewers are 10 JanusSources on one Chromium page: ten pages (ten renderer processes) are too heavy beside the
// bridge and Janus on this 2-core machine, and each JanusSource has its own Janus session and peer connection anyway.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type { JanusSource } from '@framewire/browser-sdk';
import type { BridgeHealth } from '@framewire/node-bridge';
import { launchChromium } from '../helpers/chromium.js';
import { startJanus, type JanusTurn, type StartedJanus } from '../helpers/janus.js';
import { startCoturn, type Coturn } from '../helpers/signaling.js';
import { runCli, startCli, tempDir, waitUntil, type StartedCli, type StartedServer } from '../helpers/node.js';
import { openPeerPage, startSdkServer } from '../helpers/peers.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const SECRET = 'janus-test-secret';
const VIEWERS = 10;
const TURN_SECRET = 'janus-test-turn-secret';

/** TURN REST credentials (coturn's use-auth-secret) valid for a day. */
function turnCredentials(port: number): JanusTurn {
  const username = `${Math.floor(Date.now() / 1000) + 86_400}:janus-test`;
  return { port, username, credential: createHmac('sha1', TURN_SECRET).update(username).digest('base64') };
}

declare const Framewire: { JanusSource: typeof JanusSource };

declare global {
  interface Window {
    janusViewers: {
      frames: number[];
      reconnects: number[];
      errors: string[];
      audio: boolean[];
      sources: { close(): Promise<void> }[];
    };
    isLoopbackCandidate: (candidate: string) => boolean;
  }
}

async function health(port: number): Promise<BridgeHealth> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as BridgeHealth;
}

/** The bridge CLI with its test pattern (and `extra` flags) feeding the Janus at `janusUrl`. */
async function startBridge(janusUrl: string, extra: string[] = []): Promise<StartedCli & { port: number }> {
  const bridge = await startCli(
    BRIDGE,
    ['--port', '0', '--size', '320x240', '--fps', '15', '--janus-url', janusUrl, ...extra],
    LISTENING,
  );
  return { ...bridge, port: Number(bridge.match[1]) };
}

describe('Janus as the SFU (--janus-url, JanusSource)', { timeout: 600_000 }, () => {
  let dir: { path: string; remove(): Promise<void> };
  let janus: StartedJanus;
  let coturn: Coturn;
  let turn: JanusTurn;
  let bridge: StartedCli & { port: number };
  let browser: Browser;
  let sdk: StartedServer;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    dir = await tempDir();
    coturn = await startCoturn(TURN_SECRET);
    turn = turnCredentials(coturn.port);
    janus = await startJanus(dir.path, SECRET, turn);
    // The secret through the environment here, through --janus-secret in the wrong-secret test.
    process.env['FRAMEWIRE_JANUS_SECRET'] = SECRET;
    bridge = await startBridge(janus.url, ['--audio', 'tone']);
    delete process.env['FRAMEWIRE_JANUS_SECRET'];
    sdk = await startSdkServer();
    browser = await launchChromium();
    page = await openPeerPage(browser, sdk.url, errors);
    await page.addScriptTag({ url: '/sdk/framewire.min.js' });
  });

  after(async () => {
    await page.evaluate(() => Promise.all(window.janusViewers.sources.map((s) => s.close()))).catch(() => undefined);
    await browser.close();
    await sdk.close();
    await bridge.stop();
    await janus.stop();
    await coturn.stop();
    await dir.remove();
  });

  it('creates a mountpoint with H.264 and Opus, reported in /health and /metrics', async () => {
    const ready = await waitUntil(
      async () => (await health(bridge.port)).janus?.find((j) => j.state === 'ready'),
      'the mountpoint ready in /health',
      60_000,
    );
    assert.equal(ready.source, 'testpattern');
    assert.equal(ready.audio, true);
    assert.equal(ready.creations, 1);
    assert.ok(ready.videoPort !== undefined && ready.audioPort !== undefined, 'Janus gave video and audio ports');
    const metrics = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`framewire_janus_mountpoint_up\\{source="testpattern",mountpoint="${ready.mountpointId}"\\} 1`),
    );
    // Janus itself says the mountpoint receives video.
    await waitUntil(
      async () => {
        const h = (await health(bridge.port)).janus?.[0];
        return h?.videoAgeMs !== undefined && h.videoAgeMs < 2000;
      },
      'Janus receiving the video',
      60_000,
    );
  });

  it(`serves ${VIEWERS} Chromium viewers, who resume by themselves after Janus restarts`, async () => {
    await page.evaluate(
      async (url, secret, count, turnServer) => {
        const viewers: Window['janusViewers'] = { frames: [], reconnects: [], errors: [], audio: [], sources: [] };
        window.janusViewers = viewers;
        const { JanusSource } = Framewire;
        const open = async (i: number): Promise<void> => {
          const source = await JanusSource.open({
            url,
            mountpoint: 'testpattern',
            apiSecret: secret,
            // Headless Chromium and Janus meet on relay candidates of the coturn on 127.0.0.1.
            iceServers: [turnServer],
            candidateFilter: (candidate) => window.isLoopbackCandidate(candidate),
            openTimeoutMs: 60_000,
          });
          viewers.sources[i] = source;
          viewers.audio[i] = source.audioTrack?.kind === 'audio';
          source.on('error', ({ error }) => viewers.errors.push(`${i}: ${error.code}`));
          void (async () => {
            for await (const frame of source) {
              if (frame.codedWidth === 320) viewers.frames[i] = (viewers.frames[i] ?? 0) + 1;
              frame.close();
              viewers.reconnects[i] = source.stats.reconnects;
            }
          })();
        };
        for (let i = 0; i < count; i++) {
          viewers.frames[i] = 0;
          viewers.reconnects[i] = 0;
        }
        await Promise.all(Array.from({ length: count }, (_, i) => open(i)));
      },
      janus.url,
      SECRET,
      VIEWERS,
      { urls: `turn:127.0.0.1:${turn.port}?transport=tcp`, username: turn.username, credential: turn.credential },
    );
    const frames = (): Promise<number[]> => page.evaluate(() => [...window.janusViewers.frames]);
    await waitUntil(async () => (await frames()).every((n) => n >= 15), `${VIEWERS} viewers decoding frames`, 60_000);
    assert.deepEqual(
      await page.evaluate(() => window.janusViewers.audio),
      Array.from({ length: VIEWERS }, () => true),
      'every viewer has the audio track',
    );
    await waitUntil(
      async () => (await health(bridge.port)).janus?.[0]?.viewers === VIEWERS,
      `Janus reporting ${VIEWERS} viewers in the bridge's /health`,
      60_000,
    );

    await janus.kill();
    await waitUntil(
      async () => (await health(bridge.port)).janus?.[0]?.state === 'retrying',
      'the bridge noticing that Janus is gone',
      60_000,
    );
    const before = await frames();
    await janus.restart();
    const recreated = await waitUntil(
      async () => (await health(bridge.port)).janus?.find((j) => j.state === 'ready' && j.creations === 2),
      'the bridge re-creating the mountpoint',
      60_000,
    );
    assert.equal(recreated.error, undefined);
    await waitUntil(
      async () => (await frames()).every((n, i) => n >= (before[i] ?? 0) + 15),
      `${VIEWERS} viewers decoding frames again after the restart`,
      90_000,
    );
    const reconnects = await page.evaluate(() => window.janusViewers.reconnects);
    assert.ok(
      reconnects.every((n) => n >= 1),
      `every viewer reconnected by itself: ${reconnects.join(',')}`,
    );
    assert.deepEqual(errors, [], 'no page errors');
  });

  it('reports a wrong API secret as FW_ERR_JANUS_REFUSED in /health, and keeps serving its other outputs', async () => {
    const wrong = await startBridge(janus.url, ['--janus-secret', 'not-the-secret']);
    try {
      const refused = await waitUntil(
        async () => (await health(wrong.port)).janus?.[0]?.error,
        'the refusal in /health',
        60_000,
      );
      assert.equal(refused.code, 'FW_ERR_JANUS_REFUSED');
      assert.match(refused.message, /403/);
      const report = await health(wrong.port);
      assert.equal(report.status, 'degraded');
      assert.equal(report.janus?.[0]?.state, 'retrying');
      const snapshot = await fetch(`http://127.0.0.1:${wrong.port}/snapshot.jpg`);
      assert.equal(snapshot.status, 200, 'the MJPEG output still serves');
      assert.equal(Buffer.from(await snapshot.arrayBuffer())[0], 0xff);
      assert.match(wrong.output(), /FW_ERR_JANUS_REFUSED/);
    } finally {
      await wrong.stop();
    }
  });

  it('refuses a bad --janus-url or a --janus-secret without it with FW_ERR_INVALID_OPTION (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--janus-url', 'ws://127.0.0.1:8188/'], /--janus-url must be the http\(s\) URL of Janus's HTTP API/],
      [['--janus-url', 'not a url'], /--janus-url must be the http\(s\) URL/],
      [['--janus-secret', 'x'], /--janus-secret needs --janus-url/],
      [['--janus-url', janus.url, '--janus-secret', ''], /--janus-secret must not be empty/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(BRIDGE, ['--port', '0', '--size', '160x120', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /FW_ERR_INVALID_OPTION: /);
      assert.match(result.stderr, message);
    }
  });

  it('JanusSource rejects a wrong API secret with FW_ERR_JANUS_REFUSED and an unknown mountpoint with FW_ERR_NOT_FOUND', async () => {
    const codes = await page.evaluate(async (url) => {
      const { JanusSource } = Framewire;
      const code = (options: { apiSecret: string; mountpoint: string }): Promise<string> =>
        JanusSource.open({ url, ...options, reconnect: false, openTimeoutMs: 30_000 }).then(
          async (source) => {
            await source.close();
            return 'opened';
          },
          (error: unknown) => (error as { code: string }).code,
        );
      return [
        await code({ apiSecret: 'not-the-secret', mountpoint: 'testpattern' }),
        await code({ apiSecret: 'janus-test-secret', mountpoint: 'no-such-source' }),
      ];
    }, janus.url);
    assert.deepEqual(codes, ['FW_ERR_JANUS_REFUSED', 'FW_ERR_NOT_FOUND']);
  });
});
