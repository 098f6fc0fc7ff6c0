import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import WebSocket from 'ws';
import { BridgeServer, createTestPatternSource, type BridgeHealth } from '@framewire/node-bridge';
import { decodeWsAudio, decodeWsFrame, parseWsServerMessage } from '@framewire/node-bridge/protocol';
import { installAvMeter, measureUntilSynced, type avMeter, type playForAv } from '../helpers/av-sync.js';
import { launchChromium } from '../helpers/chromium.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ffprobe, makeMediaFile, runCli, startCli, tempDir, waitUntil, type StartedServer } from '../helpers/node.js';
import { openPeerPage, startSdkServer } from '../helpers/peers.js';

/** The SDK's global (the parts used here). */
interface PageSource {
  read(): Promise<VideoFrame | null>;
  close(): Promise<void>;
  audioTrack: MediaStreamTrack | undefined;
  stats: { audioPackets?: number };
}
declare const Framewire: {
  BridgeSource: { open(options: unknown): Promise<PageSource> };
  CameraSource: { open(options: unknown): Promise<PageSource> };
  Recorder: new (options: unknown) => {
    record(source: PageSource, options: unknown): Promise<void>;
    finalize(): Promise<Blob>;
  };
  openSource(spec: unknown): Promise<PageSource>;
};

declare global {
  interface Window {
    isLoopbackCandidate: (candidate: string) => boolean;
    avMeter: typeof avMeter;
    /** Set by the BridgeSource and WhepSource tests: the source, its video element and audio track. */
    av: { video: HTMLVideoElement; audio: MediaStreamTrack; source: PageSource };
    playForAv: typeof playForAv;
    /** Set by `openAvViewer`: the viewer's connection and its tracks. */
    avViewer: { pc: RTCPeerConnection; video: MediaStreamTrack; audio: MediaStreamTrack; streams: string[] };
  }
}

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

async function health(port: string): Promise<BridgeHealth> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as BridgeHealth;
}

/** Runs the bridge CLI with `args` until its first source has `packets` audio packets and `frames` frames. */
async function expectAudioPackets(args: string[], packets: number, frames: number): Promise<BridgeHealth> {
  const bridge = await startCli(BRIDGE, ['--port', '0', ...args], LISTENING);
  try {
    const port = bridge.match[1] ?? '';
    await waitUntil(
      async () => {
        const source = (await health(port)).sources[0];
        return (source?.audioPackets ?? 0) >= packets && (source?.frames ?? 0) >= frames;
      },
      `${packets} audio packets and ${frames} frames in /health`,
      60_000,
    );
    return await health(port);
  } finally {
    assert.equal(await bridge.stop(), 0, bridge.output());
  }
}

describe('bridge audio sources', () => {
  it('--audio tone: the test pattern produces Opus packets beside its frames', async () => {
    // Nothing consumes the pattern here, so it runs all the time (it runs on demand otherwise: bridge-encoders).
    const seen = await expectAudioPackets(
      ['--size', '320x240', '--fps', '15', '--audio', 'tone', '--pattern-always-on'],
      50,
      15,
    );
    assert.equal(seen.sources[0]?.lastError, undefined);
  });

  it('--audio source: the AAC track of a file is encoded to Opus by the ffmpeg that reads its video', async () => {
    const folder = await tempDir();
    try {
      const clip = await makeMediaFile({ path: join(folder.path, 'clip.mp4'), durationS: 4, audio: true });
      const seen = await expectAudioPackets(['--source', `file:${clip}#id=clip`, '--audio', 'source'], 100, 60);
      // The AAC is encoded to Opus.
      assert.deepEqual([seen.sources[0]?.id, seen.sources[0]?.audioMode], ['clip', 'encode']);
    } finally {
      await folder.remove();
    }
  });

  it('a missing ALSA device is reported as FW_ERR_DEVICE_NOT_FOUND in /health and the video keeps flowing', async () => {
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '320x240', '--fps', '15', '--source', 'testpattern#id=cam&audio=alsa:hw:97,0'],
      LISTENING,
    );
    try {
      const port = bridge.match[1] ?? '';
      await waitUntil(
        async () => (await health(port)).sources[0]?.lastError === 'FW_ERR_DEVICE_NOT_FOUND',
        'FW_ERR_DEVICE_NOT_FOUND in /health',
        60_000,
      );
      const before = (await health(port)).sources[0]?.frames ?? 0;
      await waitUntil(
        async () => ((await health(port)).sources[0]?.frames ?? 0) > before + 15,
        'frames after the audio failure',
        60_000,
      );
      const source = (await health(port)).sources[0];
      assert.deepEqual([source?.id, source?.state, source?.audioPackets], ['cam', 'running', 0]);
      const snapshot = await fetch(`http://127.0.0.1:${port}/snapshot.jpg`);
      assert.equal(snapshot.status, 200);
    } finally {
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  for (const args of [
    ['--audio', 'beep'],
    ['--audio', 'source'], // the test pattern has no audio track
    ['--source', 'file:clip.mp4', '--audio', 'tone'], // only the test pattern beeps
    ['--source', 'testpattern#audio=alsa:'],
    ['--source', 'testpattern#id=a&volume=3'],
  ]) {
    it(`refuses ${args.join(' ')} with FW_ERR_INVALID_OPTION`, async () => {
      const result = await runCli(BRIDGE, ['--port', '0', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^framewire-bridge: FW_ERR_INVALID_OPTION: .*(audio|suffix)/);
    });
  }
});

/** In the page: a WebRTC viewer that offers recvonly video and audio to `url` and plays the audio. */
async function openAvViewer(page: Page, url: string): Promise<{ status: number; body: string }> {
  return page.evaluate(async (offerUrl) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const tracks = new Map<string, MediaStreamTrack>();
    const streams: string[] = [];
    pc.ontrack = (event) => {
      tracks.set(event.track.kind, event.track);
      streams.push(...event.streams.map((s) => s.id));
    };
    await pc.setLocalDescription(await pc.createOffer());
    const loopback = (sdp: string): string =>
      sdp
        .split('\r\n')
        .filter((line) => !line.startsWith('a=candidate:') || window.isLoopbackCandidate(line))
        .join('\r\n');
    const response = await fetch(offerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: loopback(pc.localDescription?.sdp ?? ''),
    });
    const body = await response.text();
    if (response.status !== 201) return { status: response.status, body };
    await pc.setRemoteDescription({ type: 'answer', sdp: loopback(body) });
    const video = tracks.get('video');
    const audio = tracks.get('audio');
    if (!video || !audio) throw new Error(`tracks: ${[...tracks.keys()].join(', ')}`);
    const player = document.createElement('audio');
    player.srcObject = new MediaStream([audio]);
    document.body.append(player);
    await player.play();
    window.avViewer = { pc, video, audio, streams };
    return { status: 201, body };
  }, url);
}

