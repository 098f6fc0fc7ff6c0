import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'puppeteer-core';
import type * as Sdk from '@framewire/browser-sdk';
import {
  FfmpegSource,
  MqttOutput,
  MqttSource,
  MqttWebSocketRelay,
  ShmFrameBuffer,
  type EncodedFrame,
} from '@framewire/node-bridge';
import { TypedEmitter } from '@framewire/core';
import { connectAsync } from 'mqtt';
import { launchChromium } from '../helpers/chromium.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startServer, tempDir, waitUntil, type StartedServer } from '../helpers/node.js';

const run = promisify(execFile);
const PYTHON = process.env['PYTHON'] ?? '/usr/bin/python3';
const [WIDTH, HEIGHT] = [320, 240];
/** The test source: ffmpeg's SMPTE colour bars, a still picture with large areas of known colour. */
const LAVFI = ['-f', 'lavfi', '-i', `smptebars=size=${WIDTH}x${HEIGHT}:rate=10`];
/** Points sampled for pixel checks: the middle of the top bars and of the bottom band. */
const POINTS = [20, 65, 110, 155, 200, 245, 290].flatMap((x): [number, number][] => [
  [x, 60],
  [x, 220],
]);

/** Decodes a JPEG to RGB24 with ffmpeg (an independent decoder). */
async function decodeJpeg(jpeg: Buffer, dir: string): Promise<Buffer> {
  const path = join(dir, `frame-${Date.now()}.jpg`);
  await writeFile(path, jpeg);
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 16 << 20,
  });
  return stdout;
}

const rgbAt = (rgb: Buffer | number[], [x, y]: [number, number]): number[] => {
  const i = (y * WIDTH + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
};

/** Serves the built SDK (the `<script>` bundle and its vendor files) and an empty page, on loopback. */
async function serveSdk(): Promise<StartedServer> {
  const root = 'packages/browser-sdk/dist';
  return startServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><script src="/framewire.min.js"></script>');
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) return void response.writeHead(403).end();
    readFile(file).then(
      (body) => {
        const type = ['.js', '.mjs'].includes(extname(file)) ? 'text/javascript' : 'application/octet-stream';
        response.writeHead(200, { 'content-type': type }).end(body);
      },
      () => response.writeHead(404).end(),
    );
  });
}

interface PageFrame {
  width: number;
  height: number;
  pixels: number[][];
  latencyMs: number | undefined;
}

