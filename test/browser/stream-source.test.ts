import { expect } from 'chai';
import { type FramewireError, StreamSource, getCaptureTime } from '@framewire/browser-sdk';
import { rejection, within } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/media.js';

/** Reads `count` frames, closing each; returns their sizes. */
async function take(source: StreamSource, count: number, timeoutMs = 60_000): Promise<string[]> {
  const sizes: string[] = [];
  for (let i = 0; i < count; i++) {
    const frame = await within(source.read(), timeoutMs, `frame ${i}`);
    if (!frame) break;
    sizes.push(`${frame.displayWidth}x${frame.displayHeight}`);
    expect(getCaptureTime(frame)).to.be.a('number');
    frame.close();
  }
  return sizes;
}

describe('StreamSource', () => {
  const opened: StreamSource[] = [];
  const servers: TestServer[] = [];
  const open = async (...args: Parameters<typeof StreamSource.open>): Promise<StreamSource> => {
    const source = await StreamSource.open(...args);
    opened.push(source);
    return source;
  };
  const serve = async (kind: 'static' | 'mjpeg', options: object = {}): Promise<TestServer> => {
    const server = await startTestServer(kind, options);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('StreamSource, HLS (hls.js, loaded lazily) from a local server becomes frames', async () => {
    const server = await serve('static');
    const source = await open(`${server.url}/media/hls/index.m3u8`);
    expect(source.type).to.equal('hls');
    expect(new Set(await take(source, 10))).to.deep.equal(new Set(['320x240']));
  });

  it('StreamSource, DASH (dash.js, loaded lazily) from a local server becomes frames', async () => {
    const server = await serve('static');
    const source = await open(`${server.url}/media/dash/manifest.mpd`);
    expect(source.type).to.equal('dash');
    expect(new Set(await take(source, 10))).to.deep.equal(new Set(['320x240']));
  });

  it('StreamSource, a progressive MP4 URL plays to its end', async () => {
    const server = await serve('static');
    const source = await open(`${server.url}/media/h264-faststart.mp4`);
    expect(source.type).to.equal('progressive');
    const ended = new Promise<string>((resolve) => source.on('end', ({ reason }) => resolve(reason)));
    const timestamps: number[] = [];
    for (let f = await within(source.read(), 60_000, 'frame'); f; f = await within(source.read(), 60_000, 'frame')) {
      timestamps.push(f.timestamp);
      f.close();
    }
    // The frames the player presented: all 30 on an idle machine, fewer when it skips late ones (how many is a
    // matter of speed); never one twice, never out of order.
    expect(timestamps.length).to.be.within(2, 30);
    for (let i = 1; i < timestamps.length; i++) expect(timestamps[i]).to.be.greaterThan(timestamps[i - 1]!);
    expect(await ended).to.equal('ended');
  });

  for (const contentLength of [true, false]) {
    it(`StreamSource, MJPEG over HTTP (multipart ${contentLength ? 'with' : 'without'} Content-Length), decoded in a worker`, async () => {
      const server = await serve('mjpeg', { fps: 20, contentLength });
      const source = await open(`${server.url}/video`);
      expect(source.type).to.equal('mjpeg');
      expect(new Set(await take(source, 8))).to.deep.equal(new Set(['320x240']));
    });
  }

  it('StreamSource, a stalled MJPEG stream is reported, then it reconnects with backoff and frames flow again', async () => {
    const server = await serve('mjpeg', { fps: 20, stallAfterFrames: 5 });
    // 3 s without a frame is a stall: far above the gaps a busy machine leaves between frames 50 ms apart.
    const source = await open(`${server.url}/video`, { stallTimeoutMs: 3000, reconnect: { initialDelayMs: 100 } });
    const errors: { code: string; fatal: boolean }[] = [];
    source.on('error', ({ error, fatal }) => errors.push({ code: error.code, fatal }));
    const sizes = await take(source, 15);
    expect(sizes).to.have.length(15);
    expect(errors).to.deep.equal([{ code: 'FW_ERR_STREAM_STALLED', fatal: false }]);
    expect(source.reconnects).to.equal(1);
    expect((await server.stats()).connections).to.be.at.least(2);
  });

  it('StreamSource, a live stream that drops reconnects; with reconnect off it ends', async () => {
    const server = await serve('mjpeg', { fps: 20, closeAfterFrames: 4 });
    const source = await open(`${server.url}/video`, { reconnect: { initialDelayMs: 50 } });
    expect(await take(source, 10)).to.have.length(10);
    expect(source.reconnects).to.be.at.least(1);

    const once = await serve('mjpeg', { fps: 20, closeAfterFrames: 4 });
    const noRetry = await open(`${once.url}/video`, { reconnect: false });
    const frames = await take(noRetry, 10);
    expect(frames.length).to.be.within(1, 4);
    expect(noRetry.ended).to.equal(true);
  });

  it('StreamSource, a stream that stalls with reconnect off fails with a fatal FW_ERR_STREAM_STALLED', async () => {
    const server = await serve('mjpeg', { fps: 20, stallAfterFrames: 3 });
    const source = await open(`${server.url}/video`, { stallTimeoutMs: 3000, reconnect: false });
    const failed = new Promise<FramewireError>((resolve) => source.on('error', ({ error }) => resolve(error)));
    await take(source, 3);
    const error = await within(failed, 60_000, 'the stall');
    expect([error.code, error.fatal]).to.deep.equal(['FW_ERR_STREAM_STALLED', true]);
    expect(await source.read()).to.equal(null);
  });

  it('StreamSource, 404, 500, unreachable and non-media URLs fail with typed errors', async () => {
    const server = await serve('static');
    const cases: [string, string, number | undefined][] = [
      [`${server.url}/status/404`, 'FW_ERR_NETWORK_FAILED', 404],
      [`${server.url}/status/500`, 'FW_ERR_NETWORK_FAILED', 500],
      ['http://127.0.0.1:9/video', 'FW_ERR_NETWORK_FAILED', undefined],
      [`${server.url}/media/junk.mp4`, 'FW_ERR_MEDIA_UNREADABLE', undefined],
    ];
    for (const [url, code, status] of cases) {
      // The open timeout only bounds a hang: each of these fails for another reason.
      const error = (await rejection(() => open(url, { openTimeoutMs: 60_000 }))) as FramewireError;
      expect(error.code, `${url}: ${error.message}`).to.equal(code);
      expect(error.details['status']).to.equal(status);
    }
    const missingSegments = (await rejection(() =>
      open(`${server.url}/media/hls/missing.m3u8`, { type: 'hls' }),
    )) as FramewireError;
    expect(missingSegments.code).to.equal('FW_ERR_NETWORK_FAILED');
    const bad = (await rejection(() => open(`${server.url}/x`, { type: 'rtsp' as 'hls' }))) as FramewireError;
    expect(bad.code).to.equal('FW_ERR_INVALID_OPTION');
  });

  it('StreamSource, a response that never sends a frame times out with FW_ERR_STREAM_STALLED', async () => {
    const server = await serve('static');
    const error = (await rejection(() => open(`${server.url}/stall.mp4`, { openTimeoutMs: 1500 }))) as FramewireError;
    expect(error.code).to.equal('FW_ERR_STREAM_STALLED');
  });
});
