import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { BridgeServer, createTestPatternSource, type WebRtcOutput } from '@framewire/node-bridge';
import { launchChromium } from '../helpers/chromium.js';
import { waitUntil, type StartedServer } from '../helpers/node.js';
import { openPeerPage, settleWrtc, startSdkServer } from '../helpers/peers.js';
import { errorCode } from '../helpers/http-error.js';
import { decodesMore, type InboundVideoStats } from '../helpers/page-video-stats.js';

/** Helpers installed in a page (see `installViewers`). */
interface PageViewers {
  /** Offers (recvonly video, only `codecs` when given) to `url`; resolves to the viewer's index or the refusal. */
  open(url: string, codecs?: string[]): Promise<{ index: number; status: number; body: string; location: string }>;
  stats(index: number): Promise<InboundVideoStats>;
}
declare const Framewire: {
  openSource(spec: unknown): Promise<{
    read(): Promise<VideoFrame | null>;
    close(): Promise<void>;
    stats: { latencyP50Ms?: number };
  }>;
};
declare global {
  interface Window {
    /** Set by openPeerPage (test/helpers/peers.ts). */
    isLoopbackCandidate: (candidate: string) => boolean;
    fw: PageViewers;
  }
}

/** Defines `window.fw` in `page`: RTCPeerConnection viewers that POST their offers to the bridge. */
async function installViewers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const pcs: RTCPeerConnection[] = [];
    window.fw = {
      async open(url, codecs) {
        const pc = new RTCPeerConnection();
        const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
        if (codecs) {
          const all = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
          transceiver.setCodecPreferences(all.filter((c) => codecs.includes(c.mimeType)));
        }
        await pc.setLocalDescription(await pc.createOffer());
        const sdp = (pc.localDescription?.sdp ?? '')
          .split('\r\n')
          .filter((line) => !line.startsWith('a=candidate:') || window.isLoopbackCandidate(line))
          .join('\r\n');
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: sdp,
        });
        const body = await response.text();
        if (response.status !== 201) {
          pc.close();
          return { index: -1, status: response.status, body, location: '' };
        }
        const answer = body
          .split('\r\n')
          .filter((line) => !line.startsWith('a=candidate:') || window.isLoopbackCandidate(line))
          .join('\r\n');
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
        pcs.push(pc);
        return { index: pcs.length - 1, status: 201, body, location: response.headers.get('location') ?? '' };
      },
      async stats(index) {
        const pc = pcs[index];
        if (!pc) throw new Error(`no viewer ${index}`);
        return window.inboundVideoStats(pc);
      },
    };
  });
}

