import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'puppeteer-core';
import {
  BridgeServer,
  LoopbackStunServer,
  WebRtcPublishSource,
  WhipPushOutput,
  createTestPatternSource,
  type WebRtcOutput,
} from '@framewire/node-bridge';
import { writeH264 } from '../helpers/bridge.js';
import { launchChromium } from '../helpers/chromium.js';
import { freePort } from '../helpers/mosquitto.js';
import { ffprobe, runCli, startCli, startServer, tempDir, waitUntil, type StartedServer } from '../helpers/node.js';
import { openPeerPage, settleWrtc, startSdkServer } from '../helpers/peers.js';
import { errorCode } from '../helpers/http-error.js';
import { decodesMore, type InboundVideoStats } from '../helpers/page-video-stats.js';

const TOKEN = 'whip-whep-test-token';
const BRIDGE_CLI = 'packages/node-bridge/bin/framewire-bridge.js';

/** What the page's helpers return for a request. */
interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** A viewer or publisher opened in the page. */
interface Opened extends Reply {
  index: number;
}

/** Helpers installed in a page (see `installHelpers`). */
interface PageHelpers {
  /** WHEP: offers recvonly video (and audio with `audio`) to `url` at once, trickles its candidates by PATCH. */
  view(url: string, token: string, audio: boolean): Promise<Opened>;
  /** WHIP: publishes the fake camera (sendonly video) to `url`. */
  publish(url: string, token: string): Promise<Opened>;
  /** PATCHes the session of peer `index` with `body` and `headers`. */
  patch(index: number, body: string, headers: Record<string, string>): Promise<Reply>;
  /** Restarts ICE of peer `index` with a PATCH carrying `If-Match: ifMatch` and applies the bridge's fragment. */
  restart(index: number, ifMatch: string): Promise<Reply>;
  /** Sends DELETE to the session of peer `index`. */
  remove(index: number): Promise<Reply>;
  /** The decoded frames, codec and connection state of peer `index`. */
  stats(index: number): Promise<InboundVideoStats>;
  /** The statuses of the PATCHes sent while trickling. */
  trickles: number[];
}

declare const Eyevinn: {
  WHIPClient: new (init: { endpoint: string; opts: Record<string, unknown> }) => {
    ingest(stream: MediaStream): Promise<void>;
    destroy(): Promise<void>;
  };
  WebRTCPlayer: new (init: Record<string, unknown>) => {
    load(url: URL, authKey?: string): Promise<void>;
    destroy(): void;
  };
};
declare global {
  interface Window {
    isLoopbackCandidate: (candidate: string) => boolean;
    ww: PageHelpers;
    wwRequests: { method: string; url: string; status: number }[];
  }
}

