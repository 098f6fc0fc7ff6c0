import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import type { Browser, Page } from 'puppeteer-core';
import type * as Framewire from '@framewire/browser-sdk';
import type { Room } from '@framewire/browser-sdk';
import {
  BridgeRoomPeer,
  BridgeServer,
  RoomPeerSource,
  RoomSource,
  createTestPatternSource,
  type RawFrame,
} from '@framewire/node-bridge';
import { FramewireError } from '@framewire/core';
import { SignalingServer, TokenAuthority } from '@framewire/signaling';
import { launchChromium } from '../helpers/chromium.js';
import { ffprobe, runCli, startCli, waitUntil, type StartedCli, type StartedServer } from '../helpers/node.js';
import { openPeerPage, settleWrtc, startSdkServer } from '../helpers/peers.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';
const SECRET = 'bridge-room-secret-0123456789';

/** What the test keeps on a page's globalThis. */
interface PageState {
  fw: typeof Framewire;
  room: Room;
  isLoopbackCandidate: (candidate: unknown) => boolean;
  frames: Record<string, { count: number; size: string }>;
  /** The room's peer events, for the failure message of a test. */
  events: string[];
  camera?: { close(): Promise<void> };
}

/** Joins `room` from a page (loopback candidates only, `meta` shown to peers) and counts every remote peer's frames. */
async function joinFromPage(
  page: Page,
  url: string,
  token: string,
  room: string,
  meta: Record<string, unknown> = {},
): Promise<string> {
  return page.evaluate(
    async ({ url, token, room, meta }) => {
      const g = globalThis as unknown as PageState;
      g.fw = (await import(`${location.origin}/sdk/index.js`)) as typeof Framewire;
      g.frames = {};
      g.events = [];
      g.room = await g.fw.Room.open({
        url,
        token,
        room,
        meta,
        iceCandidateFilter: (candidate) => g.isLoopbackCandidate(candidate),
      });
      const note = (text: string): number => g.events.push(`${Math.round(performance.now())} ${text}`);
      g.room.on('peer-joined', ({ peer }) => note(`joined ${peer.peerId}`));
      g.room.on('peer-left', ({ peerId, reason }) => note(`left ${peerId} ${reason}`));
      g.room.on('peer-state', ({ peerId, state }) => note(`state ${peerId} ${state}`));
      g.room.on('error', ({ error }) => note(`error ${error.code} ${error.message}`));
      g.room.on('track', ({ peerId, source }) => {
        note(`track ${peerId}`);
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
    { url, token, room, meta },
  );
}

/** Publishes the page's fake camera at `width × height`. */
async function publishCamera(page: Page, width: number, height: number): Promise<void> {
  await page.evaluate(
    async ({ width, height }) => {
      const g = globalThis as unknown as PageState;
      const camera = await g.fw.CameraSource.open({ width, height });
      g.camera = camera;
      g.room.publish(camera);
    },
    { width, height },
  );
}

/** Publishes a `width × height` canvas painted solid red (repainted so that it keeps sending frames). */
async function publishRedCanvas(page: Page, width: number, height: number): Promise<void> {
  await page.evaluate(
    ({ width, height }) => {
      const g = globalThis as unknown as PageState;
      const canvas = Object.assign(document.createElement('canvas'), { width, height });
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      const paint = (): void => {
        context.fillStyle = '#ff0000';
        context.fillRect(0, 0, width, height);
      };
      paint();
      setInterval(paint, 50);
      const [track] = canvas.captureStream(15).getVideoTracks();
      if (!track) throw new Error('no canvas track');
      g.room.publishTrack(track);
    },
    { width, height },
  );
}

/** Leaves the page's room (the signaling server tells the other peers at once). */
async function leaveFromPage(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const g = globalThis as unknown as PageState;
    await g.camera?.close();
    g.camera = undefined;
    await g.room.close();
  });
}

const exec = promisify(execFile);

/** The average colour of a JPEG at `url`, as [r, g, b] (ffmpeg scales it to one pixel). */
async function averageRgb(url: string): Promise<number[]> {
  const { stdout } = await exec(
    'ffmpeg',
    ['-v', 'error', '-i', url, '-vf', 'scale=1:1:flags=area', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer' },
  );
  return [...(stdout as Buffer).subarray(0, 3)];
}

/** Process ids of the children of `pid` whose command line contains `text` (read from /proc). */
function childPids(pid: number, text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** True when process `pid` has loaded wrtc's native library. */
function loadsWrtc(pid: number): boolean {
  return readFileSync(`/proc/${pid}/maps`, 'utf8').includes('wrtc.node');
}

interface Health {
  status: string;
  sources: { id: string; kind: string; state: string; frames: number; restarts: number; lastError?: string }[];
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
    await settleWrtc();
    assert.deepEqual(pageErrors, []);
  });

  it("publishes its test pattern to a Chromium viewer, serves a Chromium publisher's camera as sources room and room-cam, and survives its room peer worker's death", async () => {
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
        60_000,
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
    const viewed = async (id: string): Promise<{ count: number; size: string } | undefined> =>
      viewer.evaluate((peerId) => (globalThis as unknown as PageState).frames[peerId], id);
    await waitUntil(
      async () => ((await viewed(bridgePeerId))?.count ?? 0) >= 10,
      'bridge frames in the viewer page',
      60_000,
    );
    assert.equal((await viewed(bridgePeerId))?.size, '320x240');

    // A publisher page's camera becomes the bridge's `room` source and its own `room-cam` source (its label):
    // their MJPEG snapshots have the camera's size.
    const publisher = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(publisher);
    await joinFromPage(publisher, url, await server.tokens.issue({ room: 'studio', role: 'publisher' }), 'studio', {
      label: 'cam',
    });
    await publishCamera(publisher, 640, 360);
    const health = async (): Promise<Health> => (await (await fetch(`${base}/health`)).json()) as Health;
    const source = async (id: string): Promise<Health['sources'][number] | undefined> =>
      (await health()).sources.find((s) => s.id === id);
    await waitUntil(
      async () => ((await source('room'))?.frames ?? 0) >= 10 && ((await source('room-cam'))?.frames ?? 0) >= 10,
      'camera frames in the bridge sources room and room-cam',
      60_000,
    );
    assert.equal((await source('room'))?.state, 'running');
    assert.equal((await source('room-cam'))?.kind, 'room-peer');
    for (const id of ['room', 'room-cam']) {
      const snapshot = await fetch(`${base}/sources/${id}/snapshot.jpg`);
      assert.equal(snapshot.status, 200);
      assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
      const probed = await ffprobe(`${base}/sources/${id}/snapshot.jpg`);
      assert.deepEqual(
        probed.streams.map((s) => [s.codec_name, s.width, s.height]),
        [['mjpeg', 640, 360]],
        id,
      );
    }

    // wrtc lives in the worker process only: the bridge process never loads its native library.
    const bridgePid = cli.child.pid ?? 0;
    const [workerPid, ...others] = childPids(bridgePid, 'room-peer-worker.js');
    assert.ok(workerPid !== undefined && others.length === 0, 'one room peer worker process');
    assert.equal(loadsWrtc(workerPid), true, 'the worker loads wrtc');
    assert.equal(loadsWrtc(bridgePid), false, 'the bridge process does not load wrtc');

    // The metrics count the room peer's frames and bytes, out (published) and in (received).
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = new RegExp(`^${name}\\{source="\\*",output="room"\\} (\\d+)$`, 'm').exec(text);
      assert.ok(line, `${name} in /metrics`);
      return Number(line[1]);
    };
    assert.ok((await metric('framewire_output_frames_total')) > 0);
    assert.ok((await metric('framewire_output_bytes_total')) >= 320 * 240 * 1.5);
    const received = await metric('framewire_output_received_frames_total');
    assert.ok(received >= 10, `received frames ${received}`);
    assert.ok((await metric('framewire_output_received_bytes_total')) >= received * 640 * 360 * 1.5);
    assert.equal(await metric('framewire_output_worker_restarts_total'), 0);

    // Kill the worker: the bridge lives on, restarts it, joins again with a new peer id; the viewer page gets the
    // bridge's stream again and the room sources resume.
    const before = (await source('room'))?.frames ?? 0;
    process.kill(workerPid, 'SIGKILL');
    await waitUntil(
      async () => (await source('room'))?.lastError === 'FW_ERR_PROCESS_FAILED',
      'the worker failure in the room source health',
      60_000,
    );
    assert.ok(((await source('room'))?.restarts ?? 0) >= 1);
    await waitUntil(
      () => /joined room "studio" again as (\S+)/.exec(cli.output()),
      'the bridge joins the room again',
      60_000,
    );
    // The bridge's newest peer id (a hung worker would be restarted again by the bridge's liveness check).
    const currentPeerId = (): string | undefined =>
      [...cli.output().matchAll(/joined room "studio" (?:again )?as (\S+)/g)].at(-1)?.[1];
    await waitUntil(
      async () => {
        const id = currentPeerId();
        return id !== undefined && id !== bridgePeerId && ((await viewed(id))?.count ?? 0) >= 10;
      },
      'bridge frames again in the viewer',
      60_000,
    ).catch(async (error: unknown) => {
      const { frames, events } = await viewer.evaluate(() => {
        const g = globalThis as unknown as PageState;
        return { frames: g.frames, events: g.events };
      });
      throw new Error(
        `${String(error)}\nviewer frames: ${JSON.stringify(frames)}\nviewer events:\n${events.join('\n')}\n${cli.output()}`,
      );
    });
    await waitUntil(
      async () =>
        (await source('room'))?.state === 'running' &&
        ((await source('room'))?.frames ?? 0) >= before + 10 &&
        ((await source('room-cam'))?.frames ?? 0) >= 10,
      'camera frames again in the sources room and room-cam',
      60_000,
    );
    assert.ok((await metric('framewire_output_worker_restarts_total')) >= 1);
    const [newWorker] = childPids(bridgePid, 'room-peer-worker.js');
    assert.ok(newWorker !== undefined && newWorker !== workerPid, 'a new worker process');

    clis.splice(clis.indexOf(cli), 1);
    assert.equal(await cli.stop(), 0, `the bridge exits cleanly after receiving tracks:\n${cli.output()}`);
  });

  it('adds one source per publishing peer (camera vs red canvas), ends it cleanly when the peer leaves, and room waits for the next publisher', async () => {
    process.env['FRAMEWIRE_ROOM_TOKEN'] = await server.tokens.issue({ room: 'lobby', role: 'publisher' });
    let cli: Awaited<ReturnType<typeof startCli>>;
    try {
      cli = await startCli(
        CLI,
        [
          ...['--source', 'testpattern', '--size', '160x120', '--fps', '10', '--port', '0'],
          ...['--room-url', url, '--room', 'lobby', '--room-publish', 'none', '--webrtc-ice-address', '127.0.0.1'],
          ...['--log-level', 'info'],
        ],
        /listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*joined room "lobby" as (\S+)/,
        60_000,
      );
    } finally {
      delete process.env['FRAMEWIRE_ROOM_TOKEN'];
    }
    clis.push(cli);
    const base = `http://127.0.0.1:${cli.match[1]}`;
    const health = async (): Promise<Health> => (await (await fetch(`${base}/health`)).json()) as Health;
    const source = async (id: string): Promise<Health['sources'][number] | undefined> =>
      (await health()).sources.find((s) => s.id === id);
    // Joined, nobody publishes yet.
    await waitUntil(async () => (await source('room'))?.state === 'waiting', 'room waiting for a publisher', 60_000);
    assert.equal((await health()).status, 'ok');

    const token = async (): Promise<string> => server.tokens.issue({ room: 'lobby', role: 'publisher' });
    const cam = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(cam);
    await joinFromPage(cam, url, await token(), 'lobby', { label: 'cam' });
    await publishCamera(cam, 640, 360);
    const red = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(red);
    await joinFromPage(red, url, await token(), 'lobby', { label: 'red' });
    await publishRedCanvas(red, 320, 240);
    await waitUntil(
      async () => ((await source('room-cam'))?.frames ?? 0) >= 5 && ((await source('room-red'))?.frames ?? 0) >= 5,
      'frames in the sources room-cam and room-red',
      60_000,
    );
    // Each source has its own peer's picture: size (ffprobe) and colour (ffmpeg's average pixel).
    const size = async (id: string): Promise<unknown[][]> =>
      (await ffprobe(`${base}/sources/${id}/snapshot.jpg`)).streams.map((s) => [s.width, s.height]);
    assert.deepEqual(await size('room-cam'), [[640, 360]]);
    assert.deepEqual(await size('room-red'), [[320, 240]]);
    const [r = 0, g = 0, b = 0] = await averageRgb(`${base}/sources/room-red/snapshot.jpg`);
    assert.ok(r > 180 && g < 80 && b < 80, `room-red is red: ${[r, g, b].join(',')}`);
    const camRgb = await averageRgb(`${base}/sources/room-cam/snapshot.jpg`);
    assert.ok(!((camRgb[0] ?? 0) > 180 && (camRgb[1] ?? 0) < 80), `room-cam is not red: ${camRgb.join(',')}`);

    // Viewers of room-red: an MJPEG stream and an H.264 WebSocket.
    const mjpeg = await fetch(`${base}/sources/room-red/video`);
    assert.equal(mjpeg.status, 200);
    const reader = mjpeg.body?.getReader();
    assert.ok(reader);
    assert.equal((await reader.read()).done, false);
    const ws = new WebSocket(`ws://127.0.0.1:${cli.match[1]}/sources/room-red/ws`);
    const wsClosed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

    // The red page leaves: its source ends and leaves /health and /metrics; its viewers get a clean end.
    await leaveFromPage(red);
    await waitUntil(async () => !(await source('room-red')), 'room-red removed', 60_000);
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
    }
    assert.deepEqual(await wsClosed, { code: 1001, reason: 'the peer left the room' });
    assert.equal((await fetch(`${base}/sources/room-red/snapshot.jpg`)).status, 404);
    assert.doesNotMatch(await (await fetch(`${base}/metrics`)).text(), /source="room-red"/);
    assert.equal((await source('room-cam'))?.state, 'running');
    assert.equal((await source('room'))?.state, 'running');

    // The last publisher leaves: room waits (still healthy); a new publisher makes it run again.
    await leaveFromPage(cam);
    await waitUntil(async () => (await source('room'))?.state === 'waiting', 'room waiting again', 60_000);
    assert.equal(await source('room-cam'), undefined);
    assert.equal((await health()).status, 'ok');
    const framesBefore = (await source('room'))?.frames ?? 0;
    const again = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(again);
    await joinFromPage(again, url, await token(), 'lobby', { label: 'cam' });
    await publishCamera(again, 320, 180);
    await waitUntil(
      async () =>
        (await source('room'))?.state === 'running' && ((await source('room'))?.frames ?? 0) >= framesBefore + 5,
      'room running again with the new publisher',
      60_000,
    );
    assert.ok(((await source('room-cam'))?.frames ?? 0) > 0, 'the label is free again: room-cam is back');
    assert.deepEqual(
      (await ffprobe(`${base}/sources/room/snapshot.jpg`)).streams.map((s) => [s.width, s.height]),
      [[320, 180]],
    );

    clis.splice(clis.indexOf(cli), 1);
    assert.equal(await cli.stop(), 0, cli.output());
  });

  it('asks the token function for a fresh token on every join, also after its worker restarted; a refused later join is the room source lastError (BridgeRoomPeer in-process)', async () => {
    const room = new RoomSource();
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 }), room],
      mjpeg: false,
      websocket: false,
    });
    try {
      let calls = 0;
      let forged = false;
      const authority = new TokenAuthority('another-secret-0123456789');
      const member = await BridgeRoomPeer.open(bridge, {
        url,
        room: 'tokens',
        token: async () => {
          calls++;
          return (forged ? authority : server.tokens).issue({ room: 'tokens', role: 'publisher' });
        },
        iceAddresses: ['127.0.0.1'],
        receive: room,
        restartDelayMs: 100,
      });
      const first = member.peerId;
      assert.ok(first);
      const tokenCalls = (): number => calls;
      assert.equal(tokenCalls(), 1);
      await waitUntil(() => room.state === 'waiting', 'room waiting after the join');
      const pid = member.workerPid;
      member.killWorker();
      await waitUntil(() => member.peerId !== undefined && member.peerId !== first, 'a new join', 60_000);
      assert.ok(tokenCalls() >= 2, `token function called ${tokenCalls()} times`);
      assert.notEqual(member.workerPid, pid);
      assert.equal(member.stats.workerRestarts, 1);
      assert.equal(room.health.lastError, 'FW_ERR_PROCESS_FAILED');
      await waitUntil(() => room.state === 'waiting', 'room waiting after the new join');

      // A refused token on a later join is the room's lastError; the bridge keeps trying with backoff.
      forged = true;
      const second = member.peerId;
      member.killWorker();
      await waitUntil(
        () => room.health.lastError === 'FW_ERR_UNAUTHORIZED',
        'the refused join in the room health',
        60_000,
      );
      assert.equal(room.state, 'restarting');
      forged = false;
      await waitUntil(
        () => member.peerId !== undefined && member.peerId !== second,
        'a join with a good token',
        60_000,
      );
    } finally {
      await bridge.close();
    }
  });

  it('restarts a worker whose event loop stopped answering (SIGSTOP) after livenessTimeoutMs, and joins again', async () => {
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
      mjpeg: false,
      websocket: false,
    });
    try {
      // The deprecated spelling, kept for one release, still joins.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      const member = await BridgeRoomPeer.join(bridge, {
        url,
        room: 'liveness',
        token: await server.tokens.issue({ room: 'liveness', role: 'publisher' }),
        iceAddresses: ['127.0.0.1'],
        restartDelayMs: 100,
        // Long enough that a healthy worker starting on a busy machine is not taken for a stopped one.
        livenessTimeoutMs: 5000,
      });
      const first = member.peerId;
      const pid = member.workerPid;
      assert.ok(first !== undefined && pid !== undefined);
      process.kill(pid, 'SIGSTOP');
      await waitUntil(() => member.peerId !== undefined && member.peerId !== first, 'a new join', 60_000);
      assert.notEqual(member.workerPid, pid);
      assert.equal(member.stats.workerRestarts, 1);
    } finally {
      await bridge.close();
    }
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

  it('waits after the last publisher left and runs again with the next one; a worker failure is its lastError', async () => {
    const source = new RoomSource();
    await source.start();
    source.waitForPublisher();
    assert.equal(source.state, 'waiting');
    source.pushPeerFrame('a', frame(4, 2, 10), 1000);
    assert.equal(source.state, 'running');
    source.removePeer('a');
    assert.equal(source.state, 'waiting');
    assert.equal(source.peerId, undefined);
    source.pushPeerFrame('b', frame(4, 2, 20), 2000);
    assert.equal(source.state, 'running');
    source.fail(new FramewireError('FW_ERR_PROCESS_FAILED', 'room peer worker: exited (signal SIGKILL)'));
    assert.deepEqual(
      [source.state, source.health.restarts, source.health.lastError],
      ['restarting', 1, 'FW_ERR_PROCESS_FAILED'],
    );
    assert.equal(source.peerId, undefined, 'peers are forgotten until the worker joins again');
    source.pushPeerFrame('b', frame(4, 2, 21), 3000);
    assert.equal(source.state, 'running');
    await source.close();
  });

  it('refuses an id that cannot appear in URLs', () => {
    assert.throws(() => new RoomSource('no/slash'), { code: 'FW_ERR_INVALID_OPTION' });
  });
});

