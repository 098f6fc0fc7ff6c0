import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type * as Framewire from '@framewire/browser-sdk';
import type { FrameSource, Room } from '@framewire/browser-sdk';
import { NodePeer } from '@framewire/node-bridge';
import { SignalingServer } from '@framewire/signaling';
import { FramewireError } from '@framewire/core';
import { installAvMeter, measureUntilSynced, type playForAv } from '../helpers/av-sync.js';
import { launchChromium } from '../helpers/chromium.js';
import { ffprobe, startCli, tempDir, waitUntil, type StartedCli, type StartedServer } from '../helpers/node.js';
import { isLoopbackCandidate } from '../helpers/ice-loopback.js';
import { openPeerPage, settleWrtc, startSdkServer, wrtc } from '../helpers/peers.js';
import { startCoturn, type Coturn } from '../helpers/signaling.js';
import { trackPeak } from '../helpers/track-peak.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';
const SECRET = 'room-audio-secret-0123456789';

/** What the test keeps on a page's globalThis. */
interface PageState {
  fw: typeof Framewire;
  room: Room;
  isLoopbackCandidate: (candidate: unknown) => boolean;
  /** Remote video sources by peer id, with the audio track their `track` event carried. */
  remote: Record<string, { source: FrameSource; eventAudio: MediaStreamTrack | undefined }>;
  /** `audio` events: peer id and stream id. */
  audioEvents: string[];
  camera?: { close(): Promise<void>; audioTrack?: MediaStreamTrack | undefined };
  playForAv: typeof playForAv;
  av?: { source: FrameSource };
}

/** Joins `room` from a page with loopback candidates only, keeping remote sources and audio events. */
async function joinFromPage(page: Page, url: string, token: string, room: string): Promise<string> {
  // The <script> bundle: it loads mediabunny (the Recorder's) from beside itself.
  await page.addScriptTag({ url: '/sdk/framewire.min.js' });
  return page.evaluate(
    async ({ url, token, room }) => {
      const g = globalThis as unknown as PageState & { Framewire: typeof Framewire };
      g.fw = g.Framewire;
      g.remote = {};
      g.audioEvents = [];
      g.room = await g.fw.Room.open({ url, token, room, iceCandidateFilter: (c) => g.isLoopbackCandidate(c) });
      g.room.on('track', ({ peerId, source, audioTrack }) => {
        if (source) g.remote[peerId] = { source, eventAudio: audioTrack };
      });
      g.room.on('audio', ({ peerId, streamId }) => g.audioEvents.push(`${peerId} ${streamId ?? '?'}`));
      return g.room.peerId;
    },
    { url, token, room },
  );
}

/** In the page: the remote source of `peerId` has an audio track. */
const hasRemoteAudio = (page: Page, peerId: string): Promise<boolean> =>
  page.evaluate(
    (id) => (globalThis as unknown as PageState).remote[id]?.source.audioTrack?.readyState === 'live',
    peerId,
  );