/** Defines `window.ww`: plain RTCPeerConnection WHEP viewers and WHIP publishers. */
async function installHelpers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const peers: { pc: RTCPeerConnection; location: string; token: string }[] = [];
    const loopbackOnly = (sdp: string): string =>
      sdp
        .split('\r\n')
        .filter((line) => !line.startsWith('a=candidate:') || window.isLoopbackCandidate(line))
        .join('\r\n');
    const headersOf = (response: Response): Record<string, string> => {
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return headers;
    };
    const exchange = async (pc: RTCPeerConnection, url: string, token: string, trickle: boolean): Promise<Opened> => {
      // Candidates found before the session URL is known wait for it.
      const found: RTCIceCandidate[] = [];
      let send: ((candidate: RTCIceCandidate) => Promise<void>) | undefined;
      if (trickle)
        pc.addEventListener('icecandidate', ({ candidate }) => {
          if (!candidate?.candidate) return;
          if (send) void send(candidate);
          else found.push(candidate);
        });
      await pc.setLocalDescription(await pc.createOffer());
      const offer = (pc.localDescription?.sdp ?? '')
        .split('\r\n')
        .filter((line) => !line.startsWith('a=candidate:'))
        .join('\r\n');
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
        body: offer,
      });
      const body = await response.text();
      const headers = headersOf(response);
      if (response.status !== 201) {
        pc.close();
        return { index: -1, status: response.status, body, headers };
      }
      const location = new URL(headers['location'] ?? '', url).href;
      peers.push({ pc, location, token });
      const index = peers.length - 1;
      if (trickle) {
        send = async (candidate: RTCIceCandidate): Promise<void> => {
          const fragment = `a=ice-ufrag:${candidate.usernameFragment ?? ''}\r\na=mid:${candidate.sdpMid ?? '0'}\r\na=${candidate.candidate}\r\n`;
          const patched = await fetch(location, {
            method: 'PATCH',
            headers: { 'content-type': 'application/trickle-ice-sdpfrag', authorization: `Bearer ${token}` },
            body: fragment,
          });
          window.ww.trickles.push(patched.status);
        };
        for (const candidate of found.splice(0)) void send(candidate);
      }
      await pc.setRemoteDescription({ type: 'answer', sdp: loopbackOnly(body) });
      return { index, status: 201, body, headers };
    };
    const peer = (index: number): { pc: RTCPeerConnection; location: string; token: string } => {
      const found = peers[index];
      if (!found) throw new Error(`no peer ${index}`);
      return found;
    };
    window.ww = {
      trickles: [],
      async view(url, token, audio) {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        if (audio) pc.addTransceiver('audio', { direction: 'recvonly' });
        return exchange(pc, url, token, true);
      },
      async publish(url, token) {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
        const pc = new RTCPeerConnection();
        for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
        return exchange(pc, url, token, false);
      },
      async patch(index, body, headers) {
        const { location, token } = peer(index);
        const response = await fetch(location, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, ...headers },
          body,
        });
        return { status: response.status, body: await response.text(), headers: headersOf(response) };
      },
      async restart(index, ifMatch) {
        const { pc, location, token } = peer(index);
        pc.restartIce();
        await pc.setLocalDescription(await pc.createOffer());
        const sdp = pc.localDescription?.sdp ?? '';
        const ufrag = /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? '';
        const pwd = /a=ice-pwd:(\S+)/.exec(sdp)?.[1] ?? '';
        const response = await fetch(location, {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/trickle-ice-sdpfrag',
            'if-match': ifMatch,
          },
          body: `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\na=mid:0\r\n`,
        });
        const body = await response.text();
        const reply = { status: response.status, body, headers: headersOf(response) };
        if (response.status !== 200) {
          await pc.setLocalDescription({ type: 'rollback' });
          return reply;
        }
        const newUfrag = /a=ice-ufrag:(\S+)/.exec(body)?.[1] ?? '';
        const newPwd = /a=ice-pwd:(\S+)/.exec(body)?.[1] ?? '';
        const answer = (pc.remoteDescription?.sdp ?? '')
          .split('\r\n')
          .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
          .map((line) => {
            if (line.startsWith('a=ice-ufrag:')) return `a=ice-ufrag:${newUfrag}`;
            if (line.startsWith('a=ice-pwd:')) return `a=ice-pwd:${newPwd}`;
            return line;
          })
          .join('\r\n');
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
        for (const line of body.split('\r\n'))
          if (line.startsWith('a=candidate:') && window.isLoopbackCandidate(line))
            await pc.addIceCandidate({ candidate: line.slice(2), sdpMid: '0' });
        return reply;
      },
      async remove(index) {
        const { pc, location, token } = peer(index);
        const response = await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
        // Frees the fake camera (its frames come from a pool shared by every track) and the connection.
        for (const sender of pc.getSenders()) sender.track?.stop();
        pc.close();
        return { status: response.status, body: await response.text(), headers: headersOf(response) };
      },
      async stats(index) {
        const { pc } = peer(index);
        return window.inboundVideoStats(pc);
      },
    };
  });
}

/** The two Eyevinn clients bundled for a page (global `Eyevinn`). */
async function eyevinnBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "export { WHIPClient } from '@eyevinn/whip-web-client'; export { WebRTCPlayer } from '@eyevinn/webrtc-player';",
      resolveDir: process.cwd(),
    },
    bundle: true,
    format: 'iife',
    globalName: 'Eyevinn',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  const [file] = result.outputFiles;
  assert.ok(file, 'esbuild bundled the Eyevinn clients');
  return file.text;
}

/** A minimal offer whose only video codec is VP9. */
const VP9_ONLY = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 98',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=rtcp-mux',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=setup:actpass',
  'a=rtpmap:98 VP9/90000',
  '',
].join('\r\n');

