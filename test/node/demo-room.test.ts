import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NodePeer, type I420Frame } from '@framewire/node-bridge';
import { SignalingServer } from '@framewire/signaling';
import { launchChromium } from '../helpers/chromium.js';
import { collectPageErrors, screenshot, serveDemo } from '../helpers/demo-page.js';
import { isLoopbackCandidate } from '../helpers/ice-loopback.js';
import { waitUntil } from '../helpers/node.js';
import { flatI420, settleWrtc, wrtc } from '../helpers/peers.js';

// wrtc must not meet the process teardown with objects still waiting for finalization (see settleWrtc).
after(() => settleWrtc());

const SECRET = 'demo-room-secret-0123456789';

describe('demo peer room', () => {
  it('a page joins a room with a token from the demo server, sees a Node peer’s video, sends it its camera, and chats both ways', async () => {
    // The demo first (the signaling server allows only its origin), told where signaling is once that started.
    const config = { signalingUrl: '' };
    const demo = await serveDemo(undefined, { config, secret: SECRET });
    const signaling = await SignalingServer.start({
      port: 0,
      secret: SECRET,
      allowedOrigins: [new URL(demo.url).origin],
    });
    config.signalingUrl = `http://127.0.0.1:${signaling.port}/`;
    const browser = await launchChromium();
    let peer: NodePeer | undefined;
    let ticker: ReturnType<typeof setInterval> | undefined;
    try {
      peer = await NodePeer.open({
        url: `ws://127.0.0.1:${signaling.port}/ws`,
        room: 'demo',
        token: await signaling.tokens.issue({ room: 'demo', role: 'publisher' }),
        wrtc,
        iceCandidateFilter: isLoopbackCandidate,
        meta: { nick: 'node' },
      });
      const node = peer;
      const video = node.publishVideo();
      let luma = 16;
      ticker = setInterval(() => video.pushFrame(flatI420(320, 240, (luma = (luma + 5) % 220))), 40);
      const chats: unknown[] = [];
      node.room.on('message', ({ topic, data }) => {
        if (topic === 'chat') chats.push(data);
      });
      const cameraFrames: I420Frame[] = [];
      node.on('frame', ({ frame }) => {
        if (cameraFrames.length < 3) cameraFrames.push(frame);
      });

      const page = await browser.newPage();
      await page.setViewport({ width: 1000, height: 900 });
      const errors = collectPageErrors(page);
      const click = (selector: string): Promise<void> =>
        page.$eval(selector, (element) => (element as HTMLElement).click());
      const roomState = (): Promise<string | undefined> =>
        page.$eval('#room-status', (e) => (e as HTMLElement).dataset['state']);
      await page.goto(`${demo.url}?loopback#room`);
      await page.waitForFunction(() => document.body.dataset['route'] === 'room');

      // A room name the demo server refuses: a clear error, and the page can try again.
      await page.$eval('#room-name', (e) => ((e as HTMLInputElement).value = 'no spaces'));
      await click('#room-join');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#room-status')?.dataset['state'] === 'failed',
      );
      assert.match(await page.$eval('#room-status', (e) => e.textContent), /FW_ERR_INVALID_OPTION: room must be/);

      await page.$eval('#room-name', (e) => ((e as HTMLInputElement).value = 'demo'));
      await page.$eval('#room-nick', (e) => ((e as HTMLInputElement).value = 'ada'));
      await click('#room-join');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#room-status')?.dataset['state'] === 'joined',
        {
          timeout: 60_000,
        },
      );
      // The Node peer's video in its own tile, with a stats overlay.
      await page.waitForFunction(
        (id) => Number(document.querySelector<HTMLElement>(`.room-tile[data-peer="${id}"]`)?.dataset['frames']) >= 10,
        { timeout: 60_000 },
        node.peerId,
      );
      const tile = await page.$eval(`.room-tile[data-peer="${node.peerId}"]`, (e) => ({
        width: e.querySelector('canvas')?.width,
        fps: Number(e.querySelector<HTMLElement>('.stats-overlay')?.dataset['fps']),
      }));
      assert.deepEqual(tile.width, 320);
      assert.ok(tile.fps > 0, `fps shown: ${String(tile.fps)}`);
      // The page's camera reaches the Node peer.
      await waitUntil(() => cameraFrames.length >= 3, 'the page camera’s frames at the Node peer', 60_000);
      assert.deepEqual([cameraFrames[0]?.width, cameraFrames[0]?.height], [640, 360]);

      // Chat both ways.
      await page.type('#room-message', 'hello from the page');
      await click('#room-send');
      await waitUntil(() => chats.length > 0, 'the chat message at the Node peer', 60_000);
      assert.deepEqual(chats[0], { nick: 'ada', text: 'hello from the page' });
      await node.room.send('chat', { nick: 'node', text: 'hello from Node' });
      await page.waitForFunction(() =>
        document.querySelector('#room-chat-log')?.textContent.includes('hello from Node'),
      );
      assert.match(await page.$eval('#room-chat-log', (e) => e.textContent), /node: hello from Node/);
      await screenshot(page, 'demo-room');

      await click('#room-leave');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#room-status')?.dataset['state'] === 'idle',
      );
      assert.equal(await page.$$eval('.room-tile', (tiles) => tiles.length), 0, 'tiles removed on leave');
      assert.equal(await roomState(), 'idle');
      await waitUntil(() => node.room.peers.length === 0, 'the page left the room', 60_000);
      assert.deepEqual(errors, []);
    } finally {
      clearInterval(ticker);
      await peer?.close();
      await browser.close();
      await demo.close();
      await signaling.close();
    }
  });
});
