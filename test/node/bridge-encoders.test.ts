// The bridge's shared encoders, observed through /metrics with real ffmpeg: one encoder per source and format,
// started by its first consumer (whatever the output), stopped after its last; a source that already has the
// format is never re-encoded; VP8 viewers share one libvpx encode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  BridgeServer,
  FrameFeed,
  LoopbackStunServer,
  createTestPatternSource,
  createUrlSource,
  probeMedia,
  type BridgeHealth,
  type FramewireError,
  type VideoSource,
} from '@framewire/node-bridge';
import { WsViewer, runningEncodersOf } from '../helpers/bridge.js';
import { makeMediaFile, runCli, startCli, startServer, tempDir, waitUntil } from '../helpers/node.js';
import { openWeriftViewer } from '../helpers/werift-viewer.mjs';

type WeriftViewer = Awaited<ReturnType<typeof openWeriftViewer>>;

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';

/** The `framewire_encoder_running` samples of `metrics`, as `format/codec → value`. */
function encoders(metrics: string): Map<string, number> {
  const running = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const match = /^framewire_encoder_running\{source="[\w.-]+",format="(\w+)",codec="(\w+)"\} (\d)$/.exec(line);
    if (match) running.set(`${match[1]}/${match[2]}`, Number(match[3]));
  }
  return running;
}

/** The encoders running in `metrics`, e.g. `['h264/libx264']`. */
function runningEncoders(metrics: string): string[] {
  return [...encoders(metrics)].filter(([, value]) => value === 1).map(([name]) => name);
}

/** The value of the counter sample `name{source="<source>",format="<format>",…}` in `metrics`. */
function counter(metrics: string, name: string, format: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`format="${format}"`));
  assert.ok(line, `${name} for ${format} in /metrics`);
  return Number(line.split(' ').at(-1));
}

/** The `framewire_source_passthrough` sample of `source` and `media` in `metrics`, if any. */
function passthrough(metrics: string, source: string, media: 'video' | 'audio'): number | undefined {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith(`framewire_source_passthrough{source="${source}",`) && l.includes(`media="${media}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** The value of the gauge `name{source="<source>",…}` in `metrics`. */
function gauge(metrics: string, name: string, source: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{source="${source}",`));
  assert.ok(line, `${name} of ${source} in /metrics`);
  return Number(line.split(' ').at(-1));
}

/** True while process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a bridge serving MJPEG, WebSocket and WebRTC (loopback ICE) of `source`. */
function startBridge(source: VideoSource): Promise<BridgeServer> {
  return BridgeServer.start({ port: 0, sources: [source], webrtc: { iceAddresses: ['127.0.0.1'] } });
}