/** In the page: the viewer's inbound audio energy and packets so far (getStats). */
async function audioStats(page: Page): Promise<{ energy: number; packets: number; codec: string }> {
  return page.evaluate(async () => {
    const report = await window.avViewer.pc.getStats();
    let energy = 0;
    let packets = 0;
    let codecId = '';
    report.forEach(
      (s: { type: string; kind?: string; totalAudioEnergy?: number; packetsReceived?: number; codecId?: string }) => {
        if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
        energy = s.totalAudioEnergy ?? 0;
        packets = s.packetsReceived ?? 0;
        codecId = s.codecId ?? '';
      },
    );
    const codec = (report.get(codecId) as { mimeType?: string } | undefined)?.mimeType ?? '';
    return { energy, packets, codec };
  });
}

/** ffmpeg's volumedetect of `file`'s audio (its report is on stderr, returned as `stdout`). */
async function runFfmpegVolume(file: string): Promise<{ stdout: string }> {
  const { stderr } = await promisify(execFile)('ffmpeg', [
    ...['-hide_banner', '-nostats', '-i', file, '-map', '0:a:0', '-af', 'volumedetect', '-f', 'null', '-'],
  ]);
  return { stdout: stderr };
}

/** Reads a bridge WebSocket until `frames` video frames arrived: what else came with them. */
async function readWebSocket(
  url: string,
  frames: number,
): Promise<{ texts: string[]; audio: { sequence: number; timestampUs: number; bytes: number }[]; other: number }> {
  const socket = new WebSocket(url);
  const texts: string[] = [];
  const audio: { sequence: number; timestampUs: number; bytes: number }[] = [];
  let video = 0;
  let other = 0;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      texts.push(data.toString());
      return;
    }
    const bytes = new Uint8Array(data);
    const packet = decodeWsAudio(bytes);
    if (packet) audio.push({ ...packet.header, bytes: packet.payload.byteLength });
    else if (decodeWsFrame(bytes)) video++;
    else other++;
  });
  try {
    await waitUntil(() => video >= frames, `${frames} frames on ${url}`, 60_000);
  } finally {
    socket.close();
  }
  return { texts, audio, other };
}

/** In the page: plays `window.av`'s audio and shows frames read from `source` in a video element. */
async function playSource(page: Page): Promise<void> {
  await page.evaluate(() => window.playForAv((window as unknown as { source: PageSource }).source));
}

