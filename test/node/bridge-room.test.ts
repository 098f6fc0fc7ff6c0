import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type * as Framewire from '@framewire/browser-sdk';
import type { Room } from '@framewire/browser-sdk';
import {
  BridgeRoomPeer,
  BridgeServer,
  RoomSource,
  createTestPatternSource,
  type RawFrame,
} from '@framewire/node-bridge';
import { SignalingServer, TokenAuthority } from '@framewire/signaling';
import { launchChromium } from '../helpers/chromium.js';
import { ffprobe, runCli, startCli, waitUntil, type StartedCli, type StartedServer } from '../helpers/node.js';
import { openPeerPage, startSdkServer } from '../helpers/peers.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';
const SECRET = 'bridge-room-secret-0123456789';

/** What the test keeps on a page's globalThis. */
interface PageState {
  fw: typeof Framewire;
  room: Room;
  isLoopbackCandidate: (candidate: unknown) => boolean;
  frames: Record<string, { count: number; size: string }>;
  camera?: { close(): Promise<void> };
}

/** Joins `room` from a page (loopback candidates only) and counts every remote peer's frames. */
async function joinFromPage(page: Page, url: string, token: string, room: string): Promise<string> {
  return page.evaluate(
    async ({ url, token, room }) => {
      const g = globalThis as unknown as PageState;
      g.fw = (await import(`${location.origin}/sdk/index.js`)) as typeof Framewire;
      g.frames = {};
      g.room = await g.fw.Room.join({
        url,
        token,
        room,
        iceCandidateFilter: (candidate) => g.isLoopbackCandidate(candidate),
      });
      g.room.on('track', ({ peerId, source }) => {
        if (!source) return;
        const record = { count: 0, size: '' };
        g.frames[peerId] = record;
        void (async () => {
          for (let frame = await source.read(); frame; frame = await source.read()) {
            record.count++;
            record.size = `${frame.displayWidth}x${frame.displayHeight}`;
            frame.close();
          }
        })();
      });
      return g.room.peerId;
    },
    { url, token, room },
  );
}

describe('bridge as a room peer (--room-url): real signaling server, Chromium pages, the bridge CLI', () => {
  let browser: Browser;
  let sdk: StartedServer;
  let server: SignalingServer;
  let url: string;
  const pageErrors: string[] = [];
  const pages: Page[] = [];
  const clis: StartedCli[] = [];

  before(async () => {
    sdk = await startSdkServer();
    server = await SignalingServer.start({ port: 0, host: '127.0.0.1', secret: SECRET, allowedOrigins: [sdk.url] });
    url = `ws://127.0.0.1:${server.port}/ws`;
    browser = await launchChromium();
  });
  after(async () => {
    for (const page of pages.splice(0)) {
      await page.evaluate(async () => {
        const g = globalThis as unknown as PageState;
        await g.camera?.close();
        await (g.room as Room | undefined)?.close();
      });
      await page.close();
    }
    for (const cli of clis.splice(0)) await cli.stop();
    await browser.close();
    await server.close();
    await sdk.close();
    assert.deepEqual(pageErrors, []);
  });

  it("publishes its test pattern to a Chromium viewer and serves a Chromium publisher's camera as source room", async () => {
    process.env['FRAMEWIRE_ROOM_TOKEN'] = await server.tokens.issue({ room: 'studio', role: 'publisher' });
    let cli: Awaited<ReturnType<typeof startCli>>;
    try {
      cli = await startCli(
        CLI,
        [
          ...['--source', 'testpattern', '--size', '320x240', '--fps', '15', '--port', '0', '--mjpeg'],
          ...['--room-url', url, '--room', 'studio', '--webrtc-ice-address', '127.0.0.1'],
          ...['--log-level', 'info'],
        ],
        /listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*joined room "studio" as (\S+)/,
        30_000,
      );
    } finally {
      delete process.env['FRAMEWIRE_ROOM_TOKEN'];
    }
    clis.push(cli);
    const base = `http://127.0.0.1:${cli.match[1]}`;
    const bridgePeerId = cli.match[2] ?? '';

    // A viewer page receives the bridge's test pattern as a remote media track, at the source's size.
    const viewer = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(viewer);
    await joinFromPage(viewer, url, await server.tokens.issue({ room: 'studio', role: 'viewer' }), 'studio');
    const viewed = async (): Promise<{ count: number; size: string } | undefined> =>
      viewer.evaluate((id) => (globalThis as unknown as PageState).frames[id], bridgePeerId);
    await waitUntil(async () => ((await viewed())?.count ?? 0) >= 10, 'bridge frames in the viewer page', 20_000);
    assert.equal((await viewed())?.size, '320x240');

    // A publisher page's camera becomes the bridge's `room` source: its MJPEG snapshot has the camera's size.
    const publisher = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(publisher);
    await joinFromPage(publisher, url, await server.tokens.issue({ room: 'studio', role: 'publisher' }), 'studio');
    await publisher.evaluate(async () => {
      const g = globalThis as unknown as PageState;
      const camera = await g.fw.CameraSource.open({ width: 640, height: 360 });
      g.camera = camera;
      g.room.publish(camera);
    });
    const health = async (): Promise<{ sources: { id: string; state: string; frames: number }[] }> =>
      (await (await fetch(`${base}/health`)).json()) as { sources: { id: string; state: string; frames: number }[] };
    await waitUntil(
      async () => ((await health()).sources.find((s) => s.id === 'room')?.frames ?? 0) >= 10,
      'camera frames in the bridge',
      20_000,
    );
    assert.equal((await health()).sources.find((s) => s.id === 'room')?.state, 'running');
    const snapshot = await fetch(`${base}/sources/room/snapshot.jpg`);
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
    const probed = await ffprobe(`${base}/sources/room/snapshot.jpg`);
    assert.deepEqual(
      probed.streams.map((s) => [s.codec_name, s.width, s.height]),
      [['mjpeg', 640, 360]],
    );
    // The metrics count the room output's frames.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /framewire_output_frames_total\{source="\*",output="room"\} [1-9]/);

    clis.splice(clis.indexOf(cli), 1);
    assert.equal(await cli.stop(), 0, `the bridge exits cleanly after receiving tracks:\n${cli.output()}`);
  });

  it('a refused room token stops the CLI with FW_ERR_UNAUTHORIZED (exit 1); a missing one is a bad option (exit 2); --help lists the flags', async () => {
    const forged = await new TokenAuthority('another-secret-0123456789').issue({
      room: 'studio',
      role: 'publisher',
    });
    const common = ['--source', 'testpattern', '--size', '160x120', '--port', '0', '--room-url', url];
    const refused = await runCli(CLI, [...common, '--room', 'studio', '--room-token', forged]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /FW_ERR_UNAUTHORIZED: room "studio" at ws:\/\/127\.0\.0\.1:\d+\/ws refused the room token/,
    );

    const missing = await runCli(CLI, [...common, '--room', 'studio']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /FW_ERR_INVALID_OPTION: --room-url needs a token/);

    const help = await runCli(CLI, ['--help']);
    assert.equal(help.code, 0);
    for (const flag of ['--room-url <url>', '--room <name>', '--room-token <jwt>', '--room-publish <id>']) {
      assert.ok(help.stdout.includes(flag), `--help lists ${flag}`);
    }
    assert.match(help.stdout, /FRAMEWIRE_ROOM_TOKEN/);

    const noRoom = await runCli(CLI, [...common, '--room-token', forged]);
    assert.equal(noRoom.code, 2, noRoom.stderr);
    assert.match(noRoom.stderr, /FW_ERR_INVALID_OPTION: --room-url and --room go together/);
  });
});

