import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import {
  BridgeServer,
  FrameFeed,
  NetGearOutput,
  ShmFrameBuffer,
  WebRtcPublishSource,
  createTestPatternSource,
  type WebRtcOutput,
} from '@framewire/node-bridge';
import { launchChromium } from '../helpers/chromium.js';
import { isLoopbackCandidate } from '../helpers/ice-loopback.js';
import { startCli, waitUntil, type StartedServer } from '../helpers/node.js';
import { openPeerPage, settleWrtc, startSdkServer } from '../helpers/peers.js';
import { PYTHON, freePort, startPeer } from '../helpers/python.js';
import { errorCode } from '../helpers/http-error.js';

const TOKEN = 'webrtc-test-token';
const CLI = 'packages/node-bridge/bin/framewire-bridge.js';

/** What a page reports after reading frames from a WhepSource. */
interface Viewed {
  sizes: string[];
  latencyP50Ms: number | undefined;
  reconnects: number;
  sessionUrl: string | undefined;
}

declare const Framewire: {
  openSource(spec: unknown): Promise<{
    read(): Promise<VideoFrame | null>;
    close(): Promise<void>;
    stats: { latencyP50Ms?: number; reconnects: number };
    sessionUrl?: string;
  }>;
};
declare global {
  interface Window {
    /** Set by openPeerPage (test/helpers/peers.ts). */
    isLoopbackCandidate: (candidate: string) => boolean;
    viewer?: Awaited<ReturnType<typeof Framewire.openSource>>;
  }
}

