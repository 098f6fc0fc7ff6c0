import { expect } from 'chai';
import {
  CameraSource,
  FileSource,
  type FramewireError,
  Recorder,
  type RecorderOptions,
  type UploadReceipt,
} from '@framewire/browser-sdk';
import { isClosed, rejection, solidFrame, until, within } from '../helpers/browser.js';
import { ffprobe, mediaBlob, readMp4, startTestServer, type TestServer } from '../helpers/media.js';

const FRAME_US = 1e6 / 30;

/** Records `count` 30 fps canvas frames of `width`×`height` and returns the Blob. */
async function recordFrames(options: RecorderOptions, count = 30, width = 320, height = 240): Promise<Blob> {
  const recorder = new Recorder(options);
  const frames: VideoFrame[] = [];
  for (let i = 0; i < count; i++) {
    const frame = solidFrame(Math.round(i * FRAME_US), width, height, `hsl(${i * 12} 80% 50%)`);
    frames.push(frame);
    await recorder.write(frame);
  }
  const output = await recorder.finalize();
  expect(frames.every(isClosed), 'the recorder closed every frame').to.equal(true);
  expect(output).to.be.instanceOf(Blob);
  return output as Blob;
}

const videoStream = (probe: Awaited<ReturnType<typeof ffprobe>>) => probe.streams.find((s) => s.codec_type === 'video');

async function opfsFolder(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle('framewire-recordings', { create: true });
}