describe('RoomSource: the newest publisher whose video flows', () => {
  const frame = (width: number, height: number, luma: number): { width: number; height: number; data: Uint8Array } => {
    const data = new Uint8Array(width * height * 1.5).fill(128);
    data.fill(luma, 0, width * height);
    return { width, height, data };
  };

  it('follows the newest sender, falls back when it goes quiet or leaves, and drops malformed frames', async () => {
    const source = new RoomSource();
    const seen: RawFrame[] = [];
    source.on('frame', ({ frame: out }) => seen.push(out as RawFrame));
    await source.start();
    assert.equal(source.state, 'starting');
    source.pushPeerFrame('a', frame(4, 2, 10), 1000);
    source.pushPeerFrame('b', frame(6, 4, 20), 1100); // newer: takes over
    source.pushPeerFrame('a', frame(4, 2, 11), 1200); // older: dropped
    assert.equal(source.peerId, 'b');
    source.pushPeerFrame('a', frame(4, 2, 12), 2200); // b quiet for 1.1 s: a again
    assert.equal(source.peerId, 'a');
    source.pushPeerFrame('b', frame(6, 4, 21), 2300); // b sends again: newest
    source.removePeer('b');
    source.pushPeerFrame('a', frame(4, 2, 13), 2400);
    source.pushPeerFrame('a', { width: 4, height: 2, data: new Uint8Array(5) }, 2500); // wrong length
    source.pushPeerFrame('a', frame(3, 2, 14), 2600); // odd width
    assert.deepEqual(
      seen.map((f) => [f.format, `${f.width}x${f.height}`, f.data[0], f.captureTimeMs]),
      [
        ['I420', '4x2', 10, 1000],
        ['I420', '6x4', 20, 1100],
        ['I420', '4x2', 12, 2200],
        ['I420', '6x4', 21, 2300],
        ['I420', '4x2', 13, 2400],
      ],
    );
    assert.equal(source.health.dropped, 2);
    assert.equal(source.state, 'running');
    await source.close();
    assert.equal(source.state, 'stopped');
  });

  it('refuses an id that cannot appear in URLs', () => {
    assert.throws(() => new RoomSource('no/slash'), { code: 'FW_ERR_INVALID_OPTION' });
  });
});

describe('BridgeRoomPeer options', () => {
  it('refuses bad options with FW_ERR_INVALID_OPTION naming the option, before joining', async () => {
    const room = new RoomSource();
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120 }), room],
      websocket: false,
    });
    try {
      const good = { url: 'ws://127.0.0.1:9/ws', room: 'r', token: 'jwt' };
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ url: 'http://127.0.0.1/ws' }, /room url must be a ws:\/\/ or wss:\/\/ URL/],
        [{ room: '' }, /room must be a room name/],
        [{ token: '' }, /room token must be a signaling token/],
        [{ publish: ['nope'] }, /room publish: no bridge source to publish with id nope/],
        [{ publish: ['room'] }, /room publish: no bridge source to publish with id room/],
        [{ receive: new RoomSource('other') }, /room receive must be one of the bridge sources/],
        [{ iceAddresses: [''] }, /room iceAddresses must be an array of IP addresses/],
      ];
      for (const [bad, message] of cases) {
        await assert.rejects(
          BridgeRoomPeer.join(bridge, { ...good, ...bad }),
          (error: Error & { code?: string }) => error.code === 'FW_ERR_INVALID_OPTION' && message.test(error.message),
        );
      }
    } finally {
      await bridge.close();
    }
  });
});