// These cover the worker path (VP8 per viewer, data channels, publishing): the bridges run with h264Passthrough off
// and vp8Encoder 'per-viewer'. Shared-track viewers (H.264 passthrough, shared VP8): bridge-webrtc-passthrough.test.ts.
const WORKER_PATH = { h264Passthrough: false, vp8Encoder: 'per-viewer' } as const;
describe('WebRTC output (/offer, wrtc worker process) with Chromium viewers', () => {
  let browser: Browser;
  let sdk: StartedServer;
  let bridge: BridgeServer;
  let base: string;
  const errors: string[] = [];
  const pages: Page[] = [];

  /** The bridge's WebRTC output. */
  function output(): WebRtcOutput {
    assert.ok(bridge.webrtc, 'the bridge serves WebRTC');
    return bridge.webrtc;
  }

  /** A page with the SDK's script bundle loaded. */
  async function viewerPage(): Promise<Page> {
    const page = await openPeerPage(browser, sdk.url, errors);
    await page.addScriptTag({ url: '/sdk/framewire.min.js' });
    pages.push(page);
    return page;
  }

  /** Opens a WhepSource in `page` (kept as window.viewer) and reads `count` frames. */
  function view(page: Page, count: number, options: Record<string, unknown> = {}): Promise<Viewed> {
    return page.evaluate(
      async (url: string, token: string, n: number, extra: Record<string, unknown>) => {
        window.viewer ??= await Framewire.openSource({
          bridge: {
            url,
            token,
            transport: 'webrtc',
            candidateFilter: window.isLoopbackCandidate,
            stallTimeoutMs: 3000,
            ...extra,
          },
        });
        const sizes: string[] = [];
        for (let i = 0; i < n; i++) {
          const frame = await window.viewer.read();
          if (!frame) break;
          sizes.push(`${frame.displayWidth}x${frame.displayHeight}`);
          frame.close();
        }
        // The capture clock of a VP8 track locks after up to 60 frames (on a busy machine, after a reconnection,
        // later): read on, up to 300 more frames, until the latency is known; the caller checks the `n` first.
        for (let i = 0; i < 300 && window.viewer.stats.latencyP50Ms === undefined; i++) {
          const frame = await window.viewer.read();
          if (!frame) break;
          frame.close();
        }
        const { latencyP50Ms, reconnects } = window.viewer.stats;
        return { sizes, latencyP50Ms, reconnects, sessionUrl: window.viewer.sessionUrl };
      },
      `${base}/`,
      TOKEN,
      count,
      options,
    );
  }

  /** Makes a raw recvonly offer in `page` (loopback candidates only) and POSTs it to `path`. */
  function postOffer(
    page: Page,
    path: string,
    init: { token?: string } = {},
  ): Promise<{ status: number; body: string }> {
    return page.evaluate(
      async (url: string, token: string | undefined) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const sdp = (pc.localDescription?.sdp ?? '')
          .split('\r\n')
          .filter((line) => !line.startsWith('a=candidate:') || window.isLoopbackCandidate(line))
          .join('\r\n');
        pc.close();
        const headers: Record<string, string> = { 'content-type': 'application/sdp' };
        if (token) headers['authorization'] = `Bearer ${token}`;
        const response = await fetch(url, { method: 'POST', headers, body: sdp });
        return { status: response.status, body: await response.text() };
      },
      `${base}${path}`,
      init.token,
    );
  }

  before(async () => {
    sdk = await startSdkServer();
    browser = await launchChromium();
    bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 320, height: 240, frameRate: 15 })],
      token: TOKEN,
      mjpeg: false,
      websocket: false,
      webrtc: { iceAddresses: ['127.0.0.1'], restartDelayMs: 1000, ...WORKER_PATH },
    });
    base = `http://127.0.0.1:${bridge.port}`;
    await waitUntil(() => output().ready, 'the WebRTC worker', 60_000);
  });

  // Whatever a test's outcome, its viewers end before the next test: a failed test leaves no session behind to
  // use up webrtc.maxSessions for the others.
  afterEach(async () => {
    for (const page of pages.splice(0)) {
      await page.evaluate(() => window.viewer?.close()).catch(() => undefined);
      await page.close().catch(() => undefined);
    }
    // Offers posted without a peer behind them never connect: end what is left as a DELETE would.
    for (const session of output().sessions) output().endSession(session.id);
    assert.deepEqual(output().sessions, []);
  });

  after(async () => {
    await browser.close();
    await sdk.close();
    await bridge.close();
    await settleWrtc();
  });

  it('serves two viewers from one source; a reloaded page offers again and gets the stream', async () => {
    const [first, second] = [await viewerPage(), await viewerPage()];
    const [a, b] = await Promise.all([view(first, 40), view(second, 40)]);
    for (const viewed of [a, b]) {
      assert.equal(viewed.sizes.length, 40);
      assert.ok(
        viewed.sizes.every((size) => size === '320x240'),
        viewed.sizes.join(),
      );
      assert.match(viewed.sessionUrl ?? '', /\/whep\/[\w-]+$/);
      // The capture time travels on fw.meta: latency is measured, and small on loopback.
      // A measured, sane latency (a clock or unit mix-up gives a negative value or years); how low it is, is
      // bench/bridge-latency.bench.mjs's business.
      assert.ok(
        viewed.latencyP50Ms !== undefined && viewed.latencyP50Ms >= 0 && viewed.latencyP50Ms < 30_000,
        JSON.stringify({ ...viewed, sizes: viewed.sizes.length }),
      );
    }
    assert.equal(output().sessions.filter((s) => s.mode === 'view').length, 2);
    assert.ok(output().stats.framesSent > 0);
    const metrics = await (await fetch(`${base}/metrics?token=${TOKEN}`)).text();
    assert.match(metrics, /framewire_output_clients\{source="\*",output="webrtc"\} 2/);

    // A reload drops the page's connection without a DELETE: the bridge cleans the session up by itself.
    await first.reload();
    await first.addScriptTag({
      content: `window.__name = (f) => f; window.isLoopbackCandidate = ${isLoopbackCandidate.toString()};`,
    });
    await first.addScriptTag({ url: '/sdk/framewire.min.js' });
    const again = await view(first, 10);
    assert.deepEqual(new Set(again.sizes), new Set(['320x240']));
    await waitUntil(() => output().sessions.length === 2, 'the reloaded page’s old session to be cleaned up', 60_000);

    // DELETE on the session resource ends it (200, as WHEP answers; the /offer alias answers 204).
    const deleted = await fetch(new URL(again.sessionUrl ?? '', base), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(deleted.status, 200);
    assert.equal(output().sessions.length, 1);
    await first.evaluate(() => window.viewer?.close());
    await second.evaluate(() => window.viewer?.close());
  });

  it('delivers the shared H.264 feed on data channels: two viewers, one encoder, latency measured', async () => {
    const [first, second] = [await viewerPage(), await viewerPage()];
    const [a, b] = await Promise.all([
      view(first, 30, { delivery: 'datachannel' }),
      view(second, 30, { delivery: 'datachannel' }),
    ]);
    for (const viewed of [a, b]) {
      assert.equal(viewed.sizes.length, 30);
      assert.ok(
        viewed.sizes.every((size) => size === '320x240'),
        viewed.sizes.join(),
      );
      assert.match(viewed.sessionUrl ?? '', /\/whep\/[\w-]+$/);
      // Every access unit carries its capture time: latency is known from the first frame on.
      // A measured, sane latency (a clock or unit mix-up gives a negative value or years); how low it is, is
      // bench/bridge-latency.bench.mjs's business.
      assert.ok(
        viewed.latencyP50Ms !== undefined && viewed.latencyP50Ms >= 0 && viewed.latencyP50Ms < 30_000,
        JSON.stringify({ ...viewed, sizes: viewed.sizes.length }),
      );
    }
    const sessions = output().sessions.filter((s) => s.mode === 'view');
    assert.equal(sessions.length, 2);
    assert.ok(sessions.every((s) => s.delivery === 'datachannel'));
    // Encoded once: one H.264 encoder for the source, read once by the WebRTC output for both viewers.
    const metrics = await (await fetch(`${base}/metrics?token=${TOKEN}`)).text();
    const encoders = metrics.split('\n').filter((l) => l.startsWith('framewire_encoder_running{'));
    assert.deepEqual(
      encoders.filter((l) => l.includes('format="h264"')),
      ['framewire_encoder_running{source="testpattern",format="h264",codec="libx264"} 1'],
    );
    assert.match(metrics, /framewire_output_clients\{source="\*",output="webrtc"\} 2/);
    const feed = bridge.feed('testpattern', 'h264');
    assert.equal(feed.stats.subscribers, 1);
    assert.ok(feed.stats.transcoding);
    // An unknown delivery is refused.
    const refused = await fetch(`${base}/offer?delivery=carrier-pigeon`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    assert.equal(refused.status, 400);
    assert.equal(errorCode(await refused.text()), 'FW_ERR_INVALID_OPTION');
    await first.evaluate(() => window.viewer?.close());
    await second.evaluate(() => window.viewer?.close());
    await waitUntil(() => output().sessions.length === 0, 'the sessions to end');
    await waitUntil(() => feed.stats.subscribers === 0, 'the WebRTC output to stop reading the H.264 feed');
  });

  it('takes trickled ICE candidates (PATCH, application/trickle-ice-sdpfrag) after an offer sent at once', async () => {
    const page = await viewerPage();
    // Watch the page's requests: the offer goes out before gathering, the candidates follow by PATCH.
    await page.evaluate(() => {
      const original = window.fetch.bind(window);
      const calls: { method: string; type: string; candidates: number; end: boolean; status: number }[] = [];
      Object.assign(window, { calls });
      window.fetch = async (input, init) => {
        const response = await original(input, init);
        const body = typeof init?.body === 'string' ? init.body : '';
        calls.push({
          method: init?.method ?? 'GET',
          type: new Headers(init?.headers).get('content-type') ?? '',
          candidates: body.split('a=candidate:').length - 1,
          end: body.includes('a=end-of-candidates'),
          status: response.status,
        });
        return response;
      };
    });
    const viewed = await view(page, 10, { trickleIce: true });
    assert.equal(viewed.sizes.length, 10);
    assert.ok(viewed.sizes.every((size) => size === '320x240'));
    const calls = await page.evaluate(
      () => (window as unknown as { calls: { method: string; type: string; end: boolean; status: number }[] }).calls,
    );
    assert.equal(calls[0]?.method, 'POST');
    const patches = calls.filter((c) => c.method === 'PATCH');
    assert.ok(patches.length >= 1, JSON.stringify(calls));
    assert.ok(patches.every((c) => c.type === 'application/trickle-ice-sdpfrag' && c.status === 204));
    assert.ok(patches.at(-1)?.end, 'the last PATCH ends the candidates');

    // The bridge passes on the candidates with its addresses (127.0.0.1 here) and drops the others.
    const session = new URL(viewed.sessionUrl ?? '', base).href;
    const patch = (url: string, type: string, candidates: string[]) =>
      fetch(url, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        // No ice-ufrag/ice-pwd: on /whep, new credentials would ask for an ICE restart.
        body: [
          'm=video 9 UDP/TLS/RTP/SAVPF 0',
          'a=mid:0',
          ...candidates.map((address) => `a=candidate:7 1 udp 2122260223 ${address} 9 typ host`),
          '',
        ].join('\r\n'),
      });
    const before = output().stats.trickledCandidates;
    const added = await patch(session, 'application/trickle-ice-sdpfrag', ['127.0.0.1', '192.0.2.1']);
    assert.equal(added.status, 204);
    assert.equal(output().stats.trickledCandidates, before + 1);
    const wrongType = await patch(session, 'application/sdp', []);
    assert.equal(wrongType.status, 415);
    assert.equal(errorCode(await wrongType.text()), 'FW_ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await patch(`${base}/offer/00000000-0000`, 'application/trickle-ice-sdpfrag', [])).status, 404);
    await page.evaluate(() => window.viewer?.close());
  });

  it('refuses a missing or wrong token with 401 FW_ERR_UNAUTHORIZED, in the SDK too', async () => {
    const page = await viewerPage();
    for (const token of [undefined, 'wrong-token-123']) {
      const { status, body } = await postOffer(page, '/offer', token === undefined ? {} : { token });
      assert.equal(status, 401);
      assert.equal(errorCode(body), 'FW_ERR_UNAUTHORIZED');
    }
    const code = await page.evaluate(
      (url: string) =>
        Framewire.openSource({ bridge: { url, token: 'wrong-token-123', transport: 'webrtc' } }).then(
          () => 'opened',
          (error: unknown) => (error as { code: string }).code,
        ),
      `${base}/`,
    );
    assert.equal(code, 'FW_ERR_UNAUTHORIZED');
  });

  it('BridgePublisher.open (and its deprecated alias publishToBridge): a missing or wrong token is refused with FW_ERR_UNAUTHORIZED, and no session stays', async () => {
    const page = await viewerPage();
    const codes = await page.evaluate(async (url: string) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
      const [track] = stream.getVideoTracks();
      const sdk = (window as unknown as { Framewire: Record<string, (...args: unknown[]) => Promise<unknown>> })
        .Framewire;
      const { BridgePublisher } = (
        window as unknown as { Framewire: { BridgePublisher: { open: (...args: unknown[]) => Promise<unknown> } } }
      ).Framewire;
      const got: string[] = [];
      for (const [token, publish] of [
        [undefined, BridgePublisher.open],
        ['wrong-token-123', sdk['publishToBridge']],
      ] as const)
        got.push(
          await (
            publish?.(track, { url, token, candidateFilter: window.isLoopbackCandidate }) ??
            Promise.reject(new Error('no publishToBridge'))
          ).then(
            () => 'published',
            (error: unknown) => (error as { code: string }).code,
          ),
        );
      got.push(
        await (sdk['publishToBridge']?.(track, { url: 'ftp://bridge/' }) ?? Promise.reject(new Error('none'))).then(
          () => 'published',
          (error: unknown) => (error as { code: string }).code,
        ),
      );
      for (const t of stream.getTracks()) t.stop();
      return got;
    }, `${base}/`);
    assert.deepEqual(codes, ['FW_ERR_UNAUTHORIZED', 'FW_ERR_UNAUTHORIZED', 'FW_ERR_INVALID_OPTION']);
    assert.equal(output().sessions.filter((s) => s.mode === 'publish').length, 0);
  });

  it('answers malformed offers with clear errors and keeps serving', async () => {
    const pid = output().workerPid;
    const post = async (path: string, body: string, type: string, method = 'POST') => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        ...(method === 'POST' ? { body } : {}),
      });
      const text = await response.text();
      return { status: response.status, error: response.status >= 400 && text ? errorCode(text) : '' };
    };
    const noVideo = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
    const brokenVideo = 'v=0\r\nm=video garbage\r\na=recvonly\r\n';
    const cases: [string, string, string, number, string][] = [
      ['/offer', 'hello', 'text/plain', 400, 'FW_ERR_SDP_INVALID'],
      ['/offer', JSON.stringify({ type: 'answer', sdp: 'v=0' }), 'application/json', 400, 'FW_ERR_SDP_INVALID'],
      ['/offer', JSON.stringify({ type: 'offer', sdp: 42 }), 'application/json', 400, 'FW_ERR_SDP_INVALID'],
      ['/offer', noVideo, 'application/sdp', 400, 'FW_ERR_SDP_INVALID'],
      ['/offer', brokenVideo, 'application/sdp', 400, 'FW_ERR_SDP_INVALID'],
      ['/publish', brokenVideo, 'application/sdp', 400, 'FW_ERR_SDP_INVALID'],
      [
        '/offer',
        `v=0\r\nm=video 9 x\r\n${'a=x\r\n'.repeat(20_000)}`,
        'application/sdp',
        413,
        'FW_ERR_MESSAGE_TOO_LARGE',
      ],
      ['/sources/nope/offer', brokenVideo, 'application/sdp', 404, 'FW_ERR_NOT_FOUND'],
    ];
    for (const [path, body, type, status, error] of cases) {
      const got = await post(path, body, type);
      assert.equal(got.status, status, `${path} ${body.slice(0, 30)}`);
      if (error) assert.equal(got.error, error, `${path} ${body.slice(0, 30)}`);
    }
    assert.equal((await post('/offer', '', '', 'GET')).status, 405);
    assert.equal((await post('/offer/00000000-0000', '', '', 'DELETE')).status, 404);
    assert.equal((await post('/offer/00000000-0000', '', '', 'PUT')).status, 405);
    // Nothing crashed: same worker, and it still answers a real offer.
    assert.equal(output().workerPid, pid);
    const page = await viewerPage();
    const real = await postOffer(page, '/offer', { token: TOKEN });
    assert.equal(real.status, 201);
    assert.ok(
      real.body
        .split('\r\n')
        .filter((l) => l.startsWith('a=candidate:'))
        .every(isLoopbackCandidate),
    );
  });

  it('answers 504 FW_ERR_TIMEOUT when the worker does not answer in time', async () => {
    const slow = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 5 })],
      mjpeg: false,
      websocket: false,
      webrtc: { answerTimeoutMs: 1, ...WORKER_PATH },
    });
    try {
      await waitUntil(() => slow.webrtc?.ready, 'the WebRTC worker', 60_000);
      const page = await viewerPage();
      const { status, body } = await page.evaluate(async (url: string) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const response = await fetch(url, { method: 'POST', body: JSON.stringify(pc.localDescription) });
        pc.close();
        return { status: response.status, body: await response.text() };
      }, `http://127.0.0.1:${slow.port}/offer`);
      assert.equal(status, 504);
      assert.equal(errorCode(body), 'FW_ERR_TIMEOUT');
      await waitUntil(() => slow.webrtc?.sessions.length === 0, 'the timed-out session to be dropped');
    } finally {
      await slow.close();
    }
  });

  it('caps open sessions at webrtc.maxSessions: 503 FW_ERR_CAPACITY_REACHED, in the SDK too', async () => {
    await assert.rejects(
      BridgeServer.start({ port: 0, sources: [], webrtc: { maxSessions: 0 } }),
      (error: { code?: string }) => error.code === 'FW_ERR_INVALID_OPTION',
    );
    const capped = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
      mjpeg: false,
      websocket: false,
      webrtc: { iceAddresses: ['127.0.0.1'], maxSessions: 1, ...WORKER_PATH },
    });
    const page = await viewerPage();
    try {
      const output = capped.webrtc;
      assert.ok(output);
      await waitUntil(() => output.ready, 'the WebRTC worker', 60_000);
      const url = `http://127.0.0.1:${capped.port}/`;
      /** Opens a WhepSource (kept as window.viewer when it opens); the first frame's presence or the error code. */
      const open = (extra: Record<string, unknown>): Promise<string> =>
        page.evaluate(
          async (bridgeUrl: string, options: Record<string, unknown>) => {
            try {
              const source = await Framewire.openSource({
                bridge: {
                  url: bridgeUrl,
                  transport: 'webrtc',
                  candidateFilter: window.isLoopbackCandidate,
                  ...options,
                },
              });
              window.viewer = source;
              const frame = await source.read();
              frame?.close();
              return frame ? 'frame' : 'ended';
            } catch (error) {
              return (error as { code: string }).code;
            }
          },
          url,
          extra,
        );
      assert.equal(await open({ jitterBufferTargetMs: -1 }), 'FW_ERR_INVALID_OPTION');
      assert.equal(await open({}), 'frame');
      assert.equal(output.sessions.length, 1);
      const refused = await page.evaluate(async (offerUrl: string) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const response = await fetch(offerUrl, { method: 'POST', body: JSON.stringify(pc.localDescription) });
        pc.close();
        return { status: response.status, retry: response.headers.get('retry-after'), body: await response.text() };
      }, `${url}offer`);
      assert.equal(refused.status, 503);
      assert.equal(refused.retry, '1');
      assert.equal(errorCode(refused.body), 'FW_ERR_CAPACITY_REACHED');
      assert.equal(await open({}), 'FW_ERR_CAPACITY_REACHED');
      assert.equal(output.sessions.length, 1);
      // Closing the first viewer (still window.viewer: the refused open kept nothing) frees its place.
      await page.evaluate(() => window.viewer?.close());
      await waitUntil(() => output.sessions.length === 0, 'the closed session to end');
      assert.equal(await open({}), 'frame');
    } finally {
      await page.evaluate(() => window.viewer?.close());
      await capped.close();
    }
  });

  it('restarts a killed worker: offers meanwhile get 503, and a viewer reconnects by itself', async () => {
    const page = await viewerPage();
    const before = await view(page, 5);
    assert.equal(before.sizes.length, 5);
    const pid = output().workerPid;
    output().killWorker();
    await waitUntil(() => !output().ready, 'the worker to be seen dead');
    assert.equal(output().sessions.length, 0);
    const during = await postOffer(page, '/offer', { token: TOKEN });
    assert.equal(during.status, 503);
    assert.equal(errorCode(during.body), 'FW_ERR_PROCESS_FAILED');
    await waitUntil(() => output().ready, 'the restarted worker', 60_000);
    assert.notEqual(output().workerPid, pid);
    assert.equal(output().stats.workerRestarts, 1);
    // The page's source sees its frames stop, makes a new offer and resumes.
    const resumed = await view(page, 10);
    assert.equal(resumed.sizes.length, 10);
    assert.ok(resumed.reconnects >= 1);
    await page.evaluate(() => window.viewer?.close());
  });

  it('the CLI serves --webrtc with loopback-only answers (--webrtc-ice-address)', async () => {
    const cli = await startCli(
      CLI,
      [
        '--port',
        '0',
        '--size',
        '160x120',
        '--fps',
        '5',
        '--webrtc',
        '--webrtc-ice-address',
        '127.0.0.1',
        '--webrtc-max-viewers',
        '1',
      ],
      /listening on (http:\/\/[\d.:]+)/,
    );
    try {
      const url = cli.match[1] ?? '';
      const health = (await (await fetch(`${url}/health`)).json()) as { outputs: string[] };
      assert.ok(health.outputs.includes('webrtc'));
      const page = await viewerPage();
      const answered = await waitUntil(async () => {
        const got = await page.evaluate(async (offerUrl: string) => {
          const pc = new RTCPeerConnection();
          pc.addTransceiver('video', { direction: 'recvonly' });
          await pc.setLocalDescription(await pc.createOffer());
          const response = await fetch(offerUrl, { method: 'POST', body: JSON.stringify(pc.localDescription) });
          pc.close();
          return { status: response.status, body: await response.text() };
        }, `${url}/offer`);
        return got.status === 503 ? undefined : got; // the worker may still be starting
      }, 'an answer from the CLI');
      assert.equal(answered.status, 201);
      const answer = JSON.parse(answered.body) as { type: string; sdp: string };
      assert.equal(answer.type, 'answer');
      const candidates = answer.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
      assert.ok(candidates.length > 0 && candidates.every(isLoopbackCandidate), candidates.join('\n'));
      // --webrtc-max-viewers 1: the answered offer (H.264, passed through) holds the only place.
      const second = await page.evaluate(async (offerUrl: string) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const response = await fetch(offerUrl, { method: 'POST', body: JSON.stringify(pc.localDescription) });
        pc.close();
        return { status: response.status, body: await response.text() };
      }, `${url}/offer`);
      assert.equal(second.status, 503);
      assert.equal(errorCode(second.body), 'FW_ERR_CAPACITY_REACHED');
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });
});