describe('audio in rooms (Chromium pages, the bridge CLI, a real signaling server and coturn on loopback)', () => {
  let browser: Browser;
  let sdk: StartedServer;
  let coturn: Coturn;
  let server: SignalingServer;
  let url: string;
  const pageErrors: string[] = [];
  const pages: Page[] = [];
  const clis: StartedCli[] = [];
  const page = async (): Promise<Page> => {
    const opened = await openPeerPage(browser, sdk.url, pageErrors);
    pages.push(opened);
    return opened;
  };
  const mint = (room: string, role: 'publisher' | 'viewer'): Promise<string> => server.tokens.issue({ room, role });
  const cleanUp = async (): Promise<void> => {
    for (const p of pages.splice(0)) {
      await p.evaluate(async () => {
        const g = globalThis as unknown as PageState;
        await g.camera?.close();
        await (g.room as Room | undefined)?.close();
      });
      await p.close();
    }
    for (const cli of clis.splice(0)) await cli.stop();
  };

  before(async () => {
    sdk = await startSdkServer();
    // Two Chromium pages meet through a TURN relay on 127.0.0.1 (Chromium gathers no loopback host candidates).
    coturn = await startCoturn('room-audio-turn-secret');
    server = await SignalingServer.start({
      port: 0,
      host: '127.0.0.1',
      secret: SECRET,
      allowedOrigins: [sdk.url],
      turn: { urls: [`turn:127.0.0.1:${coturn.port}?transport=udp`], secret: 'room-audio-turn-secret' },
    });
    url = `ws://127.0.0.1:${server.port}/ws`;
    browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  });
  after(async () => {
    await cleanUp();
    await browser.close();
    await server.close();
    await coturn.stop();
    await sdk.close();
    await settleWrtc();
    assert.deepEqual(pageErrors, []);
  });

  it('publish() of a camera opened with audio: the subscriber gets the microphone in the video’s stream, hears it and records it', async () => {
    try {
      const publisher = await page();
      const publisherId = await joinFromPage(publisher, url, await mint('mic', 'publisher'), 'mic');
      // Bad input first: a source whose audio track has ended, and an ended track given to publishTrack().
      const refused = await publisher.evaluate(async () => {
        const g = globalThis as unknown as PageState;
        const camera = await g.fw.CameraSource.open({ width: 320, height: 240, audio: true });
        camera.audioTrack?.stop();
        const out: string[] = [];
        for (const attempt of [
          () => g.room.publish(camera),
          () => g.room.publishTrack(camera.audioTrack!),
          () => g.room.publish(camera, { audio: 'no' as unknown as boolean }),
        ]) {
          try {
            attempt();
            out.push('accepted');
          } catch (error) {
            out.push(`${(error as { code: string }).code}: ${(error as Error).message}`);
          }
        }
        await g.fw.CameraSource.open({ audio: 'yes' as unknown as boolean }).then(
          () => out.push('accepted'),
          (error: unknown) => out.push(`${(error as { code: string }).code}: ${(error as Error).message}`),
        );
        // Without its audio, the same source publishes.
        const videoOnly = g.room.publish(camera, { audio: false });
        await videoOnly.close();
        await camera.close();
        return out;
      });
      assert.equal(refused.length, 4);
      assert.match(refused[0] ?? '', /^FW_ERR_INVALID_OPTION: source\.audioTrack has ended/);
      assert.match(refused[1] ?? '', /^FW_ERR_INVALID_OPTION: track has ended \(a stopped or unplugged audio track\)/);
      assert.match(refused[2] ?? '', /^FW_ERR_INVALID_OPTION: options\.audio must be a boolean/);
      assert.match(
        refused[3] ?? '',
        /^FW_ERR_INVALID_OPTION: options\.audio must be a boolean or MediaTrackConstraints/,
      );

      await publisher.evaluate(async () => {
        const g = globalThis as unknown as PageState;
        const camera = await g.fw.CameraSource.open({ width: 320, height: 240, audio: true });
        g.camera = camera;
        if (camera.audioTrack?.kind !== 'audio') throw new Error('no microphone track');
        g.room.publish(camera);
      });
      const subscriber = await page();
      await joinFromPage(subscriber, url, await mint('mic', 'viewer'), 'mic');
      await waitUntil(() => hasRemoteAudio(subscriber, publisherId), 'the publisher’s audio at the subscriber', 60_000);

      // One media stream for both tracks (one msid in the publisher's offer), and the track event carried the audio.
      const shared = await subscriber.evaluate((id) => {
        const g = globalThis as unknown as PageState;
        const sdp = g.room.link(id)?.pc.remoteDescription?.sdp ?? '';
        const remote = g.remote[id];
        return {
          msids: [...sdp.matchAll(/^a=msid:(\S+) /gm)].map((m) => m[1]),
          sameAsEvent: remote?.eventAudio !== undefined && remote.eventAudio === remote.source.audioTrack,
          audioEvents: g.audioEvents,
        };
      }, publisherId);
      assert.equal(shared.msids.length, 2, 'an audio and a video section');
      assert.equal(new Set(shared.msids).size, 1, `one stream: ${shared.msids.join(', ')}`);
      assert.equal(shared.sameAsEvent, true, 'the track event carried the audio track');
      assert.deepEqual(shared.audioEvents, [`${publisherId} ${shared.msids[0] ?? ''}`]);

      // The fake microphone beeps: an AnalyserNode on the received track hears it.
      const track = await subscriber.evaluateHandle(
        (id) => (globalThis as unknown as PageState).remote[id]?.source.audioTrack,
        publisherId,
      );
      const peak = await trackPeak(subscriber, track, 0.05);
      assert.ok(peak >= 0.05, `the subscriber hears the beeps: peak ${peak}`);

      // The Recorder takes the remote source's audio track, as it takes a BridgeSource's.
      const recording = await subscriber.evaluate(async (id) => {
        const g = globalThis as unknown as PageState;
        const remote = g.remote[id];
        if (!remote) throw new Error('no remote source');
        const recorder = new g.fw.Recorder({ container: 'webm', audio: remote.source.audioTrack });
        await recorder.record(remote.source, { durationMs: 3000 });
        const blob = (await recorder.finalize()) as Blob;
        return [...new Uint8Array(await blob.arrayBuffer())];
      }, publisherId);
      // close() of either source stops its audio track too.
      const ended = await Promise.all([
        subscriber.evaluate(async (id) => {
          const source = (globalThis as unknown as PageState).remote[id]?.source;
          const audio = source?.audioTrack;
          await source?.close();
          return audio?.readyState;
        }, publisherId),
        publisher.evaluate(async () => {
          const camera = (globalThis as unknown as PageState).camera;
          await camera?.close();
          return camera?.audioTrack?.readyState;
        }),
      ]);
      assert.deepEqual(ended, ['ended', 'ended']);
      const folder = await tempDir();
      try {
        const file = join(folder.path, 'room-audio.webm');
        await writeFile(file, Uint8Array.from(recording));
        const probe = await ffprobe(file);
        const kinds = probe.streams.map((s) => s.codec_type).sort();
        assert.deepEqual(kinds, ['audio', 'video'], JSON.stringify(probe.streams));
        assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'opus');
      } finally {
        await folder.remove();
      }
      assert.deepEqual(pageErrors, []);
    } finally {
      await cleanUp();
    }
  });

  it('the bridge’s room peer publishes its source’s tone (--audio tone) in its video’s stream: a page hears it in sync with the flashes', async (t) => {
    try {
      process.env['FRAMEWIRE_ROOM_TOKEN'] = await mint('tone', 'publisher');
      let cli: StartedCli & { match: RegExpMatchArray };
      try {
        cli = await startCli(
          CLI,
          [
            ...['--source', 'testpattern', '--size', '320x240', '--fps', '30', '--audio', 'tone', '--port', '0'],
            ...['--room-url', url, '--room', 'tone', '--webrtc-ice-address', '127.0.0.1', '--log-level', 'info'],
          ],
          /joined room "tone" as (\S+)/,
          60_000,
        );
      } finally {
        delete process.env['FRAMEWIRE_ROOM_TOKEN'];
      }
      clis.push(cli);
      const bridgePeerId = cli.match[1] ?? '';
      const viewer = await page();
      await joinFromPage(viewer, url, await mint('tone', 'viewer'), 'tone');
      await installAvMeter(viewer);
      await waitUntil(() => hasRemoteAudio(viewer, bridgePeerId), 'the bridge’s audio track in the page', 60_000);
      const msids = await viewer.evaluate((id) => {
        const g = globalThis as unknown as PageState;
        const sdp = g.room.link(id)?.pc.remoteDescription?.sdp ?? '';
        return [...sdp.matchAll(/^a=msid:(\S+) /gm)].map((m) => m[1]);
      }, bridgePeerId);
      assert.equal(msids.length, 2, 'an audio and a video section');
      assert.equal(new Set(msids).size, 1, `one stream: ${msids.join(', ')}`);
      // Plays the audio and the frames as a viewer would, then measures the beeps against the flashes.
      await viewer.evaluate(async (id) => {
        const g = globalThis as unknown as PageState;
        const remote = g.remote[id];
        if (!remote) throw new Error('no remote source');
        await g.playForAv({ read: () => remote.source.read(), audioTrack: remote.source.audioTrack });
      }, bridgePeerId);
      const synced = await measureUntilSynced(viewer, t);
      assert.ok(synced.result.peak > 0.2, `the beep is loud: ${synced.result.peak}`);
      assert.deepEqual(pageErrors, []);
    } finally {
      await cleanUp();
    }
  });

  it('NodePeer.publishVideo({ audio: true }) takes 10 ms PCM chunks and refuses others; without audio, pushAudio() is refused', async () => {
    const peer = await NodePeer.open({
      url,
      room: 'node-audio',
      token: await mint('node-audio', 'publisher'),
      wrtc,
      iceCandidateFilter: isLoopbackCandidate,
    });
    try {
      const withAudio = peer.publishVideo({ audio: true });
      withAudio.pushAudio({ samples: new Int16Array(480) });
      withAudio.pushAudio({ samples: new Int16Array(960), channelCount: 2 });
      const code = (error: unknown): string | undefined => (error instanceof FramewireError ? error.code : undefined);
      assert.throws(
        () => withAudio.pushAudio({ samples: new Int16Array(960) }),
        (error: unknown) => code(error) === 'FW_ERR_INVALID_OPTION' && String(error).includes('10 ms of 16-bit PCM'),
      );
      const videoOnly = peer.publishVideo();
      assert.throws(
        () => videoOnly.pushAudio({ samples: new Int16Array(480) }),
        (error: unknown) => code(error) === 'FW_ERR_CLOSED',
      );
      assert.throws(
        () => peer.publishVideo({ audio: 1 as unknown as boolean }),
        (error: unknown) => code(error) === 'FW_ERR_INVALID_OPTION',
      );
      await withAudio.close();
      assert.throws(
        () => withAudio.pushAudio({ samples: new Int16Array(480) }),
        (error: unknown) => code(error) === 'FW_ERR_CLOSED',
      );
    } finally {
      await peer.close();
    }
  });
});
