import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BridgeServer,
  FfmpegSource,
  JpegStreamSplitter,
  createTestPatternSource,
  type BridgeHealth,
} from '@framewire/node-bridge';
import { FramewireError } from '@framewire/core';
import { ffprobe, tempDir, waitUntil } from '../helpers/node.js';

const jpeg = (body: number[]): Buffer => Buffer.from([0xff, 0xd8, ...body, 0xff, 0xd9]);

/** Reads `count` parts of a multipart/x-mixed-replace response and returns their bodies. */
async function readMultipart(url: string, count: number): Promise<{ contentType: string; parts: Buffer[] }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const contentType = response.headers.get('content-type') ?? '';
  const boundary = /boundary=(\S+)/.exec(contentType)?.[1];
  assert.ok(boundary, contentType);
  const reader = response.body!.getReader();
  let buffer = Buffer.alloc(0);
  const parts: Buffer[] = [];
  while (parts.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = Buffer.concat([buffer, value]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) break;
      const header = buffer.subarray(0, headerEnd).toString();
      const length = Number(/Content-Length: (\d+)/i.exec(header)?.[1]);
      if (buffer.length < headerEnd + 4 + length + 2) break;
      assert.ok(header.startsWith(`--${boundary}`), header);
      parts.push(buffer.subarray(headerEnd + 4, headerEnd + 4 + length));
      buffer = buffer.subarray(headerEnd + 4 + length + 2);
    }
  }
  controller.abort();
  return { contentType, parts };
}

describe('JpegStreamSplitter', () => {
  it('JpegStreamSplitter, splits concatenated JPEGs across arbitrary chunk boundaries and skips garbage', () => {
    const stream = Buffer.concat([
      Buffer.from('garbage'),
      jpeg([1, 2, 3]),
      jpeg([4]),
      Buffer.from([9, 9]),
      jpeg([5, 6]),
    ]);
    for (const step of [1, 2, 3, 7, stream.length]) {
      const splitter = new JpegStreamSplitter();
      const images: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) images.push(...splitter.push(stream.subarray(i, i + step)));
      assert.deepEqual(images, [jpeg([1, 2, 3]), jpeg([4]), jpeg([5, 6])], `chunk size ${step}`);
    }
  });

  it('JpegStreamSplitter, discards an image that grows past the limit instead of buffering forever', () => {
    const splitter = new JpegStreamSplitter(100);
    assert.deepEqual(splitter.push(Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(200, 1)])), []);
    assert.deepEqual(splitter.push(Buffer.from([0xff, 0xd9])), [], 'the oversize image is gone');
    assert.deepEqual(splitter.push(jpeg([7])), [jpeg([7])], 'the next image is found');
  });
});

describe('BridgeServer with the test pattern', () => {
  it('BridgeServer, serves MJPEG and snapshots that ffprobe decodes, and reports health', async () => {
    const source = createTestPatternSource({ width: 320, height: 240, frameRate: 15 });
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    const dir = await tempDir();
    try {
      const base = `http://127.0.0.1:${bridge.port}`;
      await waitUntil(() => source.latest, 'the first frame');
      const snapshot = await fetch(`${base}/snapshot.jpg`);
      assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
      assert.ok(Number(snapshot.headers.get('x-capture-time-ms')) <= Date.now());
      const file = join(dir.path, 'snapshot.jpg');
      await writeFile(file, Buffer.from(await snapshot.arrayBuffer()));
      const probed = await ffprobe(file);
      assert.deepEqual(
        [probed.streams[0]?.codec_name, probed.streams[0]?.width, probed.streams[0]?.height],
        ['mjpeg', 320, 240],
      );

      const { contentType, parts } = await readMultipart(`${base}/sources/testpattern/video`, 5);
      assert.match(contentType, /^multipart\/x-mixed-replace; boundary=/);
      assert.equal(parts.length, 5);
      for (const part of parts)
        assert.deepEqual([part[0], part[1], part.at(-2), part.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
      assert.notDeepEqual(parts[0], parts[4], 'the pattern moves');

      const health = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
      const [testpattern] = health.sources;
      assert.ok(testpattern);
      assert.equal(health.status, 'ok');
      assert.equal(testpattern.state, 'running');
      assert.ok(testpattern.frames >= 5, 'frames counted');
      assert.equal((await fetch(`${base}/sources/nope/video`)).status, 404);
      assert.equal((await fetch(`${base}/health`, { method: 'POST' })).status, 405);
    } finally {
      await bridge.close();
      await bridge.close();
      await dir.remove();
    }
  });

  it('BridgeServer, a source whose process dies is restarted with backoff and reported, without crashing', async () => {
    const dir = await tempDir();
    // A stand-in "ffmpeg" that emits one JPEG and dies, every time it is started.
    const fake = join(dir.path, 'dying-ffmpeg.sh');
    await writeFile(fake, `#!/bin/sh\nprintf '\\377\\330\\001\\377\\331'\nexit 3\n`, { mode: 0o755 });
    const source = new FfmpegSource({
      id: 'flaky',
      kind: 'test',
      inputArgs: [],
      ffmpegPath: fake,
      restartDelayMs: 20,
    });
    const errors: FramewireError[] = [];
    source.on('error', ({ error }) => errors.push(error));
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    try {
      const health = await waitUntil(async () => {
        const h = (await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth;
        return (h.sources[0]?.restarts ?? 0) >= 3 ? h : undefined;
      }, 'three restarts');
      const [flaky] = health.sources;
      assert.ok(flaky);
      assert.equal(health.status, 'degraded');
      assert.equal(flaky.lastError, 'FW_ERR_PROCESS_FAILED');
      assert.ok(flaky.frames >= 1);
      assert.ok(errors[0] instanceof FramewireError);
      assert.match(errors[0].message, /exited \(code 3/);
    } finally {
      await bridge.close();
      await dir.remove();
    }
    const restartsAfterClose = source.health.restarts;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(source.health.restarts, restartsAfterClose, 'no restart after close()');
  });

  it('BridgeServer, a missing ffmpeg executable becomes FW_ERR_PROCESS_FAILED, not a crash', async () => {
    const source = createTestPatternSource({ ffmpegPath: '/nonexistent/ffmpeg' });
    const failed = new Promise<FramewireError>((resolve) => source.on('error', ({ error }) => resolve(error)));
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    try {
      const error = await failed;
      assert.equal(error.code, 'FW_ERR_PROCESS_FAILED');
      assert.match(error.message, /ENOENT/);
    } finally {
      await bridge.close();
    }
  });

  it('BridgeServer, rejects bad options with FW_ERR_INVALID_OPTION', async () => {
    await assert.rejects(BridgeServer.start({ port: 70000, sources: [createTestPatternSource()] }), {
      code: 'FW_ERR_INVALID_OPTION',
    });
    await assert.rejects(BridgeServer.start({ port: 0, sources: [] }), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => createTestPatternSource({ width: 3 }), { code: 'FW_ERR_INVALID_OPTION' });
  });
});