/** What a publishing page keeps on its window. */
type Publisher = {
  publisher: { close(): Promise<void>; state: string; sessionUrl?: string };
  stopCamera: () => Promise<void>;
};

/**
 * Publishes the page's fake camera (320×240) to the bridge at `url` with the SDK's BridgePublisher.open (WHIP-style,
 * loopback candidates only): as a MediaStreamTrack, or as a FrameSource (CameraSource) when `asSource`. Resolves
 * with the publisher's state and session URL.
 */
async function publishCamera(
  page: Page,
  url: string,
  asSource = false,
): Promise<{ state: string; sessionUrl: string | undefined }> {
  await page.addScriptTag({ url: '/sdk/framewire.min.js' });
  return page.evaluate(
    async (bridgeUrl: string, source: boolean) => {
      const sdk = (window as unknown as { Framewire: Record<string, (...args: unknown[]) => Promise<unknown>> })
        .Framewire;
      let input: unknown;
      let stopCamera: () => Promise<void>;
      if (source) {
        const camera = (await sdk['openSource']?.({ camera: { width: 320, height: 240 } })) as {
          close(): Promise<void>;
        };
        input = camera;
        stopCamera = () => camera.close();
      } else {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
        input = stream.getVideoTracks()[0];
        stopCamera = () => {
          for (const track of stream.getTracks()) track.stop();
          return Promise.resolve();
        };
      }
      const { BridgePublisher } = (
        window as unknown as { Framewire: { BridgePublisher: { open: (...args: unknown[]) => Promise<unknown> } } }
      ).Framewire;
      const publisher = (await BridgePublisher.open(input, {
        url: bridgeUrl,
        candidateFilter: window.isLoopbackCandidate,
      })) as Publisher['publisher'];
      Object.assign(window, { publisher, stopCamera });
      return { state: publisher.state, sessionUrl: publisher.sessionUrl };
    },
    url,
    asSource,
  );
}

