import { expect } from 'chai';
import {
  type FramewireError,
  CameraSource,
  QueuedFrameSource,
  Stabilizer,
  assetUrl,
  setAssetBaseUrl,
  getCaptureTime,
  stabilize,
  stampCaptureTime,
  type StabilizerOptions,
  type StabilizerTransform,
} from '@framewire/browser-sdk';
import { isClosed, rejection, solidFrame, thrown, until, within } from '../helpers/browser.js';
import {
  interFrameFidelity,
  lumaOf,
  rmsAroundLine,
  shakyFrame,
  shakyPositions,
  shiftBetween,
  texturedScene,
} from '../helpers/shaky-video.js';

const W = 320;
const H = 240;

/** Writes `frames` through a new Stabilizer and collects every output with its transform. */
async function run(
  frames: VideoFrame[],
  options: StabilizerOptions = {},
): Promise<{
  outputs: VideoFrame[];
  transforms: StabilizerTransform[];
  stabilizer: Stabilizer;
  events: StabilizerTransform[];
}> {
  const stabilizer = new Stabilizer(options);
  const events: StabilizerTransform[] = [];
  stabilizer.on('transform', (t) => events.push(t));
  const outputs: VideoFrame[] = [];
  const reading = (async () => {
    const reader = stabilizer.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) outputs.push(r.value);
  })();
  const writer = stabilizer.writable.getWriter();
  for (const frame of frames) await writer.write(frame);
  await writer.close();
  await within(reading, 60_000, 'all stabilized frames');
  const transforms = outputs.map((f) => stabilizer.transformOf(f)!);
  return { outputs, transforms, stabilizer, events };
}

function shakyClip(frames: number, jitterPx: number, panPxPerFrame: number): { frames: VideoFrame[]; truth: number[] } {
  const scene = texturedScene(W * 2, H * 2);
  const positions = shakyPositions({ frames, jitterPx, panPxPerFrame });
  return {
    frames: positions.map((p, i) => stampCaptureTime(shakyFrame(scene, p, i, W, H), 1_000_000 + i)),
    truth: positions.map((p) => p.panX + p.jitterX),
  };
}

/** Horizontal content position of each frame relative to the first, measured on the pictures. */
function track(lumas: ReturnType<typeof lumaOf>[]): { x: number[]; y: number[] } {
  const x = [0];
  const y = [0];
  for (let i = 1; i < lumas.length; i++) {
    const s = shiftBetween(lumas[i - 1]!, lumas[i]!, 16);
    x.push(x[i - 1]! + s.dx);
    y.push(y[i - 1]! + s.dy);
  }
  return { x, y };
}

/** A finite source of the given frames, for `stabilize()`. */
class ListSource extends QueuedFrameSource {
  constructor(frames: VideoFrame[]) {
    super('list', { capacity: 2 }, 'backpressure');
    void (async () => {
      for (const frame of frames) if (!(await this.deliver(frame, 5_000))) return;
      this.finish();
    })();
  }

  protected release(): void {
    // Nothing to release: the frames were handed over.
  }
}

/** Mean luma of a `size`×`size` square at (`x`, `y`) of `frame`. */
function meanLuma(frame: VideoFrame, x: number, y: number, size: number): number {
  const luma = lumaOf(frame);
  let sum = 0;
  for (let j = y; j < y + size; j++) for (let i = x; i < x + size; i++) sum += luma.data[j * luma.width + i]!;
  return sum / (size * size);
}

