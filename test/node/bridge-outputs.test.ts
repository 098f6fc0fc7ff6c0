import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BridgeServer,
  PiCameraSource,
  SourceBase,
  createTestPatternSource,
  createUrlSource,
  createV4l2Source,
  jpegSize,
  type BridgeHealth,
  type FramewireError,
} from '@framewire/node-bridge';
import { WsViewer, writeH264 } from '../helpers/bridge.js';
import { ffprobe, makeMediaFile, startServer, tempDir, waitUntil } from '../helpers/node.js';
import { errorCode } from '../helpers/http-error.js';

const FAKE_RPICAM = 'test/fixtures/fake-rpicam-vid.sh';
const TOKEN = 'test-token-1234';

/** Decodes the received access units with ffprobe and returns the frame count and size. */
async function probeFrames(
  dir: string,
  name: string,
  frames: { payload: Buffer }[],
): Promise<[string?, number?, number?]> {
  const probed = await ffprobe(await writeH264(join(dir, name), frames), ['-count_frames']);
  const stream = probed.streams[0];
  return [stream?.nb_read_frames, stream?.width, stream?.height];
}

/**
 * A synthetic H.264 source: ~100 access units per second of `payloadBytes` filler each, every tenth a keyframe led
 * by `sps` (a real encoder's parameter sets, so viewers get a config).
 */
class SyntheticH264Source extends SourceBase {
  #timer: NodeJS.Timeout | undefined;
  #n = 0;
  readonly #sps: Buffer;
  readonly #payloadBytes: number;

  constructor(id: string, sps: Buffer, payloadBytes: number) {
    super(id, 'test');
    this.#sps = sps;
    this.#payloadBytes = payloadBytes;
  }