/** Ends the session {@link publishCamera} opened (DELETE) and stops the camera (frees it for later tests). */
function stopPublishing(page: Page): Promise<void> {
  return page.evaluate(async () => {
    const { publisher, stopCamera } = window as unknown as Publisher;
    await publisher.close();
    await stopCamera();
  });
}

/** What the Python reader reports about the frames it read. */
interface ShmSeen {
  width: number;
  height: number;
  format: string;
  shape: number[];
  mean: number;
  frames: number;
  increasing: boolean;
}

/** Reads three frames from the buffer at `path` with examples/python/framewire_shm_reader.py (numpy, no copy). */
function readShmWithPython(path: string): Promise<ShmSeen> {
  const script = `
import json, sys
sys.path.insert(0, 'examples/python')
from framewire_shm_reader import FrameBufferReader
reader = FrameBufferReader(sys.argv[1])
ids, frame = [], None
for _ in range(3):
    frame = reader.wait(after_id=ids[-1] if ids else 0, timeout_s=30)
    if frame is None:
        break
    ids.append(frame.frame_id)
if frame is None:
    print(json.dumps({"error": "no frame", "status": reader.status()}))
    sys.exit(1)
print(json.dumps({"width": frame.width, "height": frame.height, "format": frame.format,
    "shape": list(frame.pixels.shape), "mean": float(frame.pixels.mean()), "frames": len(ids),
    "increasing": ids == sorted(set(ids))}))
`;
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script, path], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stdout}${stderr}`));
      else resolve(JSON.parse(stdout) as ShmSeen);
    });
  });
}

describe('WebRTC publish (/publish): a browser camera to a Python NetGear receiver and to shared memory', () => {
  it('forwards the frames a Chromium page publishes to NetGearOutput', async () => {
    const sdk = await startSdkServer();
    const browser = await launchChromium();
    const errors: string[] = [];
    const port = await freePort();
    const peer = startPeer(['receiver', '--port', String(port), '--pattern', '0', '--frames', '5']);
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 5 })],
      mjpeg: false,
      websocket: false,
      webrtc: { iceAddresses: ['127.0.0.1'] },
    });
    assert.ok(bridge.webrtc);
    const published = new WebRtcPublishSource(bridge.webrtc);
    const output = new NetGearOutput(new FrameFeed(published, 'BGR24'), { port, pattern: 0 });
    bridge.attach(output);
    bridge.attach(published);
    try {
      await waitUntil(() => peer.events.length > 0, 'the receiver listening');
      await waitUntil(() => bridge.webrtc?.ready, 'the WebRTC worker', 60_000);
      await published.start();
      await output.start();
      const page = await openPeerPage(browser, sdk.url, errors);
      const publishing = await publishCamera(page, `http://127.0.0.1:${bridge.port}/`);
      assert.equal(publishing.state, 'connected');
      assert.match(publishing.sessionUrl ?? '', /\/publish\/[\w-]+$/);
      assert.equal(await peer.exited, 0, peer.stderr());
      const received = peer.events.filter((e) => e['event'] === 'frame');
      assert.equal(received.length, 5);
      const [height, width, channels] = received[0]?.['shape'] as number[];
      assert.equal(channels, 3);
      assert.ok(width && height && width % 2 === 0 && height % 2 === 0 && width <= 320, `${width}x${height}`);
      assert.ok((received[0]?.['mean'] as number) > 5, 'a picture, not a blank frame');
      assert.equal(bridge.webrtc.sessions.filter((s) => s.mode === 'publish').length, 1);
      await stopPublishing(page);
      // close() ended the session on the bridge with DELETE.
      assert.equal(bridge.webrtc.sessions.filter((s) => s.mode === 'publish').length, 0);
    } finally {
      peer.kill();
      await browser.close();
      await sdk.close();
      await bridge.close();
      await settleWrtc();
    }
  });

  it('keeps the newest frame of a Chromium page’s camera in shared memory, where a Python numpy reader sees it', async () => {
    const sdk = await startSdkServer();
    const browser = await launchChromium();
    const errors: string[] = [];
    const shmName = `framewire-webrtc-test-${process.pid}`;
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 5 })],
      mjpeg: false,
      websocket: false,
      webrtc: { iceAddresses: ['127.0.0.1'] },
    });
    assert.ok(bridge.webrtc);
    const published = new WebRtcPublishSource(bridge.webrtc);
    const buffer = new ShmFrameBuffer({ name: shmName });
    const feed = new FrameFeed(published, 'BGR24');
    buffer.attach({
      on: (_event, listener) =>
        feed.subscribe((frame) => {
          if ('format' in frame) listener({ frame });
        }),
    });
    bridge.attach(published);
    try {
      await waitUntil(() => bridge.webrtc?.ready, 'the WebRTC worker', 60_000);
      await published.start();
      // The reader starts first and waits for the writer, as a local ML process would.
      const reader = readShmWithPython(`/dev/shm/${shmName}`);
      const page = await openPeerPage(browser, sdk.url, errors);
      // A FrameSource this time (the SDK's CameraSource), through a MediaStreamTrackGenerator.
      const publishing = await publishCamera(page, `http://127.0.0.1:${bridge.port}/publish`, true);
      assert.equal(publishing.state, 'connected');
      const seen = await reader;
      assert.equal(seen.format, 'BGR24');
      assert.deepEqual(seen.shape, [seen.height, seen.width, 3]);
      assert.ok(seen.width > 0 && seen.width <= 320 && seen.width % 2 === 0, `${seen.width}x${seen.height}`);
      assert.ok(seen.mean > 5, 'a picture, not a blank frame');
      assert.ok(seen.frames >= 2 && seen.increasing, 'new frames keep arriving with growing ids');
      await stopPublishing(page);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await sdk.close();
      buffer.close();
      await bridge.close();
      await settleWrtc();
    }
  });
});
