// Streaming-site sources (`ytdl:`), with the real yt-dlp and ffmpeg and nothing beyond 127.0.0.1: a local HTML page
// whose video yt-dlp's generic extractor finds (<video src> and og:video) is resolved to its media URL, which the
// bridge's ffmpeg reads; a missing yt-dlp, a page without media and bad options each give their typed error.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createStreamSiteSource, type BridgeHealth, type FramewireError } from '@framewire/node-bridge';
import { WsViewer } from '../helpers/bridge.js';
import {
  makeMediaFile,
  runCli,
  startCli,
  startServer,
  tempDir,
  waitUntil,
  type StartedServer,
} from '../helpers/node.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';

describe('streaming-site sources through yt-dlp (ytdl:)', () => {
  let site: StartedServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  /** Every path the site was asked for. */
  const requests: string[] = [];

  before(async () => {
    dir = await tempDir();
    const clip = await readFile(
      await makeMediaFile({ path: join(dir.path, 'clip.mp4'), durationS: 60, frameRate: 15, bFrames: false }),
    );
    site = await startServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url === '/watch.html') {
        const media = `http://127.0.0.1:${site.port}/media/clip.mp4`;
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          `<!doctype html><html><head><title>A clip</title><meta property="og:video" content="${media}"></head>` +
            `<body><video src="/media/clip.mp4" controls></video></body></html>`,
        );
      } else if (request.url === '/empty.html') {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          '<!doctype html><html><head><title>Nothing</title></head><body><p>no video here</p></body></html>',
        );
      } else if (request.url === '/media/clip.mp4') {
        // ffmpeg seeks in an MP4 (its index is at the end): byte ranges.
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
        const start = range ? Number(range[1]) : 0;
        const end = range?.[2] ? Math.min(Number(range[2]), clip.length - 1) : clip.length - 1;
        response.writeHead(range ? 206 : 200, {
          'content-type': 'video/mp4',
          'accept-ranges': 'bytes',
          'content-length': String(end - start + 1),
          ...(range ? { 'content-range': `bytes ${start}-${end}/${clip.length}` } : {}),
        });
        response.end(request.method === 'HEAD' ? undefined : clip.subarray(start, end + 1));
      } else response.writeHead(404).end();
    });
  });
  after(async () => {
    await site.close();
    await dir.remove();
  });

  it('a page’s video, found by yt-dlp’s generic extractor, reaches WebSocket viewers (passed through after the probe)', async () => {
    const cli = await startCli(
      CLI,
      ['--source', `ytdl:${site.url}/watch.html#id=site`, '--port', '0'],
      /listening on (http:\/\/[\d.:]+)/,
    );
    try {
      const url = cli.match[1] ?? '';
      const ws = new WsViewer(`${url.replace('http:', 'ws:')}/sources/site/ws`);
      const frames = await ws.waitForFrames(10);
      ws.close();
      assert.equal(frames[0]?.header.frameType, 'I');
      const health = (await (await fetch(`${url}/health`)).json()) as BridgeHealth;
      const source = health.sources.find((s) => s.id === 'site');
      assert.deepEqual([source?.kind, source?.state, source?.videoMode], ['stream', 'running', 'passthrough']);
      assert.ok(requests.includes('/watch.html'), requests.join(' '));
      assert.ok(requests.includes('/media/clip.mp4'), 'ffmpeg reads the media URL yt-dlp found');
    } finally {
      await cli.stop();
    }
  });

  it('without yt-dlp the source fails for good with FW_ERR_NOT_SUPPORTED saying to install it; no ffmpeg runs', async () => {
    const source = createStreamSiteSource({ pageUrl: `${site.url}/watch.html`, ytDlpPath: '/nonexistent/yt-dlp' });
    const errors: FramewireError[] = [];
    source.on('error', ({ error }) => errors.push(error));
    await source.start();
    try {
      await waitUntil(() => source.state === 'failed', 'the source to fail', 60_000);
      assert.deepEqual(
        errors.map((e) => [e.code, e.fatal]),
        [['FW_ERR_NOT_SUPPORTED', true]],
      );
      assert.match(errors[0]?.message ?? '', /not installed.*apt-get install yt-dlp/);
      assert.equal(source.pid, undefined, 'no ffmpeg');
      assert.equal(source.health.lastError, 'FW_ERR_NOT_SUPPORTED');
    } finally {
      await source.close();
    }
  });

  for (const [name, page, format, reason] of [
    ['a page without media', '/empty.html', undefined, /Unsupported URL|no media|ERROR/],
    ['a format no media matches', '/watch.html', 'best[height<=100]', /format/i],
  ] as const) {
    it(`${name}: the source fails with FW_ERR_MEDIA_UNREADABLE and yt-dlp's reason`, async () => {
      const source = createStreamSiteSource({
        pageUrl: `${site.url}${page}`,
        ...(format === undefined ? {} : { format }),
      });
      const errors: FramewireError[] = [];
      source.on('error', ({ error }) => errors.push(error));
      await source.start();
      try {
        await waitUntil(() => source.state === 'failed', 'the source to fail', 60_000);
        assert.deepEqual(
          errors.map((e) => [e.code, e.fatal]),
          [['FW_ERR_MEDIA_UNREADABLE', true]],
        );
        assert.match(errors[0]?.message ?? '', reason);
      } finally {
        await source.close();
      }
    });
  }

  for (const args of [
    ['--source', 'ytdl:ftp://127.0.0.1/video'],
    ['--source', 'ytdl:not a url'],
    ['--source', 'ytdl:'],
    ['--source', 'ytdl:http://127.0.0.1:9/watch', '--stream-format', 'best height'],
    ['--source', 'ytdl:http://127.0.0.1:9/watch', '--stream-format', ''],
  ]) {
    it(`the CLI refuses ${args.join(' ')} with FW_ERR_INVALID_OPTION`, async () => {
      const result = await runCli(CLI, ['--port', '0', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^framewire-bridge: FW_ERR_INVALID_OPTION: .*(page|format)/);
    });
  }
});