describe('Stabilizer', () => {
  it('Stabilizer, lookaheadFrames 0: removes most of the jitter with no delay, keeps the pan, N in = N out with timestamps and stamps', async () => {
    const { frames, truth } = shakyClip(60, 5, 1);
    const inputLumas = frames.map(lumaOf);
    const { outputs, transforms, events, stabilizer } = await run(frames, { smoothingRadius: 25 });
    expect(frames.every(isClosed), 'inputs were handed over and closed').to.equal(true);
    expect(outputs).to.have.length(60);
    expect(outputs.map((f) => f.timestamp)).to.deep.equal(frames.map((_, i) => i * 33_333));
    expect(outputs.map((f) => f.duration)).to.deep.equal(frames.map(() => 33_333));
    expect(outputs.map((f) => getCaptureTime(f))).to.deep.equal(frames.map((_, i) => 1_000_000 + i));
    expect(outputs.map((f) => [f.displayWidth, f.displayHeight])).to.deep.equal(frames.map(() => [W, H]));
    expect(events).to.deep.equal(transforms, 'transform events and transformOf() agree, in order');
    expect(stabilizer.lastTransform).to.deep.equal(transforms[59]);
    expect(transforms.map((t) => t.delayFrames)).to.deep.equal(frames.map(() => 0));
    expect(transforms.filter((t) => t.motionFound)).to.have.length(59, 'all but the first frame');
    expect(stabilizer.stats).to.include({ framesIn: 60, framesOut: 60, framesSkipped: 0, framesInFlight: 0 });

    const outputLumas = outputs.map(lumaOf);
    const input = track(inputLumas);
    const output = track(outputLumas);
    // The measurement sees the known input motion (the picture moves left as the camera position grows).
    for (const [i, x] of input.x.entries()) expect(-x).to.be.closeTo(truth[i]! - truth[0]!, 0.75);
    const inX = rmsAroundLine(input.x);
    const inY = rmsAroundLine(input.y);
    // Skip the first frames: a causal window has few frames to average there.
    const outX = rmsAroundLine(output.x.slice(10));
    const outY = rmsAroundLine(output.y.slice(10));
    expect(outX.rms / inX.rms, 'horizontal jitter left').to.be.below(0.5);
    expect(outY.rms / inY.rms, 'vertical jitter left').to.be.below(0.5);
    expect(outX.slope, 'the pan is kept').to.be.closeTo(inX.slope, 0.1);
    expect(interFrameFidelity(outputLumas), 'ITF rises').to.be.above(interFrameFidelity(inputLumas) + 5);
    for (const t of transforms) {
      expect(t.scale).to.equal(1);
      expect(t.crop.width / W).to.be.closeTo(t.crop.height / H, 1e-6);
      expect(t.crop.width).to.be.within(0, W);
      expect(t.crop.x).to.be.closeTo((W - t.crop.width) / 2, 1e-6);
    }
    const moved = transforms.find((t) => Math.abs(t.dx) > 2)!;
    expect(moved.crop.width, 'a moved frame needs a crop').to.be.below(W - 4);
    for (const f of outputs) f.close();
    expect(outputs.every(isClosed)).to.equal(true);
  });

  it('Stabilizer, lookaheadFrames 12: smoother, each frame delayed 12 frames but the last ones, all flushed', async () => {
    const { frames } = shakyClip(60, 5, 1);
    const inputLumas = frames.map(lumaOf);
    const { outputs, transforms } = await run(frames, { smoothingRadius: 25, lookaheadFrames: 12 });
    expect(outputs).to.have.length(60);
    expect(outputs.map((f) => f.timestamp)).to.deep.equal(frames.map((_, i) => i * 33_333));
    expect(outputs.map((f) => getCaptureTime(f))).to.deep.equal(frames.map((_, i) => 1_000_000 + i));
    expect(transforms.map((t) => t.delayFrames)).to.deep.equal(frames.map((_, i) => Math.min(12, 59 - i)));
    const input = track(inputLumas);
    const output = track(outputs.map(lumaOf));
    const inX = rmsAroundLine(input.x);
    const outX = rmsAroundLine(output.x);
    const outY = rmsAroundLine(output.y);
    expect(outX.rms / inX.rms, 'horizontal jitter left').to.be.below(0.25);
    expect(outY.rms / rmsAroundLine(input.y).rms, 'vertical jitter left').to.be.below(0.25);
    expect(outX.slope, 'the pan is kept').to.be.closeTo(inX.slope, 0.1);
    for (const f of outputs) f.close();
  });

  it('Stabilizer, borderSize grows the output and fills it by borderType; cropAndZoom keeps the size and zooms', async () => {
    const clip = (): VideoFrame[] => shakyClip(8, 4, 0).frames;
    const black = await run(clip(), { borderSize: 16 });
    expect(black.outputs.map((f) => [f.displayWidth, f.displayHeight])).to.deep.equal(
      black.outputs.map(() => [W + 32, H + 32]),
    );
    expect(meanLuma(black.outputs[4]!, 0, 0, 8), 'black corner').to.be.below(2);
    for (const borderType of ['reflect', 'reflect101', 'replicate', 'wrap'] as const) {
      const { outputs } = await run(clip(), { borderSize: 16, borderType });
      expect(outputs, borderType).to.have.length(8);
      expect(meanLuma(outputs[4]!, 0, 0, 8), `${borderType} fills the corner with picture`).to.be.above(10);
      for (const f of outputs) f.close();
    }
    const zoomed = await run(clip(), { borderSize: 16, cropAndZoom: true, borderType: 'wrap' });
    expect(zoomed.stabilizer.options.borderType, 'forced to black, as in vidgear').to.equal('black');
    expect(zoomed.outputs.map((f) => [f.displayWidth, f.displayHeight])).to.deep.equal(
      zoomed.outputs.map(() => [W, H]),
    );
    expect(zoomed.transforms[4]!.scale).to.be.closeTo(Math.max(W / (W - 32), H / (H - 32)), 1e-9);
    for (const f of [...black.outputs, ...zoomed.outputs]) f.close();
  });

  it('Stabilizer, black and flat frames: identity transform (motionFound false), every frame out', async () => {
    const frames = [
      ...Array.from({ length: 5 }, (_, i) => solidFrame(i * 1000, W, H, '#000')),
      ...Array.from({ length: 5 }, (_, i) => solidFrame((5 + i) * 1000, W, H, '#888')),
    ];
    const { outputs, transforms, stabilizer } = await run(frames, { lookaheadFrames: 3 });
    expect(outputs).to.have.length(10);
    expect(outputs.map((f) => f.timestamp)).to.deep.equal(frames.map((_, i) => i * 1000));
    for (const t of transforms) {
      expect(t.motionFound).to.equal(false);
      expect([t.dx, t.dy, t.angle]).to.deep.equal([0, 0, 0]);
      expect(t.crop).to.deep.equal({ x: 0, y: 0, width: W, height: H });
    }
    expect(stabilizer.stats.framesWithoutMotion).to.equal(10);
    expect(meanLuma(outputs[7]!, 100, 100, 8)).to.be.closeTo(0x88, 3);
    for (const f of outputs) f.close();
  });

  it('Stabilizer, frames that change size: each output keeps its input size, none lost, order kept', async () => {
    const scene = texturedScene(W * 2, H * 2);
    const sizes = [...Array(5).fill([W, H]), ...Array(4).fill([160, 120]), ...Array(3).fill([W, H])] as [
      number,
      number,
    ][];
    const positions = shakyPositions({ frames: sizes.length, jitterPx: 3, panPxPerFrame: 0 });
    const frames = sizes.map(([w, h], i) => shakyFrame(scene, positions[i]!, i, w, h));
    const { outputs, transforms } = await run(frames, { lookaheadFrames: 3, smoothingRadius: 5 });
    expect(outputs.map((f) => [f.displayWidth, f.displayHeight])).to.deep.equal(sizes);
    expect(outputs.map((f) => f.timestamp)).to.deep.equal(sizes.map((_, i) => i * 33_333));
    expect(transforms[5]!.motionFound, 'first frame of a new size').to.equal(false);
    expect(transforms[9]!.motionFound).to.equal(false);
    for (const f of outputs) f.close();
  });

  it('Stabilizer, a 1-frame stream and an empty stream end cleanly', async () => {
    const one = await run([solidFrame(42, W, H)], { lookaheadFrames: 5 });
    expect(one.outputs.map((f) => f.timestamp)).to.deep.equal([42]);
    expect(one.transforms[0]).to.include({ dx: 0, dy: 0, angle: 0, motionFound: false, delayFrames: 0 });
    one.outputs[0]!.close();
    const none = await run([]);
    expect(none.outputs).to.have.length(0);
  });

  it('Stabilizer, frames closed by the caller are skipped with a non-fatal FW_ERR_FRAME_UNUSABLE; the rest come out', async () => {
    const { frames } = shakyClip(6, 3, 0);
    frames[2]!.close();
    frames[4]!.close();
    const stabilizer = new Stabilizer({ lookaheadFrames: 2 });
    const errors: { error: FramewireError; fatal: boolean }[] = [];
    stabilizer.on('error', (e) => errors.push(e));
    const outputs: VideoFrame[] = [];
    const writing = (async () => {
      const writer = stabilizer.writable.getWriter();
      for (const f of frames) await writer.write(f);
      await writer.close();
    })();
    for await (const frame of stabilizer.readable as unknown as AsyncIterable<VideoFrame>) outputs.push(frame);
    await writing;
    expect(outputs.map((f) => f.timestamp)).to.deep.equal([0, 1, 3, 5].map((i) => i * 33_333));
    expect(errors.map((e) => [e.error.code, e.fatal, e.error.details['seq']])).to.deep.equal([
      ['FW_ERR_FRAME_UNUSABLE', false, 2],
      ['FW_ERR_FRAME_UNUSABLE', false, 4],
    ]);
    expect(stabilizer.stats).to.include({ framesIn: 6, framesOut: 4, framesSkipped: 2 });
    for (const f of outputs) f.close();
  });

  it('Stabilizer, bad options fail with FW_ERR_INVALID_OPTION naming the option', () => {
    const cases: [StabilizerOptions, string][] = [
      [{ smoothingRadius: 0 }, 'options.smoothingRadius'],
      [{ smoothingRadius: 2.5 }, 'options.smoothingRadius'],
      [{ smoothingRadius: 10, lookaheadFrames: 11 }, 'options.lookaheadFrames'],
      [{ lookaheadFrames: -1 }, 'options.lookaheadFrames'],
      [{ borderSize: -2 }, 'options.borderSize'],
      [{ cropAndZoom: 'yes' as unknown as boolean }, 'options.cropAndZoom'],
      [{ borderType: 'mirror' as unknown as 'black' }, 'options.borderType'],
      [{ analysisWidth: 10 }, 'options.analysisWidth'],
    ];
    for (const [options, name] of cases) {
      const error = thrown(() => new Stabilizer(options)) as FramewireError;
      expect(error.code, name).to.equal('FW_ERR_INVALID_OPTION');
      expect(error.message).to.contain(name);
    }
    expect(new Stabilizer().options).to.deep.equal({
      smoothingRadius: 25,
      lookaheadFrames: 0,
      borderSize: 0,
      cropAndZoom: false,
      borderType: 'black',
      analysisWidth: 320,
      smoothing: 'window',
    });
  });

  it('Stabilizer, close() is idempotent and errors both sides with FW_ERR_CLOSED', async () => {
    const stabilizer = new Stabilizer();
    const writer = stabilizer.writable.getWriter();
    const reader = stabilizer.readable.getReader();
    const first = shakyClip(1, 0, 0).frames[0]!;
    // The readable side has no buffer: a frame is transformed when someone reads.
    const reading = reader.read();
    await writer.write(first);
    const out = await reading;
    expect(out.value?.timestamp).to.equal(0);
    out.value?.close();
    stabilizer.close();
    stabilizer.close();
    const late = solidFrame(1, W, H);
    // A rejected write leaves the frame with the caller.
    expect(((await rejection(() => writer.write(late))) as FramewireError).code).to.equal('FW_ERR_CLOSED');
    late.close();
    expect(((await rejection(() => reader.read())) as FramewireError).code).to.equal('FW_ERR_CLOSED');
  });

  it('Stabilizer, a worker that cannot load fails with one fatal FW_ERR_WORKER_FAILED and errors the stream', async () => {
    const base = assetUrl('');
    setAssetBaseUrl('/no-such-folder/');
    try {
      const stabilizer = new Stabilizer();
      const errors: { error: FramewireError; fatal: boolean }[] = [];
      stabilizer.on('error', (e) => errors.push(e));
      const writer = stabilizer.writable.getWriter();
      const frame = solidFrame(0, W, H);
      const failure = (await rejection(async () => {
        await writer.write(frame);
        await writer.write(solidFrame(1, W, H));
        await writer.close();
      })) as FramewireError;
      expect(failure.code).to.equal('FW_ERR_WORKER_FAILED');
      expect(errors.map((e) => [e.error.code, e.fatal])).to.deep.equal([['FW_ERR_WORKER_FAILED', true]]);
      stabilizer.close();
    } finally {
      setAssetBaseUrl(base);
    }
  });

  it('stabilize(source), wraps a FrameSource: every frame, stamps kept, end event, close() twice', async () => {
    const { frames } = shakyClip(12, 4, 1);
    const source = new ListSource(frames);
    const steady = stabilize(source, { smoothingRadius: 9, lookaheadFrames: 4 });
    expect(steady.kind).to.equal('list');
    const ends: string[] = [];
    steady.on('end', ({ reason }) => ends.push(reason));
    const timestamps: number[] = [];
    const stamps: (number | undefined)[] = [];
    let frame: VideoFrame | null;
    while ((frame = await steady.read())) {
      timestamps.push(frame.timestamp);
      stamps.push(getCaptureTime(frame));
      expect(steady.stabilizer.transformOf(frame)).to.be.an('object');
      frame.close();
    }
    expect(timestamps).to.deep.equal(frames.map((_, i) => i * 33_333));
    expect(stamps).to.deep.equal(frames.map(() => 5_000));
    expect(ends).to.deep.equal(['ended']);
    await steady.close();
    await steady.close();
    expect(source.ended).to.equal(true);
  });

  it('stabilize(CameraSource) with look-ahead holds copies, not camera buffers: the camera keeps delivering', async () => {
    const camera = await CameraSource.open({ width: 640, height: 480 });
    const steady = stabilize(camera, { smoothingRadius: 10, lookaheadFrames: 6 });
    try {
      for (let i = 0; i < 12; i++) {
        const frame = await within(steady.read(), 60_000, `stabilized camera frame ${i}`);
        expect(frame?.displayWidth).to.equal(640);
        expect(getCaptureTime(frame!)).to.be.a('number');
        frame?.close();
      }
    } finally {
      await steady.close();
    }
    expect(camera.ended).to.equal(true);
  });

  it('Stabilizer, I420 frames (what a software decoder gives): motion measured on the luma plane, as on RGB frames of the same picture', async () => {
    const rgb = shakyClip(40, 5, 1);
    // The same pictures as I420: BT.601 limited-range luma, neutral chroma.
    const i420 = rgb.frames.map((frame) => {
      const luma = lumaOf(frame);
      const planes = new Uint8Array((W * H * 3) / 2).fill(128);
      for (let i = 0; i < W * H; i++) planes[i] = Math.round(16 + (219 * luma.data[i]!) / 255);
      const init = { format: 'I420', codedWidth: W, codedHeight: H, timestamp: frame.timestamp } as const;
      return stampCaptureTime(new VideoFrame(planes, { ...init, duration: 33_333 }), getCaptureTime(frame));
    });
    expect(i420[0]!.format).to.equal('I420');
    const fromI420 = await run(i420, { smoothingRadius: 25 });
    const fromRgb = await run(rgb.frames, { smoothingRadius: 25 });
    expect(i420.every(isClosed)).to.equal(true);
    expect(fromI420.outputs.map((f) => f.timestamp)).to.deep.equal(rgb.frames.map((_, i) => i * 33_333));
    expect(fromI420.outputs.map((f) => getCaptureTime(f))).to.deep.equal(rgb.frames.map((_, i) => 1_000_000 + i));
    expect(fromI420.transforms.filter((t) => t.motionFound)).to.have.length(39, 'all but the first frame');
    for (const [i, t] of fromI420.transforms.entries()) {
      const r = fromRgb.transforms[i]!;
      expect(t.dx, `dx of frame ${i}`).to.be.closeTo(r.dx, 0.5);
      expect(t.dy, `dy of frame ${i}`).to.be.closeTo(r.dy, 0.5);
      expect(t.angle, `angle of frame ${i}`).to.be.closeTo(r.angle, 0.002);
    }
    for (const f of [...fromI420.outputs, ...fromRgb.outputs]) f.close();
  });

  it('Stabilizer, several frames in flight: while one comes back the next is already in the worker; N in = N out, in order, stamps kept, the window bounded', async () => {
    for (const lookaheadFrames of [0, 4]) {
      const { frames } = shakyClip(30, 4, 1);
      const stabilizer = new Stabilizer({ smoothingRadius: 9, lookaheadFrames });
      // In flight when each frame came out: the frames sent after it and not yet back.
      const behind: number[] = [];
      stabilizer.on('transform', () => behind.push(stabilizer.stats.framesInFlight));
      const inFlightAfterWrite: number[] = [];
      const writing = (async () => {
        const writer = stabilizer.writable.getWriter();
        for (const frame of frames) {
          await writer.write(frame);
          inFlightAfterWrite.push(stabilizer.stats.framesInFlight);
        }
        await writer.close();
      })();
      const outputs: VideoFrame[] = [];
      for await (const frame of stabilizer.readable as unknown as AsyncIterable<VideoFrame>) outputs.push(frame);
      await within(writing, 60_000, 'all frames written');
      expect(frames.every(isClosed), 'inputs handed over').to.equal(true);
      expect(outputs.map((f) => f.timestamp)).to.deep.equal(frames.map((_, i) => i * 33_333));
      expect(outputs.map((f) => getCaptureTime(f))).to.deep.equal(frames.map((_, i) => 1_000_000 + i));
      expect(outputs.map((f) => stabilizer.transformOf(f)!.delayFrames)).to.deep.equal(
        frames.map((_, i) => Math.min(lookaheadFrames, 29 - i)),
      );
      // Beyond the look-ahead, the next frame was already sent when one came out (not one at a time)…
      const overlapped = behind.slice(0, 30 - lookaheadFrames - 1).filter((n) => n > lookaheadFrames).length;
      expect(overlapped, `frames out with the next already in flight, lookahead ${lookaheadFrames}`).to.be.above(0);
      // …and never more than the window: the look-ahead, one being processed, one waiting.
      expect(Math.max(...inFlightAfterWrite, ...behind)).to.be.at.most(lookaheadFrames + 2);
      expect(stabilizer.stats).to.include({ framesIn: 30, framesOut: 30, framesInFlight: 0 });
      for (const f of outputs) f.close();
    }
  });

  it('Stabilizer, close() with frames in flight: reads and writes fail with FW_ERR_CLOSED, frames sent are handed over, nothing comes out', async () => {
    const stabilizer = new Stabilizer();
    const writer = stabilizer.writable.getWriter();
    const reader = stabilizer.readable.getReader();
    const { frames } = shakyClip(4, 3, 0);
    // A pending read lets the transform run; the worker is still loading OpenCV.js, so the frames stay in flight.
    const reading = reader.read().then(
      (r) => r.value,
      (e: unknown) => (e as FramewireError).code,
    );
    const writes = frames.map((f) =>
      writer.write(f).then(
        () => 'written',
        (e: unknown) => (e as FramewireError).code,
      ),
    );
    await until(() => stabilizer.stats.framesIn >= 2, 'two frames sent to the worker');
    const inFlight = stabilizer.stats.framesInFlight;
    stabilizer.close();
    expect(inFlight, 'frames were in flight at close()').to.be.at.least(1);
    const read = await within(reading, 60_000, 'the pending read');
    if (typeof read === 'string') expect(read).to.equal('FW_ERR_CLOSED');
    else read?.close();
    const written = await within(Promise.all(writes), 60_000, 'the writes');
    // The first two were sent to the worker (the second waited for room); the others never left the caller.
    expect(written[0]).to.equal('written');
    expect(written[1]).to.be.oneOf(['written', 'FW_ERR_CLOSED']);
    expect(written.slice(2)).to.deep.equal(['FW_ERR_CLOSED', 'FW_ERR_CLOSED']);
    expect(
      frames.map(isClosed),
      'frames sent were transferred; a rejected write leaves the frame with the caller',
    ).to.deep.equal([true, true, false, false]);
    frames[2]!.close();
    frames[3]!.close();
    expect(((await rejection(() => reader.read())) as FramewireError).code).to.equal('FW_ERR_CLOSED');
    // Nothing came out: a frame the worker would send back after close() is closed, not enqueued.
    expect(stabilizer.stats).to.include({ framesIn: 2, framesOut: 0 });
  });

  it('stabilize(CameraSource), closed again and again with camera frames in flight: no camera frame leaks (the camera keeps delivering)', async () => {
    for (let round = 0; round < 4; round++) {
      const camera = await CameraSource.open({ width: 640, height: 480 });
      const steady = stabilize(camera, { smoothingRadius: 5 });
      const first = await within(steady.read(), 60_000, `round ${round}: a stabilized camera frame`);
      first?.close();
      const pending = steady.read().then(
        (f) => f?.close(),
        () => undefined,
      );
      await until(() => steady.stabilizer.stats.framesInFlight >= 1, `round ${round}: a camera frame in flight`);
      await steady.close();
      await within(pending, 60_000, `round ${round}: the pending read settles`);
    }
    // The fake camera's frames come from a small pool shared by its tracks: leaked frames would stall it here.
    const camera = await CameraSource.open({ width: 640, height: 480 });
    try {
      for (let i = 0; i < 20; i++) (await within(camera.read(), 60_000, `camera frame ${i} after the rounds`))?.close();
    } finally {
      await camera.close();
    }
  });

  it('Stabilizer, OpenCV.js failing to load with frames in flight: one fatal FW_ERR_LAZY_LOAD_FAILED, the stream errors, frames sent are handed over', async () => {
    const base = assetUrl('');
    // The workers load from here, but there is no vendor/opencv.js beside them.
    setAssetBaseUrl('/__fw/sdk-without-opencv/');
    try {
      const stabilizer = new Stabilizer();
      const errors: { error: FramewireError; fatal: boolean }[] = [];
      stabilizer.on('error', (e) => errors.push(e));
      const { frames } = shakyClip(5, 3, 0);
      const reader = stabilizer.readable.getReader();
      const reading = rejection(() => reader.read());
      const writer = stabilizer.writable.getWriter();
      const writes = frames.map((f) =>
        writer.write(f).then(
          () => 'written',
          (e: unknown) => (e as FramewireError).code,
        ),
      );
      await until(() => stabilizer.stats.framesIn >= 2, 'frames sent to the worker');
      const failure = (await within(reading, 60_000, 'the read fails')) as FramewireError;
      expect(failure.code).to.equal('FW_ERR_LAZY_LOAD_FAILED');
      expect(failure.fatal).to.equal(true);
      expect(errors.map((e) => [e.error.code, e.fatal])).to.deep.equal([['FW_ERR_LAZY_LOAD_FAILED', true]]);
      const written = await within(Promise.all(writes), 60_000, 'the writes');
      // Two frames were in the worker when it failed (it closes them); the rest were refused and stay the caller's.
      expect(written).to.deep.equal(['written', ...frames.slice(1).map(() => 'FW_ERR_LAZY_LOAD_FAILED')]);
      expect(frames.map(isClosed)).to.deep.equal([true, true, false, false, false]);
      for (const frame of frames.slice(2)) frame.close();
      expect(stabilizer.stats).to.include({ framesIn: 2, framesOut: 0 });
      stabilizer.close();
      stabilizer.close();
    } finally {
      setAssetBaseUrl(base);
    }
  });
});