describe('MQTT and shared memory, end to end', () => {
  let broker: Mosquitto;
  let sdk: StartedServer;
  let browser: Browser;
  let page: Page;
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    [broker, sdk, browser, dir] = await Promise.all([startMosquitto(), serveSdk(), launchChromium(), tempDir()]);
    page = await browser.newPage();
    await page.goto(sdk.url);
    await page.waitForFunction(() => 'Framewire' in window);
  });
  after(async () => {
    await browser.close();
    await Promise.all([sdk.close(), broker.close(), dir.remove()]);
  });

  it('end to end, a test source published through mosquitto reaches a browser MqttSource with the right pixels (broker WebSocket and bridge relay)', async () => {
    const source = new FfmpegSource({
      id: 'bars',
      kind: 'testpattern',
      inputArgs: ['-re', ...LAVFI],
      jpegQuality: 2,
    });
    const output = new MqttOutput(source, { url: broker.url, streamId: 'bars' });
    const published: EncodedFrame[] = [];
    source.on('frame', ({ frame }) => {
      if ('codec' in frame) published.push(frame);
    });
    try {
      await waitUntil(() => output.connected, 'the output connected');
      await source.start();
      await waitUntil(() => published.length >= 2, 'published frames');
      // Through mosquitto's WebSocket listener, and through the bridge's relay to its TCP listener.
      const relay = new MqttWebSocketRelay({ brokerPort: Number(new URL(broker.url).port) });
      const relayUrl = `ws://127.0.0.1:${await relay.listen()}`;
      for (const url of [broker.wsUrl, relayUrl]) {
        const frame = await page.evaluate(
          async (url, points) => {
            const { MqttSource, getCaptureTime } = (window as unknown as { Framewire: typeof Sdk }).Framewire;
            const mqtt = await MqttSource.open({ url, streamId: 'bars' });
            try {
              const video = await mqtt.read();
              if (!video) throw new Error('no frame');
              const captured = getCaptureTime(video);
              const canvas = new OffscreenCanvas(video.displayWidth, video.displayHeight);
              const context = canvas.getContext('2d')!;
              context.drawImage(video, 0, 0);
              const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
              video.close();
              return {
                width: canvas.width,
                height: canvas.height,
                pixels: points.map(([x, y]) =>
                  Array.from(data.subarray((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 3)),
                ),
                latencyMs: captured === undefined ? undefined : Date.now() - captured,
              } satisfies PageFrame;
            } finally {
              await mqtt.close();
            }
          },
          url,
          POINTS,
        );
        assert.deepEqual([frame.width, frame.height], [WIDTH, HEIGHT]);
        assert.ok(frame.latencyMs !== undefined && frame.latencyMs >= 0, 'the frame carries its capture time');
        // The still picture makes every published JPEG the same picture: compare with ffmpeg's decoding of one.
        const reference = await decodeJpeg(published[published.length - 1]!.data, dir.path);
        POINTS.forEach((point, i) => {
          const expected = rgbAt(reference, point);
          const actual = frame.pixels[i]!;
          for (let c = 0; c < 3; c++)
            assert.ok(
              Math.abs(actual[c]! - expected[c]!) <= 8,
              `pixel ${String(point)}: ${String(actual)} vs ffmpeg ${String(expected)}`,
            );
        });
        // The bars are really there (not a uniform picture): the sampled colours differ a lot.
        assert.ok(new Set(frame.pixels.map((p) => p.map((v) => v >> 5).join())).size >= 6);
      }
      await relay.close();
    } finally {
      await Promise.all([output.close(), source.close()]);
    }
  });

  it('end to end, H.264 access units published through mosquitto are decoded by the browser MqttSource', async () => {
    // Annex B H.264 with an access unit delimiter before each frame and SPS/PPS in each keyframe.
    const { stdout: stream } = await run(
      'ffmpeg',
      [
        '-v',
        'error',
        ...LAVFI,
        '-frames:v',
        '20',
        '-c:v',
        'libx264',
        '-profile:v',
        'baseline',
        '-g',
        '10',
        '-x264-params',
        'aud=1',
        '-f',
        'h264',
        'pipe:1',
      ],
      { encoding: 'buffer', maxBuffer: 16 << 20 },
    );
    const starts: number[] = [];
    for (let i = 0; i + 4 < stream.length; i++)
      if (
        stream[i] === 0 &&
        stream[i + 1] === 0 &&
        stream[i + 2] === 0 &&
        stream[i + 3] === 1 &&
        (stream[i + 4]! & 0x1f) === 9
      )
        starts.push(i);
    const units = starts.map((start, i) => stream.subarray(start, starts[i + 1] ?? stream.length));
    assert.equal(units.length, 20);
    const isKey = (unit: Buffer): boolean => {
      for (let i = 0; i + 3 < unit.length; i++)
        if (unit[i] === 0 && unit[i + 1] === 0 && unit[i + 2] === 1 && (unit[i + 3]! & 0x1f) === 5) return true;
      return false;
    };
    const emitter = new TypedEmitter<{ frame: { frame: EncodedFrame } }>();
    const output = new MqttOutput(emitter, { url: broker.url, streamId: 'h264', codecs: ['h264'] });
    try {
      await waitUntil(() => output.connected, 'the output connected');
      const reading = page.evaluate(async (url) => {
        const { MqttSource } = (window as unknown as { Framewire: typeof Sdk }).Framewire;
        const mqtt = await MqttSource.open({ url, streamId: 'h264' });
        (window as unknown as { h264Ready: boolean }).h264Ready = true;
        try {
          const video = await mqtt.read();
          if (!video) throw new Error('no frame');
          const canvas = new OffscreenCanvas(video.displayWidth, video.displayHeight);
          const context = canvas.getContext('2d')!;
          context.drawImage(video, 0, 0);
          video.close();
          const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
          return {
            skipped: mqtt.skipped,
            width: canvas.width,
            height: canvas.height,
            topLeft: Array.from(data.subarray((60 * canvas.width + 20) * 4, (60 * canvas.width + 20) * 4 + 3)),
          };
        } finally {
          await mqtt.close();
        }
      }, broker.wsUrl);
      await page.waitForFunction(() => (window as unknown as { h264Ready?: boolean }).h264Ready === true, {
        timeout: 60_000,
      });
      // One access unit at a time, the next once the broker delivered the previous one to a watching client: an
      // output still writing would drop it (latest wins), which would change the count of skipped frames.
      const watcher = await connectAsync(broker.url);
      try {
        let delivered = 0;
        watcher.on('message', () => delivered++);
        await watcher.subscribeAsync('framewire/h264/frame');
        // Start mid-GOP: the source must skip the delta frames until the next keyframe.
        for (const [n, unit] of units.entries()) {
          if (n < 3) continue;
          const before = delivered;
          emitter.emit('frame', {
            frame: { codec: 'h264', key: isKey(unit), data: unit, timestampUs: n * 100_000, captureTimeMs: Date.now() },
          });
          await waitUntil(() => delivered > before, `access unit ${n} through the broker`);
        }
      } finally {
        await watcher.endAsync();
      }
      assert.equal(output.stats.dropped, 0);
      const frame = await reading;
      assert.deepEqual([frame.width, frame.height], [WIDTH, HEIGHT]);
      assert.equal(frame.skipped, 7, 'the delta frames before the first keyframe were skipped');
      const { stdout: reference } = await run(
        'ffmpeg',
        ['-v', 'error', ...LAVFI, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
        {
          encoding: 'buffer',
          maxBuffer: 16 << 20,
        },
      );
      const expected = rgbAt(reference, [20, 60]);
      frame.topLeft.forEach((v, c) =>
        assert.ok(Math.abs(v - expected[c]!) <= 16, `${String(frame.topLeft)} vs ${String(expected)}`),
      );
    } finally {
      await output.close();
    }
  });

  it('end to end, a browser MqttOutput publishes canvas frames that the bridge MqttSource receives as the right JPEG', async () => {
    const source = new MqttSource({ url: broker.url, streamId: 'page' });
    const frames: EncodedFrame[] = [];
    source.on('frame', ({ frame }) => frames.push(frame));
    await source.start();
    try {
      // Running once the broker acknowledged the subscription.
      await waitUntil(() => source.health.state === 'running', 'the source subscribed');
      const sent = await page.evaluate(async (url) => {
        const { MqttOutput, stampCaptureTime } = (window as unknown as { Framewire: typeof Sdk }).Framewire;
        const sink = await MqttOutput.open({ url, streamId: 'page', jpegQuality: 0.95 });
        const canvas = new OffscreenCanvas(320, 240);
        const context = canvas.getContext('2d')!;
        for (const [i, colour] of ['#ff0000', '#00ff00', '#0000ff', '#ffffff'].entries()) {
          context.fillStyle = colour;
          context.fillRect((i % 2) * 160, Math.floor(i / 2) * 120, 160, 120);
        }
        const frame = stampCaptureTime(new VideoFrame(canvas, { timestamp: 0 }), 1_700_000_000_123);
        const ok = await sink.write(frame);
        await sink.close();
        return ok;
      }, broker.wsUrl);
      assert.equal(sent, true);
      await waitUntil(() => frames.length >= 1, 'the frame');
      assert.equal(frames[0]!.captureTimeMs, 1_700_000_000_123);
      const rgb = await decodeJpeg(frames[0]!.data, dir.path);
      const near = (a: number[], b: number[]): boolean => a.every((v, c) => Math.abs(v - b[c]!) <= 12);
      assert.ok(near(rgbAt(rgb, [80, 60]), [255, 0, 0]), String(rgbAt(rgb, [80, 60])));
      assert.ok(near(rgbAt(rgb, [240, 60]), [0, 255, 0]), String(rgbAt(rgb, [240, 60])));
      assert.ok(near(rgbAt(rgb, [80, 180]), [0, 0, 255]), String(rgbAt(rgb, [80, 180])));
      assert.ok(near(rgbAt(rgb, [240, 180]), [255, 255, 255]), String(rgbAt(rgb, [240, 180])));
    } finally {
      await source.close();
    }
  });

  it('end to end, browser MqttSource: refused credentials, no broker, bad options and a malformed message are typed errors', async () => {
    const secured = await startMosquitto({ users: { cam: 's3cret' } });
    try {
      const codes = await page.evaluate(
        async (url, securedUrl) => {
          const { MqttSource } = (window as unknown as { Framewire: typeof Sdk }).Framewire;
          const codes: string[] = [];
          const attempts = [
            { url: securedUrl, streamId: 'x', username: 'cam', password: 'wrong' },
            { url: 'ws://127.0.0.1:9/', streamId: 'x', connectTimeoutMs: 1000 },
            { url: 'http://nope', streamId: 'x' },
          ];
          for (const options of attempts) {
            try {
              await MqttSource.open(options);
              codes.push('opened');
            } catch (error) {
              codes.push((error as { code: string }).code);
            }
          }
          const source = await MqttSource.open({ url, streamId: 'junk', maxPayloadBytes: 100_000 });
          const seen: string[] = [];
          source.on('error', ({ error, fatal }) => seen.push(`${error.code}:${String(fatal)}`));
          Object.assign(window, { junk: source, junkErrors: seen });
          return codes;
        },
        broker.wsUrl,
        secured.wsUrl,
      );
      assert.deepEqual(codes, ['FW_ERR_MQTT_REFUSED', 'FW_ERR_NETWORK_FAILED', 'FW_ERR_INVALID_OPTION']);
    } finally {
      await secured.close();
    }
    const client = await connectAsync(broker.url);
    try {
      await client.publishAsync('framewire/junk/frame', Buffer.from('garbage'));
      await client.publishAsync('framewire/junk/frame', Buffer.alloc(200_000, 0xff));
      const jpeg = await run('ffmpeg', ['-v', 'error', ...LAVFI, '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'], {
        encoding: 'buffer',
      });
      await client.publishAsync('framewire/junk/frame', jpeg.stdout);
      const result = await page.evaluate(async () => {
        const { junk: source, junkErrors: errors } = window as unknown as {
          junk: Sdk.MqttSource;
          junkErrors: string[];
        };
        const frame = await source.read();
        const size = frame ? [frame.displayWidth, frame.displayHeight] : null;
        frame?.close();
        await source.close();
        await source.close();
        return { size, errors };
      });
      assert.deepEqual(result, {
        size: [WIDTH, HEIGHT],
        errors: ['FW_ERR_MQTT_PAYLOAD_INVALID:false', 'FW_ERR_MQTT_PAYLOAD_INVALID:false'],
      });
    } finally {
      await client.endAsync();
    }
  });

  it('end to end, the same test source reaches a Python reader through shared memory with the exact pixels', async () => {
    const path = join(dir.path, 'bars.shm');
    const buffer = new ShmFrameBuffer({ path });
    const frameBytes = WIDTH * HEIGHT * 3;
    const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-re', ...LAVFI, '-f', 'rawvideo', '-pix_fmt', 'bgr24', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pending = Buffer.alloc(0);
    ffmpeg.stdout.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        buffer.write({
          width: WIDTH,
          height: HEIGHT,
          format: 'BGR24',
          data: pending.subarray(0, frameBytes),
          captureTimeMs: Date.now(),
        });
        pending = pending.subarray(frameBytes);
      }
    });
    try {
      const dump = join(dir.path, 'python.bgr');
      const { stdout } = await run(PYTHON, ['test/helpers/shm_check.py', 'dump', path, dump]);
      const info = JSON.parse(stdout) as { width: number; height: number; format: string; id: number };
      assert.deepEqual([info.width, info.height, info.format], [WIDTH, HEIGHT, 'BGR24']);
      assert.ok(info.id >= 1);
      const { stdout: reference } = await run(
        'ffmpeg',
        ['-v', 'error', ...LAVFI, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'bgr24', 'pipe:1'],
        {
          encoding: 'buffer',
          maxBuffer: 16 << 20,
        },
      );
      assert.ok((await readFile(dump)).equals(reference), 'Python read exactly the frame ffmpeg rendered');
    } finally {
      ffmpeg.kill('SIGKILL');
      buffer.close();
    }
  });
});