describe('WebRTC H.264 passthrough viewers (werift in the bridge process) with Chromium', () => {
  let browser: Browser;
  let sdk: StartedServer;
  let bridge: BridgeServer;
  let base: string;
  let page: Page;
  const errors: string[] = [];
  /** Every UDP destination the test process (the bridge) sent to. */
  const destinations = new Set<string>();
  type Send = (this: dgram.Socket, ...args: unknown[]) => void;
  const originalSend = Object.getOwnPropertyDescriptor(dgram.Socket.prototype, 'send')?.value as Send;

  function output(): WebRtcOutput {
    assert.ok(bridge.webrtc, 'the bridge serves WebRTC');
    return bridge.webrtc;
  }

  /** Waits until viewer `index` of `p` has decoded `count` more frames than now; returns its stats. */
  function viewerDecodes(p: Page, index: number, count: number, what: string): Promise<InboundVideoStats> {
    return decodesMore(() => p.evaluate((i) => window.fw.stats(i), index), count, what, 30_000);
  }

  async function metrics(): Promise<string> {
    return (await fetch(`${base}/metrics`)).text();
  }

  before(async () => {
    // Record where the bridge's UDP goes: nowhere but this machine (no public STUN server).
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
      const address = args.find((a, i) => i > 0 && typeof a === 'string' && /^[\d.:a-f]+$/i.test(a));
      if (typeof address === 'string') destinations.add(address);
      originalSend.apply(this, args);
    } as typeof dgram.Socket.prototype.send;
    sdk = await startSdkServer();
    browser = await launchChromium();
    bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 640, height: 360, frameRate: 15 })],
      mjpeg: false,
      websocket: false,
      // A 10 s group of pictures: a late joiner that had to wait for the next keyframe would take seconds.
      h264: { keyframeIntervalFrames: 150 },
      webrtc: { iceAddresses: ['127.0.0.1'], viewerTimeoutMs: 3000, restartDelayMs: 1000 },
    });
    base = `http://127.0.0.1:${bridge.port}`;
    page = await openPeerPage(browser, sdk.url, errors);
    await installViewers(page);
    await waitUntil(() => output().ready, 'the WebRTC worker', 15_000);
  });

  after(async () => {
    dgram.Socket.prototype.send = originalSend as typeof dgram.Socket.prototype.send;
    await browser.close();
    await sdk.close();
    await bridge.close();
    await settleWrtc();
  });

  it('serves 10 viewers one H.264 feed: all decode H.264, one encoder, no VP8 session', async () => {
    const opened = await Promise.all(
      Array.from({ length: 10 }, () => page.evaluate((url) => window.fw.open(url), `${base}/offer`)),
    );
    for (const o of opened) {
      assert.equal(o.status, 201, o.body);
      assert.match(o.location, /^\/offer\/[\w-]+$/);
    }
    for (const { index } of opened) {
      const stats = await viewerDecodes(page, index, 10, `viewer ${index} to decode 10 frames`);
      assert.equal(stats.codec, 'video/H264');
    }
    assert.equal(output().stats.passthroughClients, 10);
    assert.equal(output().stats.workerSessions, 0, 'no VP8 session in the worker');
    assert.ok(output().sessions.every((s) => s.delivery === 'passthrough'));
    const text = await metrics();
    const encoders = text.split('\n').filter((l) => l.startsWith('framewire_encoder_running{') && l.endsWith(' 1'));
    assert.deepEqual(encoders, ['framewire_encoder_running{source="testpattern",format="h264",codec="libx264"} 1']);
    assert.equal(bridge.feed('testpattern', 'h264').stats.subscribers, 1, 'the H.264 feed is read once');
    const bytes = text.split('\n').filter((l) => l.startsWith('framewire_webrtc_viewer_bytes_total{'));
    assert.equal(bytes.length, 10);
    assert.ok(
      bytes.every((l) => Number(l.split(' ').at(-1)) > 10_000),
      bytes.join('\n'),
    );
    assert.equal(text.split('\n').filter((l) => l.startsWith('framewire_webrtc_viewer_nacks_total{')).length, 10);
    assert.equal(text.split('\n').filter((l) => l.startsWith('framewire_webrtc_viewer_plis_total{')).length, 10);
  });

  it('gives a viewer joining mid-group a picture before the next keyframe', async () => {
    // The keyframe interval is 10 s. Join at least 1.5 s after a keyframe, and count the keyframes the source
    // gives until the joiner decodes: it gets the group of pictures so far when it connects, not the next one.
    // A keyframe the encoder makes out of turn (it restarted, on a starved machine) proves nothing either way:
    // such a join is tried again, up to three joins.
    const feed = bridge.feed('testpattern', 'h264');
    let keyframes = 0;
    const stop = feed.subscribe((frame) => {
      if ('key' in frame && frame.key) keyframes++;
    });
    const joins: string[] = [];
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        await waitUntil(
          () => {
            const key = feed.latestKey;
            return key !== undefined && Date.now() - key.captureTimeMs > 1500;
          },
          'a moment well inside a group of pictures',
          15_000,
        );
        keyframes = 0;
        const restarts = feed.stats.transcoderRestarts;
        const joined = await page.evaluate((url) => window.fw.open(url), `${base}/offer`);
        assert.equal(joined.status, 201, joined.body);
        const stats = await viewerDecodes(page, joined.index, 1, 'the late joiner’s first frame');
        assert.equal(stats.codec, 'video/H264');
        const restarted = feed.stats.transcoderRestarts - restarts;
        joins.push(`${keyframes} keyframes, ${restarted} encoder restarts`);
        if (keyframes === 0 || restarted === 0) break;
      }
      assert.equal(keyframes, 0, `the joiner decoded before the next keyframe (joins: ${joins.join('; ')})`);
    } finally {
      stop();
    }
  });

  it('keeps the other viewers going when a viewer’s page is closed abruptly', async () => {
    const doomed = await openPeerPage(browser, sdk.url, errors);
    await installViewers(doomed);
    const gone = await doomed.evaluate((url) => window.fw.open(url), `${base}/offer`);
    assert.equal(gone.status, 201, gone.body);
    await viewerDecodes(doomed, gone.index, 5, 'the doomed viewer to decode');
    const before = output().stats.passthroughClients;
    await doomed.close();
    // No DELETE: the bridge notices the silence (no RTCP) and drops the session.
    await waitUntil(
      () => output().stats.passthroughClients === before - 1,
      'the closed page’s session to be dropped',
      30_000,
    );
    for (let index = 0; index < 11; index++) await viewerDecodes(page, index, 10, `viewer ${index} to keep decoding`);
  });

  it('refuses an offer with neither H.264 nor VP8 (400 FW_ERR_CODEC_UNSUPPORTED) and keeps serving', async () => {
    const refused = await page.evaluate(
      (url) => window.fw.open(url, ['video/VP9', 'video/AV1']),
      `${base}/sources/testpattern/offer`,
    );
    assert.equal(refused.status, 400, refused.body);
    assert.equal(errorCode(refused.body), 'FW_ERR_CODEC_UNSUPPORTED');
    assert.equal((await fetch(`${base}/health`)).status, 200);
    await viewerDecodes(page, 0, 10, 'viewer 0 to keep decoding');
  });

  it('serves viewers without H.264 the one shared VP8 encode (not the worker), stopped after the last', async () => {
    const vp8 = await Promise.all(
      Array.from({ length: 3 }, () =>
        page.evaluate((url) => window.fw.open(url, ['video/VP8']), `${base}/sources/testpattern/offer`),
      ),
    );
    for (const viewer of vp8) {
      assert.equal(viewer.status, 201, viewer.body);
      const stats = await viewerDecodes(page, viewer.index, 10, `VP8 viewer ${viewer.index} to decode`);
      assert.equal(stats.codec, 'video/VP8');
    }
    assert.equal(output().stats.workerSessions, 0, 'no session in the wrtc worker');
    const vp8Sessions = output().passthroughSessions.filter((s) => s.codec === 'vp8');
    assert.equal(vp8Sessions.length, 3);
    const running = (await metrics()).split('\n').filter((l) => /^framewire_encoder_running\{.*\} 1$/.test(l));
    assert.deepEqual(
      running.filter((l) => l.includes('format="vp8"')),
      ['framewire_encoder_running{source="testpattern",format="vp8",codec="libvpx"} 1'],
    );
    assert.equal(bridge.feed('testpattern', 'vp8').stats.subscribers, 1, 'the VP8 feed is read once');
    for (const viewer of vp8) {
      const deleted = await fetch(new URL(viewer.location, base), { method: 'DELETE' });
      assert.equal(deleted.status, 204);
    }
    await waitUntil(
      async () =>
        (await metrics()).includes('framewire_encoder_running{source="testpattern",format="vp8",codec="libvpx"} 0'),
      'the VP8 encoder to stop after its last viewer',
      60_000,
    );
    await viewerDecodes(page, 0, 10, 'the H.264 viewers to keep decoding');
  });

  it('serves the SDK’s WhepSource: frames decoded, capture times from fw.meta', async () => {
    const sdkPage = await openPeerPage(browser, sdk.url, errors);
    await sdkPage.addScriptTag({ url: '/sdk/framewire.min.js' });
    const viewed = await sdkPage.evaluate(async (url: string) => {
      const source = await Framewire.openSource({
        bridge: { url, transport: 'webrtc', candidateFilter: window.isLoopbackCandidate },
      });
      const sizes: string[] = [];
      // The passthrough metas carry each frame's RTP timestamp: the capture clock maps frames once the fw.meta
      // channel is open, which on a busy machine can be after the first frames.
      const deadline = performance.now() + 60_000;
      while (sizes.length < 80 || (source.stats.latencyP50Ms === undefined && performance.now() < deadline)) {
        const frame = await source.read();
        if (!frame) break;
        sizes.push(`${frame.displayWidth}x${frame.displayHeight}`);
        frame.close();
      }
      const { latencyP50Ms } = source.stats;
      await source.close();
      return { sizes, latencyP50Ms, kind: (source as unknown as { kind: string }).kind };
    }, `${base}/`);
    assert.equal(viewed.kind, 'whep', 'a WhepSource says what it is (a BridgeSource is bridge)');
    assert.ok(viewed.sizes.length >= 80, `${viewed.sizes.length} frames`);
    assert.deepEqual(new Set(viewed.sizes), new Set(['640x360']));
    assert.ok(
      viewed.latencyP50Ms !== undefined && viewed.latencyP50Ms >= 0 && viewed.latencyP50Ms < 2000,
      `latency ${viewed.latencyP50Ms}`,
    );
    await sdkPage.close();
  });

  it('releases the H.264 feed after the last viewer leaves; no UDP left this machine', async () => {
    for (const session of output().passthroughSessions) {
      const deleted = await fetch(`${base}/offer/${session.id}`, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
    }
    assert.equal(output().stats.passthroughClients, 0);
    await waitUntil(() => bridge.feed('testpattern', 'h264').stats.subscribers === 0, 'the feed to be released');
    const replayed = await fetch(`${base}/offer/${output().sessions[0]?.id ?? 'gone'}`, { method: 'DELETE' });
    assert.equal(replayed.status, 404);
    const local = new Set(
      Object.values(networkInterfaces())
        .flat()
        .map((i) => i?.address),
    );
    assert.ok(destinations.size > 0, 'the bridge sent UDP');
    for (const address of destinations) assert.ok(local.has(address), `UDP sent to ${address}, off this machine`);
    assert.deepEqual(errors, []);
  });
});