describe('Shared encoders: one per source and format, only while someone watches (/metrics)', () => {
  let stun: LoopbackStunServer;
  const bridges: BridgeServer[] = [];
  const viewers: WeriftViewer[] = [];

  before(async () => {
    stun = await LoopbackStunServer.start();
  });

  after(async () => {
    for (const viewer of viewers) await viewer.close();
    for (const bridge of bridges) await bridge.close();
    stun.close();
  });

  async function metricsOf(bridge: BridgeServer): Promise<string> {
    return (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
  }

  async function viewer(bridge: BridgeServer, codec: 'h264' | 'vp8'): Promise<WeriftViewer> {
    const opened = await openWeriftViewer(`http://127.0.0.1:${bridge.port}/offer`, codec, stun.url);
    viewers.push(opened);
    await waitUntil(() => opened.counts.frames >= 5, `a ${codec} WebRTC viewer to receive frames`, 60_000);
    return opened;
  }

  it('a JPEG source: no encoder without consumers, one H.264 encoder for a WebSocket and a WebRTC viewer, stopped after the last', async () => {
    const bridge = await startBridge(
      createTestPatternSource({ id: 'pattern', width: 320, height: 240, frameRate: 15 }),
    );
    bridges.push(bridge);
    const base = `http://127.0.0.1:${bridge.port}`;
    await waitUntil(() => bridge.health.sources[0]?.state === 'running', 'the source to run', 60_000);
    assert.deepEqual(runningEncoders(await metricsOf(bridge)), [], 'no encoder runs without a consumer');

    // MJPEG viewers get the source's own JPEG: no JPEG encoder.
    const abort = new AbortController();
    const mjpeg = await fetch(`${base}/video`, { signal: abort.signal });
    assert.ok(mjpeg.body);
    const reader = mjpeg.body.getReader();
    for (let bytes = 0; bytes < 20_000;) bytes += (await reader.read()).value?.length ?? 0;
    assert.deepEqual(runningEncoders(await metricsOf(bridge)), [], 'MJPEG of a JPEG source needs no encoder');
    abort.abort();

    const ws = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    await ws.waitForFrames(5);
    assert.deepEqual(runningEncoders(await metricsOf(bridge)), ['h264/libx264']);
    const webrtc = await viewer(bridge, 'h264');
    const both = await metricsOf(bridge);
    assert.deepEqual(runningEncoders(both), ['h264/libx264'], 'one H.264 encoder for both outputs');
    assert.ok(counter(both, 'framewire_encoder_frames_in_total', 'h264') > 0);
    assert.ok(counter(both, 'framewire_encoder_frames_out_total', 'h264') > 0);
    assert.equal(bridge.feed('pattern', 'h264').stats.subscribers, 2, 'the WebSocket and WebRTC outputs');

    ws.close();
    await ws.closed;
    const count = webrtc.counts.frames;
    await waitUntil(() => webrtc.counts.frames >= count + 5, 'the WebRTC viewer to keep receiving', 60_000);
    assert.deepEqual(runningEncoders(await metricsOf(bridge)), ['h264/libx264'], 'still one consumer');
    await webrtc.close();
    await waitUntil(
      async () => encoders(await metricsOf(bridge)).get('h264/libx264') === 0,
      'the H.264 encoder to stop after its last consumer',
      60_000,
    );
    assert.equal(bridge.feed('pattern', 'h264').transcoderPid, undefined, 'its ffmpeg ended');
    const stopped = await metricsOf(bridge);
    assert.ok(counter(stopped, 'framewire_encoder_frames_out_total', 'h264') > 0, 'the counters outlive the encoder');
  });

  it('the test pattern on demand: no ffmpeg without consumers (idle in /health), a snapshot while idle answers a fresh JPEG, a WebSocket viewer starts it, it stops after the last left', async () => {
    const source = createTestPatternSource({ id: 'ondemand', width: 320, height: 240, frameRate: 15, onDemand: true });
    const bridge = await startBridge(source);
    bridges.push(bridge);
    const base = `http://127.0.0.1:${bridge.port}`;
    // A function, not the property: an assertion on `source.pid` would narrow it for the rest of the test.
    const ffmpegPid = (): number | undefined => source.pid;
    const health = async (): Promise<BridgeHealth> => (await fetch(`${base}/health`)).json() as Promise<BridgeHealth>;
    const idle = await health();
    assert.deepEqual([idle.status, idle.sources[0]?.state, idle.sources[0]?.frames], ['ok', 'idle', 0]);
    assert.equal(ffmpegPid(), undefined, 'no ffmpeg for the pattern without a consumer');
    let metrics = await metricsOf(bridge);
    assert.deepEqual(
      [gauge(metrics, 'framewire_source_idle', 'ondemand'), gauge(metrics, 'framewire_source_up', 'ondemand')],
      [1, 0],
    );
    assert.deepEqual(runningEncoders(metrics), []);

    // A snapshot starts the pattern and answers with its first frame, made after the request.
    const requestedAtMs = Date.now();
    const snapshot = await fetch(`${base}/snapshot.jpg`);
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
    assert.ok(Number(snapshot.headers.get('x-capture-time-ms')) >= requestedAtMs, 'a new picture, not a stale one');
    const jpeg = Buffer.from(await snapshot.arrayBuffer());
    assert.deepEqual([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
    const snapshotPid = ffmpegPid();
    assert.ok(snapshotPid !== undefined, 'the snapshot started the pattern’s ffmpeg');
    await waitUntil(
      () => source.health.state === 'idle' && ffmpegPid() === undefined,
      'the pattern to stop after the snapshot',
      60_000,
    );
    await waitUntil(() => !alive(snapshotPid), 'its ffmpeg to end', 60_000);
    assert.equal(source.latest, undefined, 'no stale frame while idle');

    // A WebSocket viewer starts it again (and the H.264 encoder); it stops after the viewer left.
    const ws = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    await ws.waitForFrames(5);
    const pid = ffmpegPid();
    assert.ok(pid !== undefined && pid !== snapshotPid, 'a new ffmpeg for the viewer');
    metrics = await metricsOf(bridge);
    assert.deepEqual(
      [gauge(metrics, 'framewire_source_idle', 'ondemand'), gauge(metrics, 'framewire_source_up', 'ondemand')],
      [0, 1],
    );
    assert.deepEqual(runningEncoders(metrics), ['h264/libx264']);
    assert.equal((await health()).sources[0]?.state, 'running');
    ws.close();
    await ws.closed;
    await waitUntil(
      () => source.health.state === 'idle' && ffmpegPid() === undefined,
      'the pattern to stop after its last viewer',
      60_000,
    );
    await waitUntil(() => !alive(pid), 'its ffmpeg to end', 60_000);
    metrics = await metricsOf(bridge);
    assert.equal(gauge(metrics, 'framewire_source_idle', 'ondemand'), 1);
    assert.deepEqual(runningEncoders(metrics), [], 'the H.264 encoder stopped too');
    assert.deepEqual([(await health()).status, source.health.restarts], ['ok', 0], 'stopping on demand is no failure');
    assert.throws(() => createTestPatternSource({ onDemand: true, idleStopMs: -1 }), { code: 'FW_ERR_INVALID_OPTION' });
  });

  it('the CLI’s test pattern (with or without its tone) runs on demand: idle in /health until an MJPEG viewer starts it; --pattern-always-on runs it without one', async () => {
    for (const audio of [[], ['--audio', 'tone']]) {
      const cli = await startCli(
        CLI,
        ['--port', '0', '--size', '320x240', '--fps', '15', ...audio],
        /listening on (http:\/\/[\d.:]+)/,
      );
      try {
        const url = cli.match[1] ?? '';
        const health = async (): Promise<BridgeHealth> =>
          (await fetch(`${url}/health`)).json() as Promise<BridgeHealth>;
        const idle = await health();
        assert.deepEqual([idle.status, idle.sources[0]?.id, idle.sources[0]?.state], ['ok', 'testpattern', 'idle']);
        assert.equal(gauge(await (await fetch(`${url}/metrics`)).text(), 'framewire_source_idle', 'testpattern'), 1);
        const abort = new AbortController();
        const mjpeg = await fetch(`${url}/video`, { signal: abort.signal });
        assert.ok(mjpeg.body);
        const reader = mjpeg.body.getReader();
        for (let bytes = 0; bytes < 20_000;) bytes += (await reader.read()).value?.length ?? 0;
        const running = await health();
        assert.deepEqual([running.status, running.sources[0]?.state], ['ok', 'running']);
        abort.abort();
      } finally {
        assert.equal(await cli.stop(), 0, cli.output());
      }
    }
    const always = await startCli(
      CLI,
      ['--port', '0', '--size', '320x240', '--fps', '15', '--pattern-always-on'],
      /listening on (http:\/\/[\d.:]+)/,
    );
    try {
      const url = always.match[1] ?? '';
      const source = await waitUntil(
        async () => {
          const health = (await (await fetch(`${url}/health`)).json()) as BridgeHealth;
          return (health.sources[0]?.frames ?? 0) >= 5 ? health.sources[0] : undefined;
        },
        'frames without a consumer',
        60_000,
      );
      assert.equal(source.state, 'running');
    } finally {
      assert.equal(await always.stop(), 0, always.output());
    }
  });

  it('an H.264 source is passed through to WebSocket and WebRTC viewers: no encoder runs', async () => {
    const bridge = await startBridge(
      createTestPatternSource({ id: 'camera', width: 320, height: 240, frameRate: 15, codec: 'h264' }),
    );
    bridges.push(bridge);
    const ws = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    await ws.waitForFrames(10);
    const webrtc = await viewer(bridge, 'h264');
    const metrics = await metricsOf(bridge);
    assert.deepEqual(runningEncoders(metrics), [], 'the source’s own H.264 is sent as is');
    assert.equal(counter(metrics, 'framewire_encoder_frames_in_total', 'h264'), 0);
    assert.ok(webrtc.counts.bytes > 0);
    ws.close();
  });

  it('the CLI’s --h264-passthrough sends an H.264 file as is to WebSocket and WebRTC viewers: no encoder runs', async () => {
    const dir = await tempDir();
    try {
      // libx264's default High profile: the bridge's own encoder would write constrained baseline instead.
      const file = await makeMediaFile({ path: `${dir.path}/clip.mp4`, durationS: 60, frameRate: 15 });
      const cli = await startCli(
        CLI,
        [
          '--source',
          `file:${file}`,
          '--h264-passthrough',
          '--port',
          '0',
          '--webrtc',
          '--webrtc-ice-address',
          '127.0.0.1',
        ],
        /listening on (http:\/\/[\d.:]+)/,
      );
      try {
        const url = cli.match[1] ?? '';
        const ws = new WsViewer(`${url.replace('http:', 'ws:')}/ws`);
        await ws.waitForFrames(10);
        const config = ws.messages.find((m) => m.type === 'config');
        assert.match(config && 'codec' in config ? config.codec : '', /^avc1\.64/, 'the file’s own High profile');
        const webrtc = await openWeriftViewer(`${url}/offer`, 'h264', stun.url);
        viewers.push(webrtc);
        await waitUntil(() => webrtc.counts.frames >= 5, 'the WebRTC viewer to receive frames', 60_000);
        const metrics = await (await fetch(`${url}/metrics`)).text();
        assert.deepEqual(runningEncoders(metrics), [], 'no encoder for the file’s H.264');
        ws.close();
      } finally {
        await cli.stop();
      }
    } finally {
      await dir.remove();
    }
  });

  it('--video-passthrough auto (the default): a file’s H.264 without B-frames is sent as is, one with B-frames is decoded and encoded once', async () => {
    const dir = await tempDir();
    try {
      // libx264's High profile, as a camera sends it (no B-frames), and with its default B-frames.
      const plain = await makeMediaFile({
        path: join(dir.path, 'plain.mp4'),
        durationS: 60,
        frameRate: 15,
        bFrames: false,
      });
      const bframes = await makeMediaFile({ path: join(dir.path, 'bframes.mp4'), durationS: 60, frameRate: 15 });
      const cli = await startCli(
        CLI,
        [
          ...['--source', `file:${plain}#id=plain`, '--source', `file:${bframes}#id=bframes`],
          ...['--port', '0', '--webrtc', '--webrtc-ice-address', '127.0.0.1'],
        ],
        /listening on (http:\/\/[\d.:]+)/,
      );
      try {
        const url = cli.match[1] ?? '';
        const ws = new WsViewer(`${url.replace('http:', 'ws:')}/sources/plain/ws`);
        await ws.waitForFrames(10);
        const config = ws.messages.find((m) => m.type === 'config');
        assert.match(config && 'codec' in config ? config.codec : '', /^avc1\.64/, 'the file’s own High profile');
        const webrtc = await openWeriftViewer(`${url}/sources/plain/offer`, 'h264', stun.url);
        viewers.push(webrtc);
        await waitUntil(() => webrtc.counts.frames >= 5, 'the WebRTC viewer to receive frames', 60_000);
        let metrics = await (await fetch(`${url}/metrics`)).text();
        assert.deepEqual(runningEncodersOf(metrics, 'plain'), [], 'no encoder for the file’s H.264');
        assert.equal(passthrough(metrics, 'plain', 'video'), 1);
        ws.close();

        const decoded = new WsViewer(`${url.replace('http:', 'ws:')}/sources/bframes/ws`);
        await decoded.waitForFrames(10);
        const ownConfig = decoded.messages.find((m) => m.type === 'config');
        assert.match(ownConfig && 'codec' in ownConfig ? ownConfig.codec : '', /^avc1\.42/, 'the bridge’s baseline');
        metrics = await (await fetch(`${url}/metrics`)).text();
        assert.deepEqual(runningEncodersOf(metrics, 'bframes'), ['h264/libx264']);
        assert.equal(passthrough(metrics, 'bframes', 'video'), 0);
        decoded.close();
        const health = (await (await fetch(`${url}/health`)).json()) as BridgeHealth;
        assert.deepEqual(
          health.sources.map((s) => [s.id, s.videoMode, s.lastError]),
          [
            ['plain', 'passthrough', undefined],
            ['bframes', 'encode', undefined],
          ],
        );
        assert.match(cli.output(), /"plain": video passed through \(H\.264 High, yuv420p, no B-frames\)/);
        assert.match(cli.output(), /"bframes": video decoded \(H\.264 High, yuv420p: B-frames\)/);
      } finally {
        await cli.stop();
      }
    } finally {
      await dir.remove();
    }
  });

  it('a probe that fails is FW_ERR_PROBE_FAILED in /health and the input is decoded; when ffmpeg fails too, the input is probed again before the restart and passed through', async () => {
    const dir = await tempDir();
    // MPEG-TS streams over plain HTTP; the first two requests (the probe, then ffmpeg) get 404, as from a camera
    // that is not up yet; the next ones (the probe before the restart, then ffmpeg) get the stream.
    const file = await makeMediaFile({ path: join(dir.path, 'clip.ts'), durationS: 60, frameRate: 15, bFrames: false });
    const requests: number[] = [];
    const http = await startServer((_request, response) => {
      requests.push(Date.now());
      if (requests.length <= 2) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'video/mp2t' });
      createReadStream(file).pipe(response);
    });
    const source = createUrlSource({ id: 'late', url: `${http.url}/clip.ts` });
    const errors: FramewireError[] = [];
    source.on('error', ({ error }) => errors.push(error));
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    const health = async (): Promise<BridgeHealth['sources'][number] | undefined> =>
      ((await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth).sources[0];
    try {
      await waitUntil(() => errors.length >= 2, 'the probe and ffmpeg to fail', 60_000);
      assert.deepEqual(
        errors.slice(0, 2).map((error) => [error.code, error.fatal]),
        [
          ['FW_ERR_PROBE_FAILED', false],
          ['FW_ERR_PROCESS_FAILED', false],
        ],
      );
      assert.match(errors[0]?.message ?? '', /404/);
      const passed = await waitUntil(
        async () => {
          const now = await health();
          return now?.videoMode === 'passthrough' && now.state === 'running' && now.frames >= 10 ? now : undefined;
        },
        'the source to pass its H.264 through once the server answers',
        60_000,
      );
      assert.equal(passed.restarts, 1);
      assert.equal(source.latest && 'codec' in source.latest ? source.latest.codec : '', 'h264');
      const metrics = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
      assert.equal(passthrough(metrics, 'late', 'video'), 1);
    } finally {
      await bridge.close();
      await http.close();
      await dir.remove();
    }
  });

  it('with a probe that fails for good, /health says FW_ERR_PROBE_FAILED and videoMode encode, and the decoded video flows', async () => {
    const dir = await tempDir();
    const file = await makeMediaFile({
      path: join(dir.path, 'clip.mp4'),
      durationS: 60,
      frameRate: 15,
      bFrames: false,
    });
    // An ffprobe that cannot run: the probe fails at once; ffmpeg itself is fine.
    const source = createUrlSource({ id: 'unprobed', url: `file:${file}`, ffprobePath: join(dir.path, 'no-ffprobe') });
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    try {
      const now = await waitUntil(
        async () => {
          const state = ((await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth)
            .sources[0];
          return state && state.frames >= 10 ? state : undefined;
        },
        'decoded frames',
        60_000,
      );
      assert.deepEqual([now.lastError, now.videoMode, now.state], ['FW_ERR_PROBE_FAILED', 'encode', 'running']);
      assert.equal(source.latest && 'codec' in source.latest ? source.latest.codec : '', 'jpeg');
    } finally {
      await bridge.close();
      await dir.remove();
    }
  });

  it('probeMedia: a file’s tracks; an input that does not answer within the timeout is FW_ERR_PROBE_FAILED', async () => {
    const dir = await tempDir();
    // A TCP server that accepts and never sends a byte: ffprobe waits until it is killed.
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const file = await makeMediaFile({
        path: join(dir.path, 'clip.mkv'),
        durationS: 1,
        audio: true,
        audioCodec: 'libopus',
        bFrames: false,
      });
      assert.deepEqual(await probeMedia([file]), {
        video: { codec: 'h264', profile: 'High', pixelFormat: 'yuv420p', reorderFrames: 0 },
        audio: { codec: 'opus', channels: 1, sampleRate: 48000 },
      });
      await assert.rejects(probeMedia([join(dir.path, 'missing.mp4')]), { code: 'FW_ERR_PROBE_FAILED' });
      const address = silent.address();
      assert.ok(address && typeof address === 'object');
      await assert.rejects(probeMedia([`tcp://127.0.0.1:${address.port}`], { timeoutMs: 1000 }), {
        code: 'FW_ERR_PROBE_FAILED',
        message: /no answer within 1000 ms/,
      });
    } finally {
      silent.close();
      await dir.remove();
    }
  });

  it('VP8 viewers (no H.264 in their offers) share one libvpx encoder, stopped after the last', async () => {
    const bridge = await startBridge(
      createTestPatternSource({ id: 'pattern', width: 320, height: 240, frameRate: 15 }),
    );
    bridges.push(bridge);
    const vp8 = [await viewer(bridge, 'vp8'), await viewer(bridge, 'vp8'), await viewer(bridge, 'vp8')];
    const metrics = await metricsOf(bridge);
    assert.deepEqual(runningEncoders(metrics), ['vp8/libvpx'], 'one VP8 encoder for three viewers');
    const output = bridge.webrtc;
    assert.ok(output, 'the bridge serves WebRTC');
    assert.equal(output.stats.workerSessions, 0, 'no per-viewer encode in the wrtc worker');
    assert.equal(output.passthroughSessions.filter((s) => s.codec === 'vp8').length, 3);
    assert.ok(counter(metrics, 'framewire_encoder_frames_out_total', 'vp8') > 0);
    for (const v of vp8) await v.close();
    await waitUntil(
      async () => encoders(await metricsOf(bridge)).get('vp8/libvpx') === 0,
      'the VP8 encoder to stop after its last viewer',
      60_000,
    );
  });

  it('refuses bad encoder options with FW_ERR_INVALID_OPTION', async () => {
    const source = createTestPatternSource({ id: 'idle' });
    assert.throws(() => new FrameFeed(source, 'h264', { idleStopMs: -1 }), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => new FrameFeed(source, 'vp8', { vp8: { keyframeIntervalFrames: 0 } }), {
      code: 'FW_ERR_INVALID_OPTION',
    });
    await assert.rejects(
      BridgeServer.start({
        port: 0,
        sources: [source],
        // @ts-expect-error: an unknown value, as a JavaScript caller could pass
        webrtc: { vp8Encoder: 'per-source' },
      }),
      { code: 'FW_ERR_INVALID_OPTION' },
    );
    const cli = await runCli(CLI, ['--port', '0', '--webrtc', '--webrtc-vp8-encoder', 'per-source']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /--webrtc-vp8-encoder must be shared or per-viewer/);
    for (const [args, message] of [
      [['--video-passthrough', 'sometimes'], /--video-passthrough must be auto, always or never/],
      [['--h264-passthrough', '--video-passthrough', 'never'], /--h264-passthrough means --video-passthrough always/],
    ] as const) {
      const refused = await runCli(CLI, ['--port', '0', '--source', 'file:clip.mp4', ...args]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /FW_ERR_INVALID_OPTION/);
      assert.match(refused.stderr, message);
    }
    assert.throws(() => createUrlSource({ url: 'file:clip.mp4', probeTimeoutMs: 0 }), {
      code: 'FW_ERR_INVALID_OPTION',
    });
  });
});