describe('RoomPeerSource and the bridge sources added and removed at run time', () => {
  it('serves an added source, then closes its viewers and forgets it when removed; refuses taken ids and a closed bridge', async () => {
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120 })],
      websocket: false,
    });
    const base = `http://127.0.0.1:${bridge.port}`;
    try {
      const peer = new RoomPeerSource('room-a', 'peer-a');
      await bridge.addSource(peer);
      assert.equal(peer.state, 'starting');
      const width = 64;
      const height = 48;
      const data = new Uint8Array(width * height * 1.5).fill(128);
      peer.pushFrame({ width, height, data }, Date.now());
      peer.pushFrame({ width: 63, height, data }, Date.now()); // odd width: dropped
      assert.deepEqual([peer.state, peer.health.frames, peer.health.dropped], ['running', 1, 1]);
      // Keep it live while viewers connect (the MJPEG output encodes frames that arrive after a viewer came).
      const feeding = setInterval(() => peer.pushFrame({ width, height, data }, Date.now()), 50);
      after(() => clearInterval(feeding));
      const health = async (): Promise<Health> => (await (await fetch(`${base}/health`)).json()) as Health;
      assert.deepEqual(
        (await health()).sources.map((s) => [s.id, s.kind]),
        [
          ['testpattern', 'testpattern'],
          ['room-a', 'room-peer'],
        ],
      );
      assert.match(
        await (await fetch(`${base}/metrics`)).text(),
        /framewire_source_frames_total\{source="room-a",kind="room-peer"\} [1-9]/,
      );
      const stream = await fetch(`${base}/sources/room-a/video`);
      assert.equal(stream.status, 200);
      const probed = await ffprobe(`${base}/sources/room-a/snapshot.jpg`);
      assert.deepEqual(
        probed.streams.map((s) => [s.width, s.height]),
        [[64, 48]],
      );
      await assert.rejects(bridge.addSource(new RoomPeerSource('room-a', 'peer-b')), {
        code: 'FW_ERR_INVALID_OPTION',
        message: /addSource: a source with id room-a exists/,
      });

      peer.end();
      assert.equal(peer.state, 'ended');
      const frames = peer.health.frames;
      peer.pushFrame({ width, height, data }, Date.now());
      assert.equal(peer.health.frames, frames, 'an ended source delivers nothing');
      clearInterval(feeding);
      await bridge.removeSource('room-a');
      assert.equal(await stream.text().then((text) => typeof text), 'string', 'the MJPEG viewer got a clean end');
      assert.deepEqual(
        (await health()).sources.map((s) => s.id),
        ['testpattern'],
      );
      assert.equal((await fetch(`${base}/sources/room-a/video`)).status, 404);
      assert.doesNotMatch(await (await fetch(`${base}/metrics`)).text(), /room-a/);
      await bridge.removeSource('room-a'); // unknown now: no-op
    } finally {
      await bridge.close();
    }
    await assert.rejects(bridge.addSource(new RoomPeerSource('room-b', 'peer-b')), { code: 'FW_ERR_CLOSED' });
  });
});