describe('standard WHIP (RFC 9725) and WHEP on the bridge, with Chromium and the Eyevinn clients', () => {
  let browser: Browser;
  let sdk: StartedServer;
  let bridge: BridgeServer;
  let published: WebRtcPublishSource;
  let base: string;
  let page: Page;
  const errors: string[] = [];
  /** Every status the bridge answered the Node-side requests with (none may be a 301/302 redirect). */
  const statuses: number[] = [];

  function output(): WebRtcOutput {
    assert.ok(bridge.webrtc, 'the bridge serves WebRTC');
    return bridge.webrtc;
  }

  /** A request from Node with the token (unless `headers` has its own authorization); never follows redirects. */
  async function call(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<{ status: number; headers: Headers; error: string; text: string }> {
    const response = await fetch(`${base}${path}`, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    statuses.push(response.status);
    const error = response.status >= 400 && text !== '' ? errorCode(text) : '';
    return { status: response.status, headers: response.headers, error, text };
  }

  function peerDecodes(p: Page, index: number, count: number, what: string): Promise<InboundVideoStats> {
    return decodesMore(() => p.evaluate((i) => window.ww.stats(i), index), count, what);
  }

  /** Waits until the bridge has `count` more published frames than now (any session). */
  async function receivesPublished(count: number, what: string): Promise<void> {
    let received = 0;
    const stop = published.on('frame', () => {
      received++;
    });
    try {
      await waitUntil(() => received >= count, what, 60_000);
    } finally {
      stop();
    }
  }

  before(async () => {
    sdk = await startSdkServer();
    browser = await launchChromium();
    bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 320, height: 240, frameRate: 15 })],
      mjpeg: false,
      websocket: false,
      h264: { keyframeIntervalFrames: 15 },
      token: TOKEN,
      webrtc: { iceAddresses: ['127.0.0.1'], restartDelayMs: 1000 },
    });
    base = `http://127.0.0.1:${bridge.port}`;
    published = new WebRtcPublishSource(output(), 'published');
    bridge.attach(published);
    await published.start();
    page = await openPeerPage(browser, sdk.url, errors);
    await installHelpers(page);
    await waitUntil(() => output().ready, 'the WebRTC worker', 60_000);
  });

  after(async () => {
    await browser.close();
    await sdk.close();
    await bridge.close();
    await settleWrtc();
    assert.ok(!statuses.some((s) => s === 301 || s === 302), `no redirect: ${statuses.join(' ')}`);
  });

  it('answers OPTIONS with CORS (PATCH allowed), Accept-Post, and ice-server Link headers (TURN only with the token)', async () => {
    const stun = await LoopbackStunServer.start();
    const linked = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 5 })],
      mjpeg: false,
      websocket: false,
      token: TOKEN,
      webrtc: {
        iceAddresses: ['127.0.0.1'],
        iceServers: [
          { urls: stun.url },
          { urls: 'turn:127.0.0.1:3478?transport=udp', username: 'user1', credential: 'secret1' },
        ],
      },
    });
    try {
      const options = async (path: string, token: boolean): Promise<Response> =>
        fetch(`http://127.0.0.1:${linked.port}${path}`, {
          method: 'OPTIONS',
          redirect: 'manual',
          headers: token ? { authorization: `Bearer ${TOKEN}` } : {},
        });
      for (const path of ['/whep', '/sources/testpattern/whep', '/whip', '/whep/some-session']) {
        const open = await options(path, false);
        assert.equal(open.status, 204, path);
        assert.match(open.headers.get('access-control-allow-methods') ?? '', /\bPATCH\b/);
        assert.match(open.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
        assert.equal(open.headers.get('access-control-allow-origin'), '*');
        assert.match(open.headers.get('access-control-allow-headers') ?? '', /authorization/);
        assert.match(open.headers.get('access-control-allow-headers') ?? '', /if-match/);
        assert.equal(open.headers.get('accept-post'), 'application/sdp');
        assert.equal(
          open.headers.get('link'),
          `<${stun.url}>; rel="ice-server"`,
          'no TURN credentials without the token',
        );
        const authorized = await options(path, true);
        assert.equal(
          authorized.headers.get('link'),
          `<${stun.url}>; rel="ice-server", <turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="user1"; credential="secret1"; credential-type="password"`,
        );
      }
    } finally {
      await linked.close();
      stun.close();
    }
  });

  it('serves a WHEP viewer of a plain RTCPeerConnection: 201 with Location, ETag, Accept-Patch; trickle PATCH 204; H.264 decoded', async () => {
    const opened = await page.evaluate((url, token) => window.ww.view(url, token, false), `${base}/whep`, TOKEN);
    assert.equal(opened.status, 201, opened.body);
    assert.equal(opened.headers['content-type'], 'application/sdp');
    assert.match(opened.headers['location'] ?? '', /^\/whep\/[\w-]+$/);
    assert.match(opened.headers['etag'] ?? '', /^"[\da-f]+"$/, 'a strong ETag');
    assert.equal(opened.headers['accept-patch'], 'application/trickle-ice-sdpfrag');
    assert.match(opened.body, /^v=0/);
    const stats = await peerDecodes(page, opened.index, 10, 'the WHEP viewer to decode 10 frames');
    assert.equal(stats.codec, 'video/H264');
    await waitUntil(
      () => page.evaluate(() => window.ww.trickles.length > 0),
      'the page to trickle a candidate',
      60_000,
    );
    assert.ok(await page.evaluate(() => window.ww.trickles.every((s) => s === 204)));
    // A trickled loopback candidate reaches the session (the page's own are on other interfaces, dropped).
    const before = output().stats.trickledCandidates;
    const trickled = await page.evaluate(
      (i) =>
        window.ww.patch(i, 'a=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\n', {
          'content-type': 'application/trickle-ice-sdpfrag',
        }),
      opened.index,
    );
    assert.equal(trickled.status, 204);
    assert.equal(trickled.body, '');
    assert.equal(output().stats.trickledCandidates, before + 1);
    const wrongType = await page.evaluate(
      (i) => window.ww.patch(i, 'a=mid:0\r\n', { 'content-type': 'text/plain' }),
      opened.index,
    );
    assert.equal(wrongType.status, 415);
    assert.equal(errorCode(wrongType.body), 'FW_ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await page.evaluate((i) => window.ww.remove(i), opened.index)).status, 200);
  });

  it('restarts ICE of a WHEP session on PATCH with If-Match (200, new ETag) and keeps decoding; 412 for a stale ETag', async () => {
    const opened = await page.evaluate((url, token) => window.ww.view(url, token, false), `${base}/whep`, TOKEN);
    assert.equal(opened.status, 201, opened.body);
    await peerDecodes(page, opened.index, 5, 'the viewer to decode before the restart');
    const stale = await page.evaluate((i) => window.ww.restart(i, '"0000"'), opened.index);
    assert.equal(stale.status, 412, stale.body);
    assert.equal(errorCode(stale.body), 'FW_ERR_PROTOCOL_VIOLATION');
    const etag = opened.headers['etag'] ?? '';
    const restarted = await page.evaluate((i, tag) => window.ww.restart(i, tag), opened.index, etag);
    assert.equal(restarted.status, 200, restarted.body);
    assert.equal(restarted.headers['content-type'], 'application/trickle-ice-sdpfrag');
    assert.match(restarted.body, /^a=ice-ufrag:\S+\r\na=ice-pwd:\S+\r\n/);
    assert.match(restarted.body, /a=candidate:.* 127\.0\.0\.1 /);
    assert.ok(restarted.headers['etag'] && restarted.headers['etag'] !== etag, 'a new ETag');
    await peerDecodes(page, opened.index, 15, 'the viewer to decode after the ICE restart');
    // The old ETag is stale now; `*` always matches.
    const again = await page.evaluate((i, tag) => window.ww.restart(i, tag), opened.index, etag);
    assert.equal(again.status, 412);
    const star = await page.evaluate((i) => window.ww.restart(i, '*'), opened.index);
    assert.equal(star.status, 200, star.body);
    await peerDecodes(page, opened.index, 15, 'the viewer to decode after the second ICE restart');
    assert.equal((await page.evaluate((i) => window.ww.remove(i), opened.index)).status, 200);
  });

  it('answers an audio+video WHEP offer with one msid and the audio rejected, and decodes the video', async () => {
    const opened = await page.evaluate(
      (url, token) => window.ww.view(url, token, true),
      `${base}/sources/testpattern/whep`,
      TOKEN,
    );
    assert.equal(opened.status, 201, opened.body);
    assert.match(opened.headers['location'] ?? '', /^\/sources\/testpattern\/whep\/[\w-]+$/);
    const sections = opened.body.split(/\r\nm=/).slice(1);
    assert.equal(sections.length, 2, 'the answer has both m-lines');
    const audio = sections.find((s) => s.startsWith('audio')) ?? '';
    assert.ok(audio.startsWith('audio 0 ') || audio.includes('a=inactive'), `audio rejected or inactive:\n${audio}`);
    const msids = new Set([...opened.body.matchAll(/^a=msid:(\S+)/gm)].map((m) => m[1]));
    assert.ok(msids.size <= 1, `one msid for all m-lines: ${[...msids].join(', ')}`);
    const stats = await peerDecodes(page, opened.index, 10, 'the audio+video viewer to decode video');
    assert.equal(stats.codec, 'video/H264');
    assert.equal((await page.evaluate((i) => window.ww.remove(i), opened.index)).status, 200);
  });

  it('takes a WHIP publisher of a plain RTCPeerConnection (fake camera): frames reach the bridge, DELETE ends it', async () => {
    const opened = await page.evaluate((url, token) => window.ww.publish(url, token), `${base}/whip`, TOKEN);
    assert.equal(opened.status, 201, opened.body);
    assert.match(opened.headers['location'] ?? '', /^\/whip\/[\w-]+$/);
    assert.match(opened.headers['etag'] ?? '', /^"[\da-f]+"$/);
    await receivesPublished(10, 'frames published by the page');
    assert.equal(output().sessions.filter((s) => s.mode === 'publish').length, 1);
    // The VP8 worker's sessions cannot restart ICE: 422, and the session keeps running.
    const restart = await page.evaluate(
      (i) =>
        window.ww.patch(i, 'a=ice-ufrag:zzzz\r\na=ice-pwd:zzzzzzzzzzzzzzzzzzzzzzzz\r\na=mid:0\r\n', {
          'content-type': 'application/trickle-ice-sdpfrag',
          'if-match': '*',
        }),
      opened.index,
    );
    assert.equal(restart.status, 422, restart.body);
    assert.equal(errorCode(restart.body), 'FW_ERR_NOT_SUPPORTED');
    await receivesPublished(5, 'frames after the refused restart');
    assert.equal((await page.evaluate((i) => window.ww.remove(i), opened.index)).status, 200);
    assert.equal(output().sessions.filter((s) => s.mode === 'publish').length, 0);
  });

  it('works with @eyevinn/whip-web-client (publishes into /whip, trickles by PATCH) and @eyevinn/webrtc-player (views /whep)', async () => {
    const eyevinn = await openPeerPage(browser, sdk.url, errors);
    try {
      await eyevinn.addScriptTag({ content: await eyevinnBundle() });
      await eyevinn.evaluate(() => {
        window.wwRequests = [];
        const original = window.fetch.bind(window);
        window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
          const response = await original(input, init);
          window.wwRequests.push({
            method: init?.method ?? 'GET',
            url: input instanceof Request ? input.url : input.toString(),
            status: response.status,
          });
          return response;
        };
      });
      await eyevinn.evaluate(
        async (url, token) => {
          const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
          const client = new Eyevinn.WHIPClient({ endpoint: url, opts: { iceServers: [], authkey: token } });
          Object.assign(window, { whipClient: client, whipStream: stream });
          await client.ingest(stream);
        },
        `${base}/whip`,
        TOKEN,
      );
      await receivesPublished(10, 'frames published by @eyevinn/whip-web-client');
      const requests = await eyevinn.evaluate(() => window.wwRequests);
      assert.ok(
        requests.some((r) => r.method === 'OPTIONS' && r.status === 204),
        `OPTIONS first: ${JSON.stringify(requests)}`,
      );
      assert.ok(
        requests.some((r) => r.method === 'POST' && r.status === 201),
        JSON.stringify(requests),
      );
      assert.ok(
        requests.some((r) => r.method === 'PATCH' && r.status === 204),
        `it trickled: ${JSON.stringify(requests)}`,
      );
      await eyevinn.evaluate(async () => {
        const { whipClient, whipStream } = window as unknown as {
          whipClient: { destroy(): Promise<void> };
          whipStream: MediaStream;
        };
        await whipClient.destroy();
        for (const track of whipStream.getTracks()) track.stop();
      });
      await waitUntil(
        () => output().sessions.every((s) => s.mode !== 'publish'),
        'the Eyevinn publisher’s DELETE to end its session',
      );

      // The player offers audio and video and sends the bare key as Authorization (no "Bearer ").
      const viewersBefore = output().stats.passthroughClients;
      await eyevinn.evaluate(
        async (url, token) => {
          const video = document.createElement('video');
          video.muted = true;
          video.autoplay = true;
          video.playsInline = true;
          document.body.append(video);
          const player = new Eyevinn.WebRTCPlayer({ video, type: 'whep', iceServers: [] });
          Object.assign(window, { player, playerVideo: video });
          await player.load(new URL(url), token);
        },
        `${base}/whep`,
        TOKEN,
      );
      await waitUntil(
        () =>
          eyevinn.evaluate(() => {
            const video = (window as unknown as { playerVideo: HTMLVideoElement }).playerVideo;
            return video.getVideoPlaybackQuality().totalVideoFrames >= 10 && video.videoWidth === 320;
          }),
        'the Eyevinn player to show 10 frames',
        60_000,
      );
      assert.equal(output().stats.passthroughClients, viewersBefore + 1, 'the player gets H.264 passthrough');
      const posted = (await eyevinn.evaluate(() => window.wwRequests)).filter(
        (r) => r.method === 'POST' && r.url.endsWith('/whep'),
      );
      assert.deepEqual(
        posted.map((r) => r.status),
        [201],
      );
      await eyevinn.evaluate(() => (window as unknown as { player: { destroy(): void } }).player.destroy());
      await waitUntil(
        () => output().stats.passthroughClients === viewersBefore,
        'the player’s DELETE to end its session',
      );
    } finally {
      await eyevinn.close();
    }
  });

  it('refuses bad input with a 4xx and an FW_ERR code, without redirects, and keeps serving', async () => {
    const sdp = { 'content-type': 'application/sdp' };
    const cases: [string, string, Record<string, string>, string | undefined, number, string][] = [
      ['POST', '/whep', sdp, 'hello', 400, 'FW_ERR_SDP_INVALID'],
      ['POST', '/whep', sdp, 'v=0\r\nthis is not an offer\r\n', 400, 'FW_ERR_SDP_INVALID'],
      ['POST', '/whip', sdp, 'v=0\r\nm=video garbage\r\n', 400, 'FW_ERR_SDP_INVALID'],
      ['POST', '/whep', sdp, VP9_ONLY, 400, 'FW_ERR_CODEC_UNSUPPORTED'],
      ['POST', '/whip', sdp, VP9_ONLY.replace('a=recvonly', 'a=sendonly'), 400, 'FW_ERR_CODEC_UNSUPPORTED'],
      ['POST', '/whep', sdp, `v=0\r\nm=video 9 x\r\n${'a=x\r\n'.repeat(20_000)}`, 413, 'FW_ERR_MESSAGE_TOO_LARGE'],
      [
        'POST',
        '/whep',
        { 'content-type': 'application/json' },
        JSON.stringify({ type: 'offer', sdp: VP9_ONLY }),
        415,
        'FW_ERR_UNSUPPORTED_MEDIA_TYPE',
      ],
      ['POST', '/whip', {}, 'v=0', 415, 'FW_ERR_UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/sources/nope/whep', sdp, VP9_ONLY, 404, 'FW_ERR_NOT_FOUND'],
      [
        'PATCH',
        '/whep/00000000-0000-0000-0000-000000000000',
        { 'content-type': 'application/trickle-ice-sdpfrag' },
        'a=mid:0\r\n',
        404,
        'FW_ERR_NOT_FOUND',
      ],
      ['DELETE', '/whip/00000000-0000-0000-0000-000000000000', {}, undefined, 404, 'FW_ERR_NOT_FOUND'],
      ['GET', '/whep', {}, undefined, 405, 'FW_ERR_PROTOCOL_VIOLATION'],
      ['HEAD', '/whip', {}, undefined, 405, ''],
      ['PUT', '/whep', sdp, VP9_ONLY, 405, 'FW_ERR_PROTOCOL_VIOLATION'],
      ['POST', '/whep', { ...sdp, authorization: 'Bearer wrong-token-1234' }, VP9_ONLY, 401, 'FW_ERR_UNAUTHORIZED'],
    ];
    for (const [method, path, headers, body, status, error] of cases) {
      const got = await call(method, path, headers, body);
      assert.equal(got.status, status, `${method} ${path} ${(body ?? '').slice(0, 30)}: ${got.text}`);
      assert.equal(got.error, error, `${method} ${path} ${(body ?? '').slice(0, 30)}`);
      if (status === 401) assert.equal(got.headers.get('www-authenticate'), 'Bearer realm="framewire-bridge"');
      if (status === 405) assert.match(got.headers.get('allow') ?? '', /POST/);
    }
    // A replayed DELETE: 200, then 404 with a code.
    const opened = await page.evaluate((url, token) => window.ww.view(url, token, false), `${base}/whep`, TOKEN);
    assert.equal(opened.status, 201, opened.body);
    const location = opened.headers['location'] ?? '';
    assert.equal((await call('GET', location)).status, 405);
    assert.equal((await call('DELETE', location)).status, 200);
    const replayed = await call('DELETE', location);
    assert.equal(replayed.status, 404);
    assert.equal(replayed.error, 'FW_ERR_NOT_FOUND');
    // The bare token as Authorization (what @eyevinn/webrtc-player sends) is accepted.
    assert.equal(
      (await call('POST', '/whep', { ...sdp, authorization: TOKEN }, VP9_ONLY)).error,
      'FW_ERR_CODEC_UNSUPPORTED',
    );
    // The bridge keeps serving: a new viewer decodes, through the /offer alias too.
    for (const path of ['/whep', '/offer']) {
      const viewer = await page.evaluate((url, token) => window.ww.view(url, token, false), `${base}${path}`, TOKEN);
      assert.equal(viewer.status, 201, viewer.body);
      await peerDecodes(page, viewer.index, 10, `a viewer of ${path} after the bad input`);
      const ended = await page.evaluate((i) => window.ww.remove(i), viewer.index);
      assert.equal(ended.status, path === '/whep' ? 200 : 204);
    }
    assert.deepEqual(errors, []);
  });
});

