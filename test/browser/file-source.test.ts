import { expect } from 'chai';
import { FileSource, FramewireError, getCaptureTime } from '@framewire/browser-sdk';
import { isClosed, rejection, within } from '../helpers/browser.js';
import { ffprobe, mediaBlob, startTestServer, type TestServer } from '../helpers/media.js';

/** Reads every frame, closing each; returns their timestamps (µs) and sizes. */
async function drain(source: FileSource, limit = Infinity): Promise<{ timestamps: number[]; sizes: string[] }> {
  const timestamps: number[] = [];
  const sizes: string[] = [];
  for (let frame = await source.read(); frame; frame = await source.read()) {
    timestamps.push(frame.timestamp);
    sizes.push(`${frame.displayWidth}x${frame.displayHeight}`);
    frame.close();
    if (timestamps.length >= limit) break;
  }
  return { timestamps, sizes };
}

describe('FileSource', () => {
  const opened: FileSource[] = [];
  const open = async (...args: Parameters<typeof FileSource.open>): Promise<FileSource> => {
    const source = await FileSource.open(...args);
    opened.push(source);
    return source;
  };
  let server: TestServer | undefined;
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await server?.stop();
    server = undefined;
  });

  for (const name of ['h264.mp4', 'h264.mov', 'h264.mkv', 'h264.ts', 'vp9-audio.webm']) {
    it(`FileSource, decodes every frame of ${name} (made by ffmpeg) with ffprobe's timestamps`, async () => {
      const blob = await mediaBlob(name);
      const [probe, source] = await Promise.all([ffprobe(blob, name.split('.').pop()!), open(blob)]);
      const { timestamps, sizes } = await drain(source);
      expect(timestamps.length, 'frame count').to.equal(probe.videoFrameTimes.length);
      expect(timestamps.length).to.equal(30);
      // MPEG-TS starts at a non-zero clock (1.4 s by default): compare relative to the first frame, to within the
      // 1 µs that ffprobe's 6-decimal printout rounds away.
      const expected = probe.videoFrameTimes.map((t) => (t - probe.videoFrameTimes[0]!) * 1e6);
      timestamps.forEach((t, i) =>
        expect(Math.abs(t - timestamps[0]! - expected[i]!), `frame ${i}`).to.be.at.most(1.5),
      );
      expect(new Set(sizes)).to.deep.equal(new Set(['320x240']));
      expect(source.ended).to.equal(true);
      expect(source.stats.framesDropped, 'files never drop').to.equal(0);
    });
  }

  it('FileSource, a variable-frame-rate file keeps its exact timestamps', async () => {
    const source = await open(await mediaBlob('vfr.mp4'));
    const { timestamps } = await drain(source);
    const expected = [...Array.from({ length: 10 }, (_, i) => i * 2), ...Array.from({ length: 10 }, (_, i) => 20 + i)];
    expect(timestamps.map((t) => Math.round((t * 30) / 1e6))).to.deep.equal(expected);
    timestamps.forEach((t, i) => expect(Math.abs(t - (expected[i]! * 1e6) / 30), 'to the µs').to.be.at.most(1));
  });

  it('FileSource, a rotated file delivers upright frames (display size swapped)', async () => {
    const source = await open(await mediaBlob('rotated.mp4'));
    expect([90, 270]).to.include(source.rotation);
    expect([source.width, source.height]).to.deep.equal([240, 320]);
    const frame = await source.read();
    expect([frame?.displayWidth, frame?.displayHeight]).to.deep.equal([240, 320]);
    // Drawn, the frame is upright: a 240-wide canvas is filled from edge to edge.
    const canvas = new OffscreenCanvas(240, 320);
    canvas.getContext('2d')!.drawImage(frame!, 0, 0);
    frame?.close();
  });

  it('FileSource, an odd-sized VP9 file keeps its odd size', async () => {
    const source = await open(await mediaBlob('odd.webm'));
    expect([source.width, source.height]).to.deep.equal([321, 241]);
    const { sizes } = await drain(source);
    expect(sizes).to.have.length(15);
    expect(new Set(sizes)).to.deep.equal(new Set(['321x241']));
  });

  it('FileSource, exposes the audio track (with and without audio)', async () => {
    const withAudio = await open(await mediaBlob('h264-audio.mp4'));
    expect(withAudio.audio?.codec).to.equal('aac');
    expect(withAudio.audio?.sampleRate).to.equal(48000);
    expect(withAudio.audio?.channels).to.equal(1);
    expect((await withAudio.audio!.track.getDecoderConfig())?.codec).to.match(/^mp4a\./);
    expect(await withAudio.audio!.track.computeDuration()).to.be.closeTo(1, 0.05);
    const webm = await open(await mediaBlob('vp9-audio.webm'));
    expect(webm.audio?.codec).to.equal('opus');
    const silent = await open(await mediaBlob('h264.mp4'));
    expect(silent.audio).to.equal(null);
  });

  it('FileSource, seek(timeUs) continues from the frame shown at that time and drops what was queued', async () => {
    const source = await open(await mediaBlob('h264.mp4'), { queue: { capacity: 4 } });
    (await source.read())?.close();
    await source.seek(500_000);
    const { timestamps } = await drain(source, 3);
    expect(timestamps.map((t) => Math.round(t / 1000))).to.deep.equal([500, 533, 567]);
    await source.seek(510_000);
    const next = await source.read();
    expect(next?.timestamp, 'the frame shown at 510 ms starts at 500 ms').to.equal(500_000);
    next?.close();
    const error = (await rejection(() => source.seek(-1))) as FramewireError;
    expect(error.code).to.equal('FW_ERR_INVALID_OPTION');
  });

  it('FileSource, loop plays again with timestamps that keep increasing', async () => {
    const source = await open(await mediaBlob('h264.mp4'), { loop: true });
    const { timestamps } = await drain(source, 75);
    expect(timestamps).to.have.length(75);
    for (let i = 1; i < timestamps.length; i++) expect(timestamps[i]).to.be.greaterThan(timestamps[i - 1]!);
    expect(timestamps[30]).to.equal(1_000_000);
    expect(timestamps[60]).to.equal(2_000_000);
  });

  it('FileSource, realtime pacing spreads frames over their media time; fast does not', async () => {
    const paced = await open(await mediaBlob('h264.mp4'), { pace: 'realtime' });
    const first = await paced.read();
    const start = performance.now();
    first?.close();
    const { timestamps } = await drain(paced, 15);
    const elapsedMs = performance.now() - start;
    // 15 more frames at 30 fps are due ~500 ms after the first; a fast read of 15 frames takes far less here.
    expect(elapsedMs).to.be.greaterThan(400);
    expect(timestamps.at(-1)).to.equal(500_000);
    expect(getCaptureTime(first!)).to.be.a('number');
  });

  it('FileSource, backpressure: a slow consumer gets every frame, none dropped, none leaked', async () => {
    const source = await open(await mediaBlob('h264.mp4'), { queue: { capacity: 2 } });
    const held: VideoFrame[] = [];
    for (let i = 0; i < 5; i++) held.push((await source.read())!);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source.stats.framesQueued, 'decoding waits for the consumer').to.be.at.most(2);
    for (const frame of held) frame.close();
    const { timestamps } = await drain(source);
    expect(timestamps.length + held.length).to.equal(30);
    expect(source.stats.framesDropped).to.equal(0);
    expect(held.every(isClosed)).to.equal(true);
  });

  it('FileSource, reads from a URL on a local server (range requests)', async () => {
    server = await startTestServer('static');
    const source = await open(`${server.url}/media/h264-faststart.mp4`);
    const { timestamps } = await drain(source);
    expect(timestamps).to.have.length(30);
  });

  it('FileSource, bad input fails with typed errors and leaks nothing', async () => {
    server = await startTestServer('static');
    const cases: [() => Promise<unknown>, string][] = [
      [async () => open(await mediaBlob('junk.mp4')), 'FW_ERR_MEDIA_UNREADABLE'],
      [async () => open(await mediaBlob('truncated.mp4')), 'FW_ERR_MEDIA_UNREADABLE'],
      [async () => open(await mediaBlob('mpeg4.mp4')), 'FW_ERR_CODEC_UNSUPPORTED'],
      [async () => open(new Blob([])), 'FW_ERR_MEDIA_UNREADABLE'],
      [() => open(`${server!.url}/status/404`), 'FW_ERR_NETWORK_FAILED'],
      [() => open(`${server!.url}/status/500`), 'FW_ERR_NETWORK_FAILED'],
      [() => open('http://127.0.0.1:9/nothing-listens-here.mp4'), 'FW_ERR_NETWORK_FAILED'],
      [() => open(42 as unknown as Blob), 'FW_ERR_INVALID_OPTION'],
      [async () => open(await mediaBlob('h264.mp4'), { pace: 'slow' as 'fast' }), 'FW_ERR_INVALID_OPTION'],
    ];
    for (const [attempt, code] of cases) {
      const error = (await rejection(attempt)) as FramewireError;
      expect(error, code).to.be.instanceOf(FramewireError);
      expect(error.code, error.message).to.equal(code);
    }
    const notFound = (await rejection(() => open(`${server!.url}/status/404`))) as FramewireError;
    expect(notFound.details['status']).to.equal(404);
  });

  it('FileSource, a truncated file (index first) delivers the intact frames, then ends or reports, never crashes', async () => {
    const source = await open(await mediaBlob('truncated-faststart.mp4'));
    const errors: FramewireError[] = [];
    source.on('error', ({ error }) => errors.push(error));
    const { timestamps } = await within(drain(source), 60_000, 'the truncated file drains');
    expect(timestamps.length).to.be.greaterThan(5);
    expect(timestamps.length).to.be.lessThan(30);
    for (const error of errors) expect(['FW_ERR_DECODE_FAILED', 'FW_ERR_MEDIA_UNREADABLE']).to.include(error.code);
    expect(source.ended).to.equal(true);
  });

  it('FileSource, close() is idempotent and stops decoding', async () => {
    const source = await open(await mediaBlob('h264.mp4'));
    const ends: string[] = [];
    source.on('end', ({ reason }) => ends.push(reason));
    (await source.read())?.close();
    await Promise.all([source.close(), source.close()]);
    expect(await source.read()).to.equal(null);
    expect(ends).to.deep.equal(['closed']);
    const error = (await rejection(() => source.seek(0))) as FramewireError;
    expect(error.code).to.equal('FW_ERR_CLOSED');
  });
});