  start(): Promise<void> {
    this.#timer = setInterval(() => {
      const key = this.#n % 10 === 0;
      const head = key ? this.#sps : Buffer.from([0, 0, 0, 1, 0x41, 0x9a]);
      const data = Buffer.concat([head, Buffer.alloc(this.#payloadBytes, 1)]);
      this.emitFrame({ codec: 'h264', key, data, timestampUs: this.#n * 10_000, captureTimeMs: Date.now() });
      this.#n++;
    }, 10);
    return Promise.resolve();
  }

  protected release(): void {
    clearInterval(this.#timer);
  }
}

describe('bridge outputs', () => {
  it('WebSocket, H.264 encoded once from a JPEG source reaches two viewers; late joiners start on a keyframe; ffprobe decodes it', async () => {
    const source = createTestPatternSource({ width: 320, height: 240, frameRate: 15 });
    const bridge = await BridgeServer.start({ port: 0, sources: [source], h264: { keyframeIntervalFrames: 5 } });
    const dir = await tempDir();
    const first = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    let late: WsViewer | undefined;
    try {
      const frames = await first.waitForFrames(12);
      assert.deepEqual(first.messages[0], {
        type: 'hello',
        version: 1,
        sourceId: 'testpattern',
        sourceKind: 'testpattern',
      });
      assert.deepEqual(
        { ...first.messages[1], codec: '' },
        { type: 'config', codec: '', codedWidth: 320, codedHeight: 240 },
      );
      assert.match((first.messages[1] as { codec: string }).codec, /^avc1\.42c0[0-9a-f]{2}$/, 'constrained baseline');
      assert.equal(frames[0]!.header.flags, 3, 'the first frame is a keyframe carrying its configuration');
      assert.deepEqual(
        frames.map((f) => f.header.sequence),
        [...Array(12).keys()],
      );
      for (const frame of frames) assert.ok(frame.header.captureTimeMs <= frame.receivedAtMs);
      assert.deepEqual(await probeFrames(dir.path, 'first.h264', frames), ['12', 320, 240]);
      late = new WsViewer(`ws://127.0.0.1:${bridge.port}/sources/testpattern/ws`);
      const lateFrames = await late.waitForFrames(6);
      assert.equal(lateFrames[0]!.header.flags & 1, 1, 'a late joiner starts at a keyframe');
      assert.deepEqual((await probeFrames(dir.path, 'late.h264', lateFrames))[0], '6');
      const metrics = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
      assert.match(metrics, /^framewire_output_clients\{source="testpattern",output="websocket"\} 2$/m);
      assert.match(metrics, /^framewire_source_fps\{source="testpattern",kind="testpattern"\} \d/m);
      assert.match(metrics, /^# TYPE framewire_source_restarts_total counter$/m);
      const feed = bridge.feed('testpattern', 'h264');
      assert.equal(feed.stats.transcoding, true);
      assert.equal(feed.stats.subscribers, 1, 'one encoder subscription for both viewers');
    } finally {
      first.close();
      late?.close();
      await bridge.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('WebSocket, H.264 transcoded from a 30 fps JPEG source keeps distinct, increasing timestamps at 1/30 s steps', async () => {
    const fps = 30;
    const stepUs = 1_000_000 / fps;
    const source = createTestPatternSource({ width: 320, height: 240, frameRate: fps });
    const sourceTimestamps = new Set<number>();
    source.on('frame', ({ frame }) => {
      if ('timestampUs' in frame) sourceTimestamps.add(frame.timestampUs);
    });
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    try {
      const frames = await viewer.waitForFrames(45);
      const timestamps = frames.map((f) => f.header.timestampUs);
      const steps = timestamps.slice(1).map((t, i) => t - timestamps[i]!);
      assert.ok(
        steps.every((step) => step > 0),
        `timestamps strictly increase (steps in ms: ${steps.map((s) => s / 1000).join(' ')})`,
      );
      // A frame the encoder skipped (busy) leaves a gap of whole frames; any other step is the source's frame step.
      for (const step of steps)
        assert.ok(
          Math.abs(step / stepUs - Math.round(step / stepUs)) * stepUs <= 1,
          `a step of ${step} µs is a whole number of 1/${fps} s frames`,
        );
      const sorted = [...steps].sort((a, b) => a - b);
      assert.ok(Math.abs(sorted[sorted.length >> 1]! - stepUs) <= 1, 'the median step is one frame (33.3 ms)');
      for (const t of timestamps) assert.ok(sourceTimestamps.has(t), `${t} µs is the timestamp of a source frame`);
      // The source's own (JPEG) timestamps count frames at its rate.
      assert.deepEqual([...sourceTimestamps].slice(0, 4), [0, 33333, 66667, 100000]);
    } finally {
      viewer.close();
      await bridge.close();
    }
  });

  it('auth, every endpoint but /health needs the token (Bearer or ?token=); refusals are counted, nothing crashes', async () => {
    const source = createTestPatternSource({ width: 160, height: 120, frameRate: 10 });
    const bridge = await BridgeServer.start({ port: 0, sources: [source], token: TOKEN });
    const base = `http://127.0.0.1:${bridge.port}`;
    try {
      assert.equal((await fetch(`${base}/health`)).status, 200);
      for (const path of ['/metrics', '/video', '/snapshot.jpg', '/sources/testpattern/video', '/nope']) {
        const response = await fetch(`${base}${path}`);
        assert.equal(response.status, 401, path);
        assert.equal(errorCode(await response.text()), 'FW_ERR_UNAUTHORIZED');
      }
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status, 401);
      await assert.rejects(new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`).opened, /HTTP 401/);
      await assert.rejects(new WsViewer(`ws://127.0.0.1:${bridge.port}/ws?token=nope`).opened, /HTTP 401/);
      const snapshot = await fetch(`${base}/snapshot.jpg`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(snapshot.status, 200);
      assert.deepEqual(jpegSize(Buffer.from(await snapshot.arrayBuffer())), { width: 160, height: 120 });
      const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws?token=${TOKEN}`);
      await viewer.waitForFrames(2);
      viewer.close();
      const metrics = await (await fetch(`${base}/metrics?token=${TOKEN}`)).text();
      assert.match(metrics, /^framewire_http_unauthorized_total 8$/m);
      assert.equal((await fetch(`${base}/health`)).status, 200, 'still serving');
    } finally {
      await bridge.close();
    }
  });

  it('restart, killing the source process restarts it and a connected viewer resumes by itself at a keyframe', async () => {
    const source = createTestPatternSource({
      width: 160,
      height: 120,
      frameRate: 15,
      codec: 'h264',
      h264: { keyframeIntervalFrames: 5 },
    });
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    const dir = await tempDir();
    try {
      await viewer.waitForFrames(5);
      assert.equal(bridge.feed('testpattern', 'h264').stats.transcoding, false, 'H.264 sources pass through');
      const pid = source.pid!;
      process.kill(pid, 'SIGKILL');
      await waitUntil(
        () => source.health.restarts === 1 && source.pid !== pid && source.health.state === 'running',
        'the restart',
      );
      // The new ffmpeg's timestamps start again at 0: its first frame must be a keyframe.
      const frames = await viewer.waitForFrames(viewer.frames.length + 8);
      const before = frames.findIndex((f, i) => i > 0 && f.header.timestampUs < frames[i - 1]!.header.timestampUs);
      const trace = JSON.stringify(frames.map((f) => [f.header.sequence, f.header.flags, f.header.timestampUs / 1000]));
      assert.ok(before > 0, `frames of the restarted process arrived: ${trace}`);
      assert.equal(frames[before]!.header.flags & 1, 1, `resumes at a keyframe: ${trace}`);
      assert.deepEqual((await probeFrames(dir.path, 'after.h264', frames.slice(before)))[1], 160);
      const health = (await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth;
      assert.deepEqual([health.sources[0]?.restarts, health.sources[0]?.lastError], [1, 'FW_ERR_PROCESS_FAILED']);
    } finally {
      viewer.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('slow viewer, a viewer whose socket backs up skips to the next keyframe instead of buffering', async () => {
    // A synthetic H.264 source of 512 KiB access units at ~100 per second fills the loopback socket buffers of a
    // viewer that stops reading within a second; its SPS comes from a real encoder so viewers get a config.
    const dir = await tempDir();
    const sps = await readFile(
      await makeMediaFile({ path: join(dir.path, 'key.h264'), durationS: 0.1, size: '160x120', videoCodec: 'libx264' }),
    );
    const source = new SyntheticH264Source('synthetic', sps, 512 * 1024);
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      mjpeg: false,
      websocket: { maxBufferedBytes: 4 * 1024 * 1024 },
    });
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    try {
      await viewer.waitForFrames(3);
      const raw = (viewer.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      raw.pause();
      await waitUntil(
        () => /output_dropped_total\{source="synthetic",output="websocket"\} [1-9]/.test(bridge.metrics),
        'drops',
      );
      raw.resume();
      const frames = await viewer.waitForFrames(viewer.frames.length + 30);
      let gaps = 0;
      for (let i = 1; i < frames.length; i++) {
        if (frames[i]!.header.sequence !== frames[i - 1]!.header.sequence + 1) {
          gaps++;
          assert.equal(frames[i]!.header.flags & 1, 1, `the frame after a gap (${i}) is a keyframe`);
        }
      }
      assert.ok(gaps >= 1, 'frames were skipped');
      assert.equal(bridge.sources[0]!.health.dropped, 0, 'the source itself dropped nothing');
    } finally {
      viewer.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('slow viewer, one that acknowledges frames skips as soon as too many are unacknowledged, long before its socket backs up', async () => {
    // 2 KiB access units at ~100 per second: a second of them fits in the loopback socket buffers, so the bridge's
    // send buffer stays empty and only the acknowledgements can tell that a viewer stopped reading.
    const dir = await tempDir();
    const sps = await readFile(
      await makeMediaFile({ path: join(dir.path, 'key.h264'), durationS: 0.1, size: '160x120', videoCodec: 'libx264' }),
    );
    const source = new SyntheticH264Source('small', sps, 2048);
    const maxUnackedFrames = 5;
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      mjpeg: false,
      websocket: { maxUnackedFrames },
    });
    const url = `ws://127.0.0.1:${bridge.port}/ws`;
    const acking = new WsViewer(url, {}, { ack: true });
    const silent = new WsViewer(url);
    const output = (): { ackingClients: number; framesDropped: number } => {
      const stats = bridge.websocket()?.stats;
      assert.ok(stats);
      return stats;
    };
    try {
      await Promise.all([acking.waitForFrames(20), silent.waitForFrames(20)]);
      // Messages that are not acks are ignored; an ack beyond what was sent counts only up to the newest frame sent.
      acking.socket.send('not json');
      acking.socket.send(JSON.stringify({ type: 'ack', sequence: -1 }));
      acking.socket.send(Buffer.from([1, 2, 3]));
      silent.socket.send(JSON.stringify({ type: 'hello' }));
      await waitUntil(() => output().ackingClients === 1, 'one acking viewer');
      assert.equal(output().framesDropped, 0);

      const rawSocket = (viewer: WsViewer): { pause(): void; resume(): void } =>
        (viewer.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      const before = { acking: acking.frames.length, silent: silent.frames.length };
      rawSocket(acking).pause();
      rawSocket(silent).pause();
      // Paused until the bridge has skipped 50 frames for the acking viewer (half a second of this source, or
      // longer on a busy machine).
      await waitUntil(() => output().framesDropped >= 50, 'frames skipped for the paused acking viewer', 60_000);
      const droppedWhilePaused = output().framesDropped;
      rawSocket(acking).resume();
      rawSocket(silent).resume();
      const [ackingFrames, silentFrames] = await Promise.all([
        acking.waitForFrames(before.acking + 40),
        silent.waitForFrames(before.silent + 60),
      ]);
      assert.ok(droppedWhilePaused >= 50, `the acking viewer skipped frames while paused (${droppedWhilePaused})`);

      const firstGap = (frames: typeof ackingFrames, from: number): number =>
        frames.findIndex((f, i) => i > from && f.header.sequence !== frames[i - 1]!.header.sequence + 1);
      const gap = firstGap(ackingFrames, before.acking);
      assert.ok(gap > 0, 'the acking viewer skipped frames');
      assert.ok(
        gap - before.acking <= maxUnackedFrames + 2,
        `no more than ${maxUnackedFrames} unacknowledged frames were queued for it (${gap - before.acking})`,
      );
      assert.equal(ackingFrames[gap]!.header.flags & 1, 1, 'it resumes at a keyframe');
      assert.equal(
        firstGap(silentFrames, 0),
        -1,
        'the viewer without acks got every frame: its socket never backed up',
      );
      assert.equal(output().ackingClients, 1);
    } finally {
      acking.close();
      silent.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('MJPEG, quality and width options apply to every viewer through one encoder', async () => {
    const source = createTestPatternSource({ width: 320, height: 240, frameRate: 10 });
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      mjpeg: { width: 160, quality: 10 },
      websocket: false,
    });
    try {
      const snapshot = Buffer.from(await (await fetch(`http://127.0.0.1:${bridge.port}/snapshot.jpg`)).arrayBuffer());
      assert.deepEqual(jpegSize(snapshot), { width: 160, height: 120 });
      assert.equal(
        ((await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth).outputs.join(),
        'mjpeg',
      );
      const upgrade = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
      await assert.rejects(upgrade.opened, /HTTP 404/);
    } finally {
      await bridge.close();
    }
  });

  it('static files, MIME types, CORS and ranges; nothing outside the directory is served', async () => {
    const dir = await tempDir();
    const source = createTestPatternSource({ width: 160, height: 120, frameRate: 5 });
    const bridge = await BridgeServer.start({ port: 0, sources: [source], staticDir: dir.path, token: TOKEN });
    try {
      await writeFile(join(dir.path, 'stream.m3u8'), '#EXTM3U\n');
      await writeFile(join(dir.path, 'manifest.mpd'), '<MPD/>');
      await writeFile(join(dir.path, 'seg1.m4s'), Buffer.alloc(1000, 7));
      await writeFile(join(dir.path, '.secret'), 'no');
      const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
        fetch(`http://127.0.0.1:${bridge.port}/files/${path}`, {
          headers: { authorization: `Bearer ${TOKEN}`, ...headers },
        });
      const playlist = await get('stream.m3u8');
      assert.deepEqual(
        [
          playlist.status,
          playlist.headers.get('content-type'),
          playlist.headers.get('access-control-allow-origin'),
          playlist.headers.get('cache-control'),
        ],
        [200, 'application/vnd.apple.mpegurl', '*', 'no-cache'],
      );
      assert.equal((await get('manifest.mpd')).headers.get('content-type'), 'application/dash+xml');
      const range = await get('seg1.m4s', { range: 'bytes=10-19' });
      assert.deepEqual(
        [range.status, range.headers.get('content-range'), (await range.arrayBuffer()).byteLength],
        [206, 'bytes 10-19/1000', 10],
      );
      for (const path of ['.secret', '..%2F..%2Fetc%2Fpasswd', '%2e%2e/%2e%2e/etc/passwd', 'missing.mp4'])
        assert.equal((await get(path)).status, 404, path);
      assert.equal((await fetch(`http://127.0.0.1:${bridge.port}/files/stream.m3u8`)).status, 401);
    } finally {
      await bridge.close();
      await dir.remove();
    }
  });
});

describe('bridge sources', () => {
  it("PiCameraSource, passes a camera tool stand-in's H.264 through to WebSocket viewers without re-encoding", async () => {
    const dir = await tempDir();
    const argsFile = join(dir.path, 'args.txt');
    process.env['FAKE_RPICAM_ARGS_FILE'] = argsFile;
    const source = new PiCameraSource({ command: FAKE_RPICAM, width: 320, height: 240, frameRate: 15, vflip: true });
    const bridge = await BridgeServer.start({ port: 0, sources: [source], mjpeg: false });
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    try {
      const frames = await viewer.waitForFrames(20);
      assert.deepEqual(await probeFrames(dir.path, 'pi.h264', frames), ['20', 320, 240]);
      assert.equal(bridge.feed('picamera', 'h264').stats.transcoding, false, 'passed through');
      const args = (await readFile(argsFile, 'utf8')).trim().split('\n');
      assert.deepEqual(args, [...source.args]);
      assert.ok(args.includes('--vflip') && args.includes('--inline'));
    } finally {
      delete process.env['FAKE_RPICAM_ARGS_FILE'];
      viewer.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('PiCameraSource, a camera tool writing garbage yields no frames, logs, and crashes nothing', async () => {
    const dir = await tempDir();
    const garbage = join(dir.path, 'garbage.sh');
    const written = join(dir.path, 'written');
    // `written` appears once the pipe took the garbage: the bridge has read all of it but at most a pipe buffer.
    await writeFile(garbage, `#!/bin/sh\nhead -c 300000 /dev/urandom\ntouch ${written}\nexec sleep 30\n`, {
      mode: 0o755,
    });
    const source = new PiCameraSource({ command: garbage, width: 320, height: 240 });
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
    try {
      await viewer.opened;
      await waitUntil(() => existsSync(written), 'the camera tool to write its garbage', 60_000);
      assert.equal(viewer.frames.length, 0, 'random bytes carry no keyframe with a valid SPS');
      assert.equal((await fetch(`http://127.0.0.1:${bridge.port}/health`)).status, 200);
    } finally {
      viewer.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('createUrlSource, reads a file (MJPEG) and an HTTP-served file (H.264 to WebSocket)', async () => {
    const dir = await tempDir();
    const file = await makeMediaFile({
      path: join(dir.path, 'clip.mp4'),
      durationS: 4,
      size: '320x240',
      frameRate: 15,
    });
    // MPEG-TS streams over plain HTTP without range requests.
    const stream = await makeMediaFile({
      path: join(dir.path, 'clip.ts'),
      durationS: 4,
      size: '320x240',
      frameRate: 15,
    });
    const http = await startServer((_request, response) => {
      void stat(stream).then((info) => {
        response.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': info.size });
        createReadStream(stream).pipe(response);
      });
    });
    const fromFile = createUrlSource({ id: 'file', url: `file://${file}`, loop: true });
    const fromHttp = createUrlSource({ id: 'http', url: `${http.url}/clip.ts`, codec: 'h264' });
    const bridge = await BridgeServer.start({ port: 0, sources: [fromFile, fromHttp] });
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/sources/http/ws`);
    try {
      const snapshot = Buffer.from(
        await (await fetch(`http://127.0.0.1:${bridge.port}/sources/file/snapshot.jpg`)).arrayBuffer(),
      );
      assert.deepEqual(jpegSize(snapshot), { width: 320, height: 240 });
      const frames = await viewer.waitForFrames(10);
      assert.deepEqual(await probeFrames(dir.path, 'http.h264', frames), ['10', 320, 240]);
    } finally {
      viewer.close();
      await bridge.close();
      await http.close();
      await dir.remove();
    }
  });

  it('createV4l2Source, a missing device becomes FW_ERR_PROCESS_FAILED with restarts, and the bridge keeps serving', async () => {
    const source = createV4l2Source({ device: '/dev/video-framewire-missing', width: 640, height: 480 });
    const errors: FramewireError[] = [];
    source.on('error', ({ error }) => errors.push(error));
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    try {
      await waitUntil(() => errors.length >= 2, 'two failures');
      assert.equal(errors[0]!.code, 'FW_ERR_PROCESS_FAILED');
      assert.match(errors[0]!.message, /video-framewire-missing/);
      const health = (await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth;
      assert.deepEqual(
        [health.status, health.sources[0]?.kind, health.sources[0]?.state],
        ['degraded', 'v4l2', 'restarting'],
      );
    } finally {
      await bridge.close();
    }
  });
});