describe('--whip-push: one bridge publishes its H.264 to another bridge’s /whip', () => {
  it('refuses a bad --whip-push URL or source with FW_ERR_INVALID_OPTION (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--whip-push', 'ftp://127.0.0.1/whip'], /--whip-push must be an http\(s\) URL/],
      [['--whip-push', 'not a url'], /--whip-push must be an http\(s\) URL/],
      [['--whip-push-source', 'testpattern'], /--whip-push-source needs --whip-push/],
      [['--whip-push', 'http://127.0.0.1:9/whip', '--whip-push-source', 'nope'], /--whip-push-source: no source nope/],
      [['--whip-push', 'http://127.0.0.1:9/whip', '--whip-push-token', ''], /--whip-push-token must not be empty/],
      [['--webrtc', '--webrtc-ice-server', 'http://127.0.0.1:3478'], /--webrtc-ice-server must be a stun:/],
      [['--webrtc', '--webrtc-ice-server', 'turn:127.0.0.1:3478'], /needs --webrtc-turn-username/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(BRIDGE_CLI, ['--port', '0', '--size', '160x120', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /FW_ERR_INVALID_OPTION: /);
      assert.match(result.stderr, message);
    }
  });

  it('reports a refused token, a busy (409) and a failing (503) endpoint with FW_ERR codes and tries again with backoff', async () => {
    const seen: number[] = [];
    const busy = await startServer((request, response) => {
      request.resume();
      const status = seen.length % 2 === 0 ? 409 : 503;
      seen.push(status);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'busy' }));
    });
    const source = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 5 })],
      mjpeg: false,
      websocket: false,
      token: TOKEN,
      webrtc: { iceAddresses: ['127.0.0.1'] },
    });
    const pushes: WhipPushOutput[] = [];
    try {
      const codes = async (url: string, token: string, count: number): Promise<string[]> => {
        const push = new WhipPushOutput(source.feed('testpattern', 'h264'), {
          url,
          token,
          iceAddresses: ['127.0.0.1'],
          retryDelayMs: 100,
          maxRetryDelayMs: 400,
        });
        pushes.push(push);
        const got: string[] = [];
        push.on('error', ({ error, fatal }) => {
          assert.equal(fatal, false);
          got.push(error.code);
        });
        push.start();
        await waitUntil(() => got.length >= count, `${count} failed attempts at ${url}`);
        assert.ok(push.stats.attempts >= count);
        await push.close();
        return got;
      };
      const refused = await codes(`http://127.0.0.1:${source.port}/whip`, 'wrong-token-1234', 2);
      assert.deepEqual(refused.slice(0, 2), ['FW_ERR_UNAUTHORIZED', 'FW_ERR_UNAUTHORIZED']);
      const failing = await codes(`${busy.url}/whip`, TOKEN, 3);
      assert.deepEqual(failing.slice(0, 3), [
        'FW_ERR_CONNECTION_FAILED',
        'FW_ERR_CONNECTION_FAILED',
        'FW_ERR_CONNECTION_FAILED',
      ]);
      assert.deepEqual(seen.slice(0, 2), [409, 503]);
      assert.equal(source.webrtc?.sessions.length, 0, 'no session left on the bridge that refused');
    } finally {
      for (const push of pushes) await push.close();
      await busy.close();
      await source.close();
    }
  });

  it('announces the CLI’s --webrtc-ice-server STUN and TURN servers in OPTIONS Link headers', async () => {
    const stun = await LoopbackStunServer.start();
    process.env['FRAMEWIRE_TURN_CREDENTIAL'] = 'turn-secret-1';
    const cli = await startCli(
      BRIDGE_CLI,
      [
        ...['--port', '0', '--size', '160x120', '--webrtc', '--token', TOKEN],
        ...['--webrtc-ice-server', stun.url, '--webrtc-ice-server', 'turn:127.0.0.1:3478?transport=udp'],
        ...['--webrtc-turn-username', 'turn-user'],
      ],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    delete process.env['FRAMEWIRE_TURN_CREDENTIAL'];
    try {
      const response = await fetch(`http://127.0.0.1:${cli.match[1] ?? ''}/whep`, {
        method: 'OPTIONS',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(response.status, 204);
      assert.equal(
        response.headers.get('link'),
        `<${stun.url}>; rel="ice-server", <turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="turn-user"; credential="turn-secret-1"; credential-type="password"`,
      );
    } finally {
      await cli.stop();
      stun.close();
    }
  });

  it('pushes after the endpoint comes up (backoff), the frames arrive as H.264 that ffprobe decodes, and DELETE at exit', async () => {
    const port = await freePort();
    const dir = await tempDir();
    // Bridge A starts first: its endpoint is not there yet, so it retries.
    const pusher = await startCli(
      BRIDGE_CLI,
      [
        '--port',
        '0',
        '--size',
        '320x240',
        '--fps',
        '15',
        '--keyframe-interval',
        '15',
        '--webrtc-ice-address',
        '127.0.0.1',
        '--whip-push',
        `http://127.0.0.1:${port}/whip`,
        '--whip-push-token',
        TOKEN,
      ],
      /FW_ERR_CONNECTION_FAILED.*publishing again in \d+ ms/,
    );
    const receiver = await BridgeServer.start({
      port,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 5 })],
      mjpeg: false,
      websocket: false,
      token: TOKEN,
      webrtc: { iceAddresses: ['127.0.0.1'] },
    });
    try {
      assert.ok(receiver.webrtc);
      const source = new WebRtcPublishSource(receiver.webrtc, 'pushed');
      receiver.attach(source);
      const frames: { payload: Buffer; key: boolean }[] = [];
      source.on('frame', ({ frame }) => {
        if ('codec' in frame && frame.codec === 'h264') frames.push({ payload: frame.data, key: frame.key });
      });
      await source.start();
      await waitUntil(() => frames.length >= 45, 'bridge B to receive 45 access units from bridge A', 60_000);
      assert.ok(frames[0]?.key, 'the first access unit is a keyframe');
      assert.equal(receiver.webrtc.sessions.filter((s) => s.mode === 'publish').length, 1);
      assert.equal(receiver.webrtc.sessions[0]?.delivery, 'passthrough', 'received as H.264, not decoded');
      const file = await writeH264(join(dir.path, 'pushed.h264'), frames);
      const probe = await ffprobe(file, ['-count_frames']);
      const [stream] = probe.streams;
      assert.equal(stream?.codec_name, 'h264');
      assert.equal(stream.width, 320);
      assert.equal(stream.height, 240);
      assert.ok(Number(stream.nb_read_frames) >= 40, `ffprobe decoded ${stream.nb_read_frames} frames`);
      assert.match(pusher.output(), /publishing testpattern to http:\/\/127\.0\.0\.1:\d+\/whip/);
      await pusher.stop();
      await waitUntil(
        () => receiver.webrtc?.sessions.every((s) => s.mode !== 'publish'),
        'bridge A’s DELETE to end its session on B',
      );
    } finally {
      await pusher.stop();
      await receiver.close();
      await dir.remove();
      await settleWrtc();
    }
  });
});