describe('BridgeRoomPeer join failures', () => {
  let bridge: BridgeServer;
  let silent: Server;
  before(async () => {
    bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120 })],
      mjpeg: false,
      websocket: false,
    });
    // Accepts TCP connections and never answers: a signaling server that hangs.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    silent.close();
    await bridge.close();
  });

  it('a worker that cannot run rejects with FW_ERR_PROCESS_FAILED', async () => {
    await assert.rejects(
      BridgeRoomPeer.open(bridge, {
        url: 'ws://127.0.0.1:9/ws',
        room: 'r',
        token: 'jwt',
        nodePath: '/nonexistent/node',
        restartDelayMs: 10_000,
      }),
      (error: Error & { code?: string }) =>
        error.code === 'FW_ERR_PROCESS_FAILED' &&
        error.message.includes('room "r" at ws://127.0.0.1:9/ws could not be joined'),
    );
  });

  it('a signaling server that never answers rejects with FW_ERR_TIMEOUT after joinTimeoutMs', async () => {
    const address = silent.address();
    assert.ok(address && typeof address === 'object');
    await assert.rejects(
      BridgeRoomPeer.open(bridge, {
        url: `ws://127.0.0.1:${address.port}/ws`,
        room: 'r',
        token: 'jwt',
        joinTimeoutMs: 1500,
      }),
      (error: Error & { code?: string }) =>
        error.code === 'FW_ERR_TIMEOUT' && error.message.includes('no answer within 1500 ms'),
    );
  });

  it('a token function that throws rejects with FW_ERR_UNAUTHORIZED naming it', async () => {
    await assert.rejects(
      BridgeRoomPeer.open(bridge, {
        url: 'ws://127.0.0.1:9/ws',
        room: 'r',
        token: () => {
          throw new Error('vault sealed');
        },
      }),
      (error: Error & { code?: string }) =>
        error.code === 'FW_ERR_UNAUTHORIZED' && error.message.includes('the room token function failed: vault sealed'),
    );
  });

  it('a signaling server that refuses the connection rejects with FW_ERR_SIGNALING_FAILED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    assert.ok(address && typeof address === 'object');
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      BridgeRoomPeer.open(bridge, { url: `ws://127.0.0.1:${address.port}/ws`, room: 'r', token: 'jwt' }),
      (error: Error & { code?: string }) =>
        error.code === 'FW_ERR_SIGNALING_FAILED' && error.message.includes('could not be joined'),
    );
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
        [{ joinTimeoutMs: 0 }, /room joinTimeoutMs must be > 0/],
        [{ livenessTimeoutMs: 50 }, /room livenessTimeoutMs must be >= 100/],
      ];
      for (const [bad, message] of cases) {
        await assert.rejects(
          BridgeRoomPeer.open(bridge, { ...good, ...bad }),
          (error: Error & { code?: string }) => error.code === 'FW_ERR_INVALID_OPTION' && message.test(error.message),
        );
      }
    } finally {
      await bridge.close();
    }
  });
});