describe('Recorder', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const server = async (kind: 'upload' | 'static', options: object = {}): Promise<TestServer> => {
    const started = await startTestServer(kind, options);
    cleanups.push(() => started.stop());
    return started;
  };

  for (const [container, codec, ffName] of [
    ['mp4', 'avc', 'h264'],
    ['webm', 'vp9', 'vp9'],
    ['mkv', 'vp8', 'vp8'],
    ['mp4', 'av1', 'av1'],
  ] as const) {
    it(`Recorder, ${codec} in ${container}: ffprobe reads 30 frames, 1 s, the codec and the size`, async () => {
      const blob = await recordFrames({ container, codec });
      const probe = await ffprobe(blob, container);
      expect(probe.error, probe.error).to.equal(undefined);
      const video = videoStream(probe)!;
      expect(video.codec_name).to.equal(ffName);
      expect([video.width, video.height]).to.deep.equal([320, 240]);
      expect(Number(video.nb_read_frames)).to.equal(30);
      expect(Number(probe.format.duration)).to.be.closeTo(1, 1 / 30);
    });
  }

  it('Recorder, progressive and fragmented MP4 read back with mp4box.js: frames, duration, codec, size', async () => {
    const progressive = await readMp4(await recordFrames({ container: 'mp4', codec: 'avc' }));
    expect(progressive.fragmented).to.equal(false);
    expect(progressive.codec).to.match(/^avc1\./);
    expect([progressive.width, progressive.height, progressive.frames]).to.deep.equal([320, 240, 30]);
    expect(progressive.durationS).to.be.closeTo(1, 1 / 30);
    const fragmented = await readMp4(
      await recordFrames({
        container: 'mp4',
        codec: 'vp9',
        fragmented: true,
        fragmentDurationMs: 300,
        keyframeIntervalFrames: 10,
      }),
    );
    expect(fragmented.fragmented).to.equal(true);
    expect(fragmented.codec).to.match(/^vp09\./);
    expect(fragmented.frames).to.equal(30);
    expect(fragmented.durationS).to.be.closeTo(1, 1 / 30);
  });

  it('Recorder, the issue example: camera → record({ durationMs }) → finalize() gives a playable MP4', async () => {
    const cam = await CameraSource.open({ width: 640, height: 480, frameRate: 30 });
    cleanups.push(() => cam.close());
    const rec = new Recorder({ container: 'mp4', codec: 'avc', bitrateBps: 2_000_000 });
    const stats = await rec.record(cam, { durationMs: 1000 });
    const file = (await rec.finalize()) as Blob;
    expect(rec.codec).to.equal('avc');
    const mp4 = await readMp4(file);
    expect(mp4.frames).to.equal(stats.framesWritten);
    // However fast this machine is: the camera's frames of that second, none lost, one key frame at least.
    expect(stats.framesWritten).to.be.within(2, 31);
    expect(stats.framesDropped, 'the recorder kept up and the camera was read throughout').to.equal(0);
    expect([mp4.width, mp4.height]).to.deep.equal([640, 480]);
    // The recorded span plus the last frame's own duration.
    const frameS = stats.durationUs / 1e6 / (stats.framesWritten - 1);
    expect(mp4.durationS).to.be.closeTo(stats.durationUs / 1e6 + frameS, frameS);
    expect(mp4.durationS).to.be.closeTo(1, 2 * frameS);
    const probe = await ffprobe(file, 'mp4');
    expect(Number(videoStream(probe)!.nb_read_frames)).to.equal(stats.framesWritten);
  });

  it('Recorder, file → pipeTo(rec.writable): a transcode keeps every frame', async () => {
    const source = await FileSource.open(await mediaBlob('vp9-audio.webm'));
    cleanups.push(() => source.close());
    const rec = new Recorder({ container: 'mp4', codec: 'avc', audio: source });
    await source.readable.pipeTo(rec.writable);
    const blob = (await rec.finalize()) as Blob;
    const probe = await ffprobe(blob, 'mp4');
    expect(Number(videoStream(probe)!.nb_read_frames)).to.equal(30);
    expect(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'the file’s Opus audio, copied').to.equal(
      'opus',
    );
  });

  it('Recorder, audio from a file (AAC) and from a live track (Opus)', async () => {
    const withAac = await recordFrames({ container: 'mp4', codec: 'avc', audio: await mediaBlob('h264-audio.mp4') });
    const aacProbe = await ffprobe(withAac, 'mp4');
    expect(aacProbe.streams.map((s) => s.codec_name).sort()).to.deep.equal(['aac', 'h264']);

    // The fake microphone (--use-fake-device-for-media-stream) beeps.
    const microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
    const track = microphone.getAudioTracks()[0]!;
    cleanups.push(() => Promise.resolve(track.stop()));
    const rec = new Recorder({ container: 'webm', codec: 'vp8', audio: track });
    for (let i = 0; i < 15; i++) {
      await rec.write(solidFrame(Math.round(i * FRAME_US), 160, 120));
      await new Promise((resolve) => setTimeout(resolve, 33));
    }
    const blob = (await rec.finalize()) as Blob;
    track.stop();
    const probe = await ffprobe(blob, 'webm');
    expect(probe.streams.map((s) => s.codec_name).sort()).to.deep.equal(['opus', 'vp8']);
  });

  it('Recorder, a rotated file records upright; frames going back in time are refused', async () => {
    const rotated = await FileSource.open(await mediaBlob('rotated.mp4'));
    cleanups.push(() => rotated.close());
    const rec = new Recorder({ container: 'mp4', codec: 'avc' });
    await rec.record(rotated);
    const late = solidFrame(0, 240, 320);
    await rec.write(late);
    expect(isClosed(late)).to.equal(true);
    expect(rec.stats.framesRefused).to.equal(1);
    const probe = await ffprobe((await rec.finalize()) as Blob, 'mp4');
    const video = videoStream(probe)!;
    expect([video.width, video.height], 'drawn upright by the encoder worker').to.deep.equal([240, 320]);
    expect(Number(video.nb_read_frames)).to.equal(30);
  });

  it('Recorder, codec fallback: the first codec this browser can encode wins', async () => {
    const original = VideoEncoder.isConfigSupported.bind(VideoEncoder);
    // Pretend this browser has no H.264 encoder.
    VideoEncoder.isConfigSupported = (config) =>
      config.codec.startsWith('avc1') ? Promise.resolve({ supported: false, config }) : original(config);
    try {
      const rec = new Recorder({ container: 'mp4', codec: 'avc' });
      await rec.write(solidFrame(0, 160, 120));
      const probe = await ffprobe((await rec.finalize()) as Blob, 'mp4');
      expect(rec.codec).to.equal('vp9');
      expect(videoStream(probe)!.codec_name).to.equal('vp9');
      // A WebM recording skips H.264 without asking.
      const webm = new Recorder({ container: 'webm', codec: ['avc', 'vp8'] });
      const started = new Promise((resolve) => webm.on('start', resolve));
      await webm.write(solidFrame(0, 160, 120));
      expect(await started).to.include({ codec: 'vp8' });
      expect(webm.codec).to.equal('vp8');
      await webm.cancel();
      // Nothing encodable: a typed error (an event, then the next write() and finalize()), and the frames closed.
      VideoEncoder.isConfigSupported = (config) => Promise.resolve({ supported: false, config });
      const none = new Recorder();
      const failed = new Promise<{ error: FramewireError }>((resolve) => none.on('error', resolve));
      const frame = solidFrame(0, 160, 120);
      await none.write(frame);
      expect((await failed).error.code).to.equal('FW_ERR_CODEC_UNSUPPORTED');
      const late = solidFrame(40_000, 160, 120);
      expect(((await rejection(() => none.write(late))) as FramewireError).code).to.equal('FW_ERR_CODEC_UNSUPPORTED');
      expect(((await rejection(() => none.finalize())) as FramewireError).code).to.equal('FW_ERR_CODEC_UNSUPPORTED');
      expect(isClosed(frame) && isClosed(late)).to.equal(true);
    } finally {
      VideoEncoder.isConfigSupported = original;
    }
  });

  /** Holds every encoder start of this page (the codec probe) until the returned `release()` is called. */
  function holdEncoderStarts(): { release(): void; restore(): void } {
    const original = VideoEncoder.isConfigSupported.bind(VideoEncoder);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    VideoEncoder.isConfigSupported = async (config) => {
      await gate;
      return original(config);
    };
    return { release, restore: () => (VideoEncoder.isConfigSupported = original) };
  }

  /** Resolves once every frame of `frames` is closed (held frames are copies: the originals go back at once). */
  async function allClosed(frames: VideoFrame[]): Promise<void> {
    while (!frames.every(isClosed)) await new Promise((resolve) => requestAnimationFrame(resolve));
  }

  it('Recorder, frames given while the encoder starts are held as copies and all recorded', async () => {
    const held = holdEncoderStarts();
    cleanups.push(() => Promise.resolve(held.restore()));
    const rec = new Recorder({ container: 'webm', codec: 'vp9' });
    const frames: VideoFrame[] = [];
    for (let i = 0; i < 40; i++) {
      const frame = solidFrame(Math.round(i * FRAME_US), 320, 240, `hsl(${i * 9} 80% 50%)`);
      frames.push(frame);
      await rec.write(frame); // resolves with the encoder still starting
    }
    expect(rec.codec, 'the encoder has not started yet').to.equal(undefined);
    expect(rec.stats).to.include({ framesWritten: 40, framesBuffered: 40, framesDropped: 0 });
    await allClosed(frames);
    held.release();
    const blob = (await rec.finalize()) as Blob;
    expect(rec.stats).to.include({ framesBuffered: 0, framesDropped: 0 });
    const probe = await ffprobe(blob, 'webm');
    expect(Number(videoStream(probe)!.nb_read_frames)).to.equal(40);
  });

  it('Recorder, whenBehind: "drop" drops beyond maxBufferedFrames, counts it and warns once; "wait" waits', async () => {
    const held = holdEncoderStarts();
    cleanups.push(() => Promise.resolve(held.restore()));
    const dropping = new Recorder({ container: 'webm', codec: 'vp8', whenBehind: 'drop', maxBufferedFrames: 5 });
    const behind: unknown[] = [];
    dropping.on('behind', (payload) => behind.push(payload));
    const frames = Array.from({ length: 8 }, (_, i) => solidFrame(Math.round(i * FRAME_US), 160, 120));
    for (const frame of frames) await dropping.write(frame);
    expect(dropping.stats).to.include({ framesWritten: 5, framesBuffered: 5, framesDropped: 3 });
    expect(behind).to.deep.equal([{ codec: undefined, framesDropped: 1 }]);
    await allClosed(frames);

    const waiting = new Recorder({ container: 'webm', codec: 'vp8', maxBufferedFrames: 5 });
    const first = Array.from({ length: 5 }, (_, i) => solidFrame(Math.round(i * FRAME_US), 160, 120));
    for (const frame of first) await waiting.write(frame);
    await allClosed(first);
    let sixthDone = false;
    const sixth = waiting.write(solidFrame(Math.round(5 * FRAME_US), 160, 120)).then(() => (sixthDone = true));
    // The five held frames are copied and the sixth write is still waiting for room.
    await new Promise((resolve) => requestAnimationFrame(resolve));
    expect(sixthDone, 'a full buffer makes write() wait').to.equal(false);
    held.release();
    await sixth;
    const probes = await Promise.all(
      [dropping, waiting].map(async (rec) => ffprobe((await rec.finalize()) as Blob, 'webm')),
    );
    expect(probes.map((probe) => Number(videoStream(probe)!.nb_read_frames))).to.deep.equal([5, 6]);
    expect(waiting.stats.framesDropped).to.equal(0);
  });

  it('Recorder, a cancel while frames are held closes them all', async () => {
    const held = holdEncoderStarts();
    cleanups.push(() => Promise.resolve(held.restore()));
    const rec = new Recorder({ container: 'webm', codec: 'vp8' });
    const frames = Array.from({ length: 10 }, (_, i) => solidFrame(Math.round(i * FRAME_US), 160, 120));
    for (const frame of frames) await rec.write(frame);
    const cancelled = rec.cancel();
    held.release();
    await cancelled;
    await allClosed(frames);
    expect(((await rejection(() => rec.finalize())) as FramewireError).code).to.equal('FW_ERR_CLOSED');
  });

  it('Recorder, quantizer mode, key frame interval and an output size other than the frames', async () => {
    const blob = await recordFrames({
      container: 'webm',
      codec: 'vp9',
      bitrateMode: 'quantizer',
      quantizer: 20,
      keyframeIntervalFrames: 10,
      width: 160,
      height: 120,
    });
    const probe = await ffprobe(blob, 'webm');
    const video = videoStream(probe)!;
    expect([video.width, video.height]).to.deep.equal([160, 120]);
    expect(Number(video.nb_read_frames)).to.equal(30);
  });

  it('Recorder, frames of changing size: scaled by default; refused with sizeChange "fail", output stays valid', async () => {
    const scaled = new Recorder({ container: 'mp4', codec: 'avc' });
    for (let i = 0; i < 10; i++)
      await scaled.write(solidFrame(Math.round(i * FRAME_US), i < 5 ? 320 : 200, i < 5 ? 240 : 100));
    const probe = await ffprobe((await scaled.finalize()) as Blob, 'mp4');
    expect([
      videoStream(probe)!.width,
      videoStream(probe)!.height,
      Number(videoStream(probe)!.nb_read_frames),
    ]).to.deep.equal([320, 240, 10]);

    const strict = new Recorder({ container: 'mp4', codec: 'avc', sizeChange: 'fail' });
    const errors: string[] = [];
    strict.on('error', ({ error, fatal }) => errors.push(`${error.code}:${fatal}`));
    for (let i = 0; i < 5; i++) await strict.write(solidFrame(Math.round(i * FRAME_US), 320, 240));
    const odd = solidFrame(Math.round(5 * FRAME_US), 200, 100);
    const error = (await rejection(() => strict.write(odd))) as FramewireError;
    expect(error.code).to.equal('FW_ERR_FRAME_SIZE_CHANGED');
    expect(isClosed(odd)).to.equal(true);
    await strict.write(solidFrame(Math.round(6 * FRAME_US), 320, 240));
    const mp4 = await readMp4((await strict.finalize()) as Blob);
    expect(mp4.frames).to.equal(6);
    expect(strict.stats.framesRefused).to.equal(1);
    expect(errors).to.deep.equal(['FW_ERR_FRAME_SIZE_CHANGED:false']);
  });

  it('Recorder, OPFS target: finalize() gives the file handle, written in place, no journal left', async () => {
    const blob = await (async () => {
      const rec = new Recorder({ container: 'mp4', codec: 'avc', target: { opfs: 'test-opfs.mp4' } });
      for (let i = 0; i < 30; i++) await rec.write(solidFrame(Math.round(i * FRAME_US), 320, 240));
      const handle = (await rec.finalize()) as FileSystemFileHandle;
      expect(handle.name).to.equal('test-opfs.mp4');
      return handle.getFile();
    })();
    const folder = await opfsFolder();
    cleanups.push(() => folder.removeEntry('test-opfs.mp4'));
    const names: string[] = [];
    for await (const name of (folder as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    expect(names).to.not.include('test-opfs.mp4.journal.json');
    const mp4 = await readMp4(blob);
    expect([mp4.fragmented, mp4.frames]).to.deep.equal([true, 30]);
    expect(Number(videoStream(await ffprobe(blob, 'mp4'))!.nb_read_frames)).to.equal(30);
  });

  it('Recorder, file handle target (an OPFS handle stands in for showSaveFilePicker())', async () => {
    const folder = await opfsFolder();
    const handle = await folder.getFileHandle('picked.webm', { create: true });
    cleanups.push(() => folder.removeEntry('picked.webm'));
    const rec = new Recorder({ container: 'webm', codec: 'vp8', target: { handle } });
    for (let i = 0; i < 15; i++) await rec.write(solidFrame(Math.round(i * FRAME_US), 160, 120));
    expect(await rec.finalize()).to.equal(handle);
    const probe = await ffprobe(await handle.getFile(), 'webm');
    expect(Number(videoStream(probe)!.nb_read_frames)).to.equal(15);
  });

  it('Recorder, streaming HTTP upload: fragments arrive as they are made; the server’s copy plays', async () => {
    const uploads = await server('upload', { ext: 'mp4' });
    const rec = new Recorder({
      container: 'mp4',
      codec: 'avc',
      fragmentDurationMs: 250,
      keyframeIntervalFrames: 5,
      target: { upload: `${uploads.url}/upload`, chunkBytes: 1 << 20 },
    });
    for (let i = 0; i < 30; i++) await rec.write(solidFrame(Math.round(i * FRAME_US), 320, 240));
    // Encoding and muxing run behind write(): give the completed fragments time to go out (on a loaded machine too).
    const before = await until(async () => {
      const stats = await uploads.stats();
      return Object.keys(stats.uploads).length > 0 ? stats : null;
    }, 'the first fragment to be uploaded');
    const receipt = (await rec.finalize()) as UploadReceipt;
    const after = await uploads.stats();
    const upload = after.uploads[receipt.uploadId]!;
    expect(Object.values(before.uploads)[0]?.requests ?? 0, 'fragments went out before finalize()').to.be.greaterThan(
      0,
    );
    expect(upload.final).to.equal(receipt.bytes);
    expect(upload.bytes).to.equal(receipt.bytes);
    expect(upload.probe?.error, upload.probe?.error).to.equal(undefined);
    expect(Number(upload.probe!.streams[0]!.nb_read_frames)).to.equal(30);
  });

  it('Recorder, an upload endpoint that refuses fails with FW_ERR_WRITE_FAILED', async () => {
    const refusing = await server('upload', { failStatus: 403 });
    const rec = new Recorder({ container: 'mp4', codec: 'avc', target: { upload: refusing.url, chunkBytes: 1024 } });
    const error = (await rejection(async () => {
      for (let i = 0; i < 30; i++) await rec.write(solidFrame(Math.round(i * FRAME_US), 320, 240));
      await rec.finalize();
    })) as FramewireError;
    expect(error.code).to.equal('FW_ERR_WRITE_FAILED');
    expect(error.details['status']).to.equal(403);
  });

  it('Recorder, a closed tab loses at most the last fragment and recover() finalizes the rest', async () => {
    // A page records into OPFS and is torn down mid-recording (its document and workers die with it).
    const frame = document.createElement('iframe');
    frame.srcdoc = `<script src="/packages/browser-sdk/dist/framewire.min.js"></script><script>
      (async () => {
        const rec = new Framewire.Recorder({ container: 'mp4', codec: 'avc', fragmentDurationMs: 200,
          keyframeIntervalFrames: 6, target: { opfs: 'crash.mp4' } });
        const canvas = new OffscreenCanvas(320, 240); const ctx = canvas.getContext('2d');
        for (let i = 0; ; i++) {
          ctx.fillStyle = 'hsl(' + (i * 12) + ' 80% 50%)'; ctx.fillRect(0, 0, 320, 240);
          await rec.write(new VideoFrame(canvas, { timestamp: Math.round(i * 1e6 / 30) }));
          if (i === 45) parent.postMessage('recording', '*');
          await new Promise((r) => setTimeout(r, 5));
        }
      })().catch((e) => parent.postMessage('failed: ' + e, '*'));
    </script>`;
    const recording = new Promise<string>((resolve) =>
      addEventListener('message', (e) => resolve(String(e.data)), { once: true }),
    );
    document.body.append(frame);
    expect(await within(recording, 90_000, 'the page records')).to.equal('recording');
    frame.remove();
    const folder = await opfsFolder();
    cleanups.push(() => folder.removeEntry('crash.mp4').catch(() => undefined));
    // The dead page's worker releases its file lock shortly after.
    const recovered = await until(async () => {
      const found = await Recorder.recover();
      return found.length > 0 ? found : null;
    }, 'the dead page to release its recording');
    expect(recovered.map((r) => r.name)).to.deep.equal(['crash.mp4']);
    const file = await recovered[0]!.handle.getFile();
    expect(file.size).to.equal(recovered[0]!.bytes);
    const mp4 = await readMp4(file);
    expect(mp4.fragmented).to.equal(true);
    // At least the fragments before frame 45 minus the last one in progress (6-frame key interval).
    expect(mp4.frames).to.be.at.least(30);
    const probe = await ffprobe(file, 'mp4');
    expect(probe.error, probe.error).to.equal(undefined);
    expect(Number(videoStream(probe)!.nb_read_frames)).to.equal(mp4.frames);
    expect(await Recorder.recover(), 'recovered once').to.deep.equal([]);
  });

  it('Recorder, misuse fails with typed errors and closes the frames it was given', async () => {
    const invalid: [RecorderOptions, string][] = [
      [{ container: 'avi' as 'mp4' }, 'options.container'],
      [{ codec: 'h263' as 'avc' }, 'options.codec'],
      [{ bitrateBps: -1 }, 'options.bitrateBps'],
      [{ width: 321 }, 'options.width'],
      [{ bitrateMode: 'cbr' as 'constant' }, 'options.bitrateMode'],
      [{ target: { opfs: '../escape.mp4' } }, 'options.target'],
      [{ target: { opfs: 'x.mp4' }, fragmented: false }, 'options.fragmented'],
      [{ audio: 'sound' as unknown as Blob }, 'options.audio'],
    ];
    for (const [options, named] of invalid) {
      let error: unknown;
      try {
        new Recorder(options);
      } catch (caught) {
        error = caught;
      }
      expect((error as FramewireError).code).to.equal('FW_ERR_INVALID_OPTION');
      expect((error as FramewireError).message).to.contain(named);
    }
    const empty = new Recorder();
    expect(((await rejection(() => empty.finalize())) as FramewireError).code).to.equal('FW_ERR_ENCODE_FAILED');
    const done = new Recorder({ container: 'webm', codec: 'vp8' });
    await done.write(solidFrame(0, 160, 120));
    await done.finalize();
    const late = solidFrame(40_000, 160, 120);
    expect(((await rejection(() => done.write(late))) as FramewireError).code).to.equal('FW_ERR_CLOSED');
    expect(isClosed(late)).to.equal(true);
    expect(await done.finalize(), 'finalize() is idempotent').to.be.instanceOf(Blob);
    const noAudio = new Recorder({ audio: await mediaBlob('h264.mp4') });
    const frame = solidFrame(0, 160, 120);
    await noAudio.write(frame);
    expect(((await rejection(() => noAudio.finalize())) as FramewireError).code).to.equal('FW_ERR_MEDIA_UNREADABLE');
    expect(isClosed(frame)).to.equal(true);
    for (const [options, named] of [
      [{ whenBehind: 'later' as 'wait' }, 'options.whenBehind'],
      [{ maxBufferedFrames: 0 }, 'options.maxBufferedFrames'],
    ] as const) {
      expect(() => new Recorder(options)).to.throw(named);
    }
  });
});
