import assert from 'node:assert/strict';
import { type Server } from 'node:https';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type * as Framewire from '@framewire/browser-sdk';
import { readTlsFiles } from '@framewire/node-bridge';
import { startDemoServer } from '../../scripts/demo-server.mjs';
import { launchChromium } from '../helpers/chromium.js';
import { BRIDGE_CLI, collectPageErrors, screenshot, serveDemo } from '../helpers/demo-page.js';
import { runCli, startCli, tempDir, type StartedCli } from '../helpers/node.js';
import { spkiSha256Base64 } from '../helpers/tls-certificates.js';

// A LAN name, not loopback: Chromium maps it to 127.0.0.1 but treats the page as any other http:// site.
const NAME = 'raspberrypi.test';
const BRIDGE_ARGS = [
  '--port',
  '0',
  '--size',
  '320x240',
  '--fps',
  '15',
  '--webrtc',
  '--webrtc-ice-address',
  '127.0.0.1',
];

/** What the page's SDK did: frames read from each transport, or the error code. */
interface Outcome {
  secure: boolean;
  bridge: string;
  camera: string;
  whep?: string;
  snapshot?: number;
}

/** Opens a BridgeSource, the camera and (over https) a WhepSource and an MJPEG snapshot from `page`. */
async function tryEverything(page: Page, bridge: string, withWhep: boolean): Promise<Outcome> {
  // tsx compiles the tests with esbuild's keepNames, whose `__name()` calls travel inside page.evaluate callbacks.
  await page.evaluate('window.__name = (f) => f');
  return page.evaluate(
    async ({ bridge, withWhep }) => {
      const fw = (await import(`${location.origin}/sdk/index.js`)) as typeof Framewire;
      /** `<width>x<height>` of the first frame `open` gives, or the error code. */
      const first = async (open: () => Promise<Framewire.FrameSource>): Promise<string> => {
        try {
          const source = await open();
          try {
            const frame = await source.read();
            const size = `${frame?.displayWidth}x${frame?.displayHeight}`;
            frame?.close();
            return size;
          } finally {
            await source.close();
          }
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        }
      };
      const wsUrl = bridge.replace(/^http/, 'ws');
      const outcome: Outcome = {
        secure: isSecureContext,
        bridge: await first(() => fw.BridgeSource.open(`${wsUrl}ws`)),
        camera: await first(() => fw.CameraSource.open({ width: 320, height: 240 })),
      };
      if (withWhep) {
        outcome.whep = await first(() => fw.WhepSource.open({ url: `${bridge}whep`, openTimeoutMs: 30_000 }));
        outcome.snapshot = (await fetch(`${bridge}snapshot.jpg`)).status;
      }
      return outcome;
    },
    { bridge, withWhep },
  );
}

describe('watching from another device: http by a LAN name fails plainly, https with the local CA works', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let httpBridge: StartedCli & { match: RegExpMatchArray };
  let httpsBridge: StartedCli & { match: RegExpMatchArray };
  let httpDemo: Awaited<ReturnType<typeof serveDemo>>;
  let httpsDemo: Server;
  let browser: Browser;

  before(async () => {
    dir = await tempDir();
    // The test CA comes from the command users run.
    const made = await runCli(BRIDGE_CLI, ['tls', '--dir', dir.path, '--name', NAME]);
    assert.equal(made.code, 0, made.stderr);
    const [cert, key] = [join(dir.path, 'bridge.pem'), join(dir.path, 'bridge-key.pem')];
    httpBridge = await startCli(BRIDGE_CLI, BRIDGE_ARGS, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    httpsBridge = await startCli(
      BRIDGE_CLI,
      [...BRIDGE_ARGS, '--tls-cert', cert, '--tls-key', key],
      /listening on https:\/\/127\.0\.0\.1:(\d+)/,
    );
    httpDemo = await serveDemo(`http://${NAME}:${httpBridge.match[1]}/`);
    httpsDemo = (await startDemoServer({
      port: 0,
      config: { bridgeUrl: `https://{host}:${httpsBridge.match[1]}/`, signalingUrl: 'https://{host}:9/' },
      tls: await readTlsFiles(cert, key),
    })) as Server;
    // No NSS database here (certutil is not installed): Chromium trusts the local CA by its public key, as a phone
    // that installed ca.crt does.
    browser = await launchChromium([
      `--host-resolver-rules=MAP ${NAME} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${await spkiSha256Base64(join(dir.path, 'ca.pem'))}`,
    ]);
  });
  after(async () => {
    await browser.close();
    httpsDemo.closeAllConnections();
    await new Promise((resolve) => httpsDemo.close(resolve));
    await httpDemo.close();
    await httpBridge.stop();
    await httpsBridge.stop();
    await dir.remove();
  });

  it('over http, the SDK throws FW_ERR_INSECURE_CONTEXT and the demo and the kiosk say so', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const port = new URL(httpDemo.url).port;
    await page.goto(`http://${NAME}:${port}/#bridge`);
    const banner = await page.waitForSelector('#insecure-context:not([hidden])', { timeout: 60_000 });
    assert.match(
      (await banner?.evaluate((e) => e.textContent)) ?? '',
      /FW_ERR_INSECURE_CONTEXT: this page is not a secure context/,
    );
    await page.waitForFunction(
      () => document.querySelector('#bridge-ws-stats')?.textContent.includes('FW_ERR_INSECURE_CONTEXT'),
      { timeout: 60_000 },
    );
    await screenshot(page, 'insecure-context-demo');
    const outcome = await tryEverything(page, `http://${NAME}:${httpBridge.match[1]}/`, false);
    assert.deepEqual(outcome, { secure: false, bridge: 'FW_ERR_INSECURE_CONTEXT', camera: 'FW_ERR_INSECURE_CONTEXT' });

    const src = encodeURIComponent(`ws://${NAME}:${httpBridge.match[1]}/ws`);
    await page.goto(`http://${NAME}:${port}/kiosk.html?src=${src}`);
    await page.waitForFunction(
      () =>
        document.body.dataset['state'] === 'offline' &&
        /Cannot show the stream: FW_ERR_INSECURE_CONTEXT: BridgeSource: http:\/\/raspberrypi\.test:\d+ is not a secure context/.test(
          document.querySelector('#kiosk-status')?.textContent ?? '',
        ),
      { timeout: 60_000 },
    );
    assert.doesNotMatch(await page.$eval('#kiosk-status', (e) => e.textContent), /Trying again/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('over https with the certificate from framewire-bridge tls, WebSocket, WHEP, MJPEG and the kiosk work', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const port = (httpsDemo.address() as AddressInfo).port;
    const bridge = `https://${NAME}:${httpsBridge.match[1]}/`;
    await page.goto(`https://${NAME}:${port}/#bridge`);
    assert.equal(await page.$eval('#insecure-context', (e) => (e as HTMLElement).hidden), true);
    const outcome = await tryEverything(page, bridge, true);
    // The fake camera picks its own size; the bridge's test pattern is 320x240.
    assert.match(outcome.camera, /^\d+x\d+$/);
    assert.deepEqual(
      { ...outcome, camera: 'a frame' },
      { secure: true, bridge: '320x240', camera: 'a frame', whep: '320x240', snapshot: 200 },
    );

    const src = encodeURIComponent(`wss://${NAME}:${httpsBridge.match[1]}/ws`);
    await page.goto(`https://${NAME}:${port}/kiosk.html?src=${src}`);
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('#kiosk-view')?.dataset['frames']) > 5,
      { timeout: 60_000 },
    );
    await screenshot(page, 'secure-context-kiosk');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