describe('bridge audio to WebRTC passthrough viewers (Chromium, loopback)', () => {
  let browser: Browser;
  let sdk: StartedServer;
  let bridge: BridgeServer;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    sdk = await startSdkServer();
    browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
    bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 640, height: 360, frameRate: 30, audio: 'tone' })],
      mjpeg: false,
      websocket: true,
      webrtc: { iceAddresses: ['127.0.0.1'] },
    });
    page = await openPeerPage(browser, sdk.url, errors);
    await installAvMeter(page);
  });

  after(async () => {
    await browser.close();
    await sdk.close();
    await bridge.close();
  });

  it('sends the tone as Opus in the media stream of the video: the receiver hears energy, in sync with the flashes', async (t) => {
    const opened = await openAvViewer(page, `http://127.0.0.1:${bridge.port}/offer`);
    assert.equal(opened.status, 201, opened.body);
    assert.match(opened.body, /^m=audio \d+ [\w/]+ 111/m, 'the answer accepts the audio section');
    assert.match(opened.body, /^a=rtpmap:111 opus\/48000\/2/m);
    const msids = [...opened.body.matchAll(/^a=msid:(\S+) /gm)].map((m) => m[1]);
    assert.equal(msids.length, 2, opened.body);
    assert.equal(new Set(msids).size, 1, 'one media stream for audio and video');
    const streams = await page.evaluate(() => window.avViewer.streams);
    assert.equal(new Set(streams).size, 1, `the page sees one stream: ${streams.join(', ')}`);
    const first = await audioStats(page);
    const heard = await waitUntil(
      async () => {
        const stats = await audioStats(page);
        return stats.energy > first.energy + 0.01 && stats.packets > 100 ? stats : undefined;
      },
      'audio energy at the receiver',
      60_000,
    );
    assert.equal(heard.codec, 'audio/opus');
    // Chromium's lip sync moves the video's delay step by step (tens of ms a second) once sender reports pair the
    // two streams: measure 4 s windows (4 flashes each) until one is within the bound.
    await page.evaluate(async () => {
      const video = document.createElement('video');
      video.muted = true;
      video.srcObject = new MediaStream([window.avViewer.video]);
      document.body.append(video);
      await video.play();
      // A bare peer connection: nothing to close but the connection, at the end of the file.
      window.av = { video, audio: window.avViewer.audio.clone(), source: undefined as unknown as PageSource };
    });
    const synced = await measureUntilSynced(page, t);
    assert.ok(synced.result.peak > 0.2, `the beep is loud: ${synced.result.peak}`);
    assert.deepEqual(errors, []);
  });

  it('BridgeSource (WebSocket, audio: true) decodes the Opus into a track that plays the tone in sync with the flashes', async (t) => {
    const sdkPage = await openPeerPage(browser, sdk.url, errors);
    try {
      await sdkPage.addScriptTag({ url: '/sdk/framewire.min.js' });
      await installAvMeter(sdkPage);
      await sdkPage.evaluate(async (url) => {
        (window as unknown as { source: PageSource }).source = await Framewire.BridgeSource.open({ url, audio: true });
      }, `http://127.0.0.1:${bridge.port}/`);
      await playSource(sdkPage);
      const synced = await measureUntilSynced(sdkPage, t);
      assert.ok(synced.result.peak > 0.2, `the beep is loud: ${synced.result.peak}`);
      const packets = await sdkPage.evaluate(
        () => (window as unknown as { source: PageSource }).source.stats.audioPackets ?? 0,
      );
      assert.ok(packets > 100, `${packets} audio packets`);
      // The Recorder takes the bridge's audio track like a microphone's (here beside the fake camera's video).
      const recording = await sdkPage.evaluate(async () => {
        const camera = await Framewire.CameraSource.open({ width: 320, height: 240 });
        const recorder = new Framewire.Recorder({ container: 'webm', audio: window.av.audio });
        await recorder.record(camera, { durationMs: 3000 });
        const blob = await recorder.finalize();
        await camera.close();
        return [...new Uint8Array(await blob.arrayBuffer())];
      });
      const folder = await tempDir();
      try {
        const file = join(folder.path, 'bridge-audio.webm');
        await writeFile(file, Uint8Array.from(recording));
        const probe = await ffprobe(file);
        const audio = probe.streams.find((stream) => stream.codec_type === 'audio');
        assert.equal(audio?.codec_name, 'opus', JSON.stringify(probe.streams));
        const { stdout } = await runFfmpegVolume(file);
        assert.ok(Number(/max_volume: (-?[\d.]+) dB/.exec(stdout)?.[1] ?? -99) > -20, `the recording beeps: ${stdout}`);
      } finally {
        await folder.remove();
      }
      await sdkPage.evaluate(() => window.av.source.close());
      assert.equal(await sdkPage.evaluate(() => window.av.audio.readyState), 'ended', 'close() ends the audio track');
      assert.deepEqual(errors, []);
    } finally {
      await sdkPage.close();
    }
  });

  it('WhepSource (audio: true) exposes the audio track the bridge sends beside the video', async (t) => {
    const sdkPage = await openPeerPage(browser, sdk.url, errors);
    try {
      await sdkPage.addScriptTag({ url: '/sdk/framewire.min.js' });
      await installAvMeter(sdkPage);
      await sdkPage.evaluate(async (url) => {
        (window as unknown as { source: PageSource }).source = await Framewire.openSource({
          bridge: { url, transport: 'webrtc', audio: true, candidateFilter: window.isLoopbackCandidate },
        });
      }, `http://127.0.0.1:${bridge.port}/`);
      await playSource(sdkPage);
      const synced = await measureUntilSynced(sdkPage, t);
      assert.ok(synced.result.peak > 0.2, `the beep is loud: ${synced.result.peak}`);
      await sdkPage.evaluate(() => window.av.source.close());
      assert.deepEqual(errors, []);
    } finally {
      await sdkPage.close();
    }
  });

  it('--audio source with an Opus track (60 ms frames, Matroska): the Opus is copied, no encoder runs, and the viewer hears it', async () => {
    const folder = await tempDir();
    try {
      const clip = join(folder.path, 'opus.mkv');
      // libopus with 60 ms frames (the bridge's own encoder writes 20 ms): the packets keep their own durations.
      await promisify(execFile)('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15:duration=60'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=60'],
        ...['-c:v', 'libx264', '-bf', '0', '-pix_fmt', 'yuv420p', '-g', '15'],
        ...['-c:a', 'libopus', '-frame_duration', '60', clip],
      ]);
      const cli = await startCli(
        BRIDGE,
        [
          ...['--port', '0', '--source', `file:${clip}#id=opus`, '--audio', 'source'],
          ...['--webrtc', '--webrtc-ice-address', '127.0.0.1'],
        ],
        LISTENING,
      );
      try {
        const port = cli.match[1] ?? '';
        await waitUntil(
          async () => ((await health(port)).sources[0]?.audioPackets ?? 0) >= 20,
          'audio packets in /health',
          60_000,
        );
        const source = (await health(port)).sources[0];
        assert.deepEqual([source?.videoMode, source?.audioMode], ['passthrough', 'passthrough']);
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(metrics, /^framewire_source_passthrough\{source="opus",kind="url",media="audio"\} 1$/m);
        assert.match(cli.output(), /"opus": video passed through .*; audio passed through \(Opus, mono\)/);
        const ws = await readWebSocket(`ws://127.0.0.1:${port}/sources/opus/ws?audio=1`, 30);
        assert.ok(ws.audio.length >= 5, `${ws.audio.length} audio packets`);
        for (const [i, packet] of ws.audio.entries())
          if (i > 0)
            assert.equal(packet.timestampUs - (ws.audio[i - 1]?.timestampUs ?? 0), 60_000, 'one 60 ms packet each');
        const viewer = await openPeerPage(browser, sdk.url, errors);
        try {
          const opened = await openAvViewer(viewer, `http://127.0.0.1:${port}/sources/opus/offer`);
          assert.equal(opened.status, 201, opened.body);
          const first = await audioStats(viewer);
          const heard = await waitUntil(
            async () => {
              const stats = await audioStats(viewer);
              return stats.energy > first.energy + 0.01 && stats.packets > 50 ? stats : undefined;
            },
            'audio energy at the receiver',
            60_000,
          );
          assert.equal(heard.codec, 'audio/opus');
          await viewer.evaluate(() => window.avViewer.pc.close());
        } finally {
          await viewer.close();
        }
      } finally {
        assert.equal(await cli.stop(), 0, cli.output());
      }
      assert.deepEqual(errors, []);
    } finally {
      await folder.remove();
    }
  });

  it('WebSocket: a viewer that asks (?audio=1) gets the audio config and Opus packets; one that does not, none', async () => {
    const base = `ws://127.0.0.1:${bridge.port}/ws`;
    const [old, asking] = await Promise.all([readWebSocket(base, 45), readWebSocket(`${base}?audio=1`, 45)]);
    assert.deepEqual(old.audio, [], 'no audio message for a viewer that did not ask');
    assert.equal(old.other, 0);
    assert.ok(!old.texts.some((text) => text.includes('audio-config')));
    const config = asking.texts.map((text) => parseWsServerMessage(text)).find((m) => m?.type === 'audio-config');
    assert.deepEqual(config, { type: 'audio-config', codec: 'opus', sampleRate: 48000, numberOfChannels: 1 });
    assert.ok(asking.audio.length >= 50, `${asking.audio.length} audio packets`);
    assert.equal(asking.other, 0);
    for (const [i, packet] of asking.audio.entries()) {
      assert.equal(packet.sequence, i);
      assert.ok(packet.bytes > 0);
      if (i > 0) assert.equal(packet.timestampUs - (asking.audio[i - 1]?.timestampUs ?? 0), 20_000);
    }
  });
});
