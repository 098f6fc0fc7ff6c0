import { expect } from 'chai';
import {
  Crop,
  type FramewireError,
  QueuedFrameSource,
  Recorder,
  Resize,
  TransformedSource,
  crop,
  getCaptureTime,
  resize,
  stampCaptureTime,
} from '@framewire/browser-sdk';
import { isClosed, solidFrame, thrown, within } from '../helpers/browser.js';
import { ffprobe } from '../helpers/media.js';

/** The colours of the four quadrants of `quadrantFrame`, top-left, top-right, bottom-left, bottom-right. */
const QUADRANTS = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
] as const;

/** A `width`×`height` RGBA frame (canvas-made) in four solid quadrants (QUADRANTS). */
function quadrantFrame(timestampUs: number, width = 320, height = 240): VideoFrame {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  QUADRANTS.forEach(([r, g, b], i) => {
    context.fillStyle = `rgb(${r} ${g} ${b})`;
    context.fillRect((i % 2) * (width / 2), Math.floor(i / 2) * (height / 2), width / 2, height / 2);
  });
  return new VideoFrame(canvas, { timestamp: timestampUs, duration: 33_333 });
}

/** A `width`×`height` I420 frame whose luma at column x, row y is `x + 2 * y` (flat chroma). */
function lumaRampFrame(width = 64, height = 48): VideoFrame {
  const data = new Uint8Array((width * height * 3) / 2);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = x + 2 * y;
  data.fill(128, width * height);
  return new VideoFrame(data, { format: 'I420', codedWidth: width, codedHeight: height, timestamp: 0 });
}

/** The RGBA pixel at (`x`, `y`) of `frame` as drawn by a 2D canvas at its display size. */
function pixelAt(frame: VideoFrame, x: number, y: number): number[] {
  const canvas = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
  const context = canvas.getContext('2d')!;
  context.drawImage(frame, 0, 0);
  return [...context.getImageData(x, y, 1, 1).data.slice(0, 3)];
}

/** Asserts each channel of `actual` is within 3 of `expected` (colour conversion rounds). */
function expectColour(actual: number[], expected: readonly number[], what: string): void {
  const off = actual.some((v, i) => Math.abs(v - expected[i]!) > 3);
  expect(off, `${what}: ${actual.join(',')} vs ${expected.join(',')}`).to.equal(false);
}

/** Writes `frames` through `transform` and collects the outputs (or the error the stream ended with). */
async function through(
  transform: ReadableWritablePair<VideoFrame, VideoFrame>,
  frames: VideoFrame[],
): Promise<{ outputs: VideoFrame[]; error: unknown }> {
  const outputs: VideoFrame[] = [];
  const reading = (async () => {
    const reader = transform.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) outputs.push(r.value);
  })();
  let error: unknown;
  try {
    const writer = transform.writable.getWriter();
    for (const frame of frames) await writer.write(frame);
    await writer.close();
    await within(reading, 60_000, 'the transformed frames');
  } catch (caught) {
    error = caught;
    await reading.catch(() => undefined);
  }
  return { outputs, error };
}

/** A finite source of the given frames, for `crop()` and `resize()`. */
class ListSource extends QueuedFrameSource {
  released = false;
  constructor(frames: VideoFrame[]) {
    super('list', { capacity: 2 }, 'backpressure');
    void (async () => {
      for (const frame of frames) if (!(await this.deliver(frame))) return;
      this.finish();
    })();
  }

  protected release(): void {
    this.released = true;
  }
}

describe('Crop and Resize', () => {
  const open: VideoFrame[] = [];
  afterEach(() => {
    for (const frame of open.splice(0)) frame.close();
  });

  it('Crop: each quadrant of a pattern comes out with its size, visibleRect and colour, timestamps and stamps kept, inputs closed', async () => {
    for (const [i, colour] of QUADRANTS.entries()) {
      const input = stampCaptureTime(quadrantFrame(1000 + i), 5000 + i);
      const x = (i % 2) * 160;
      const y = Math.floor(i / 2) * 120;
      const { outputs, error } = await through(new Crop({ x, y, width: 160, height: 120 }), [input]);
      expect(error).to.equal(undefined);
      open.push(...outputs);
      const [out] = outputs;
      expect(isClosed(input), 'the input frame was closed').to.equal(true);
      expect([out!.displayWidth, out!.displayHeight]).to.deep.equal([160, 120]);
      expect(out!.visibleRect!.toJSON()).to.deep.include({ x, y, width: 160, height: 120 });
      expect([out!.timestamp, out!.duration, getCaptureTime(out!)]).to.deep.equal([1000 + i, 33_333, 5000 + i]);
      // Corners and centre are inside the quadrant: no pixel of a neighbour leaked in.
      for (const [px, py] of [
        [0, 0],
        [159, 0],
        [0, 119],
        [159, 119],
        [80, 60],
      ] as const)
        expectColour(pixelAt(out!, px, py), colour, `quadrant ${i} at ${px},${py}`);
    }
  });

  it('Crop on I420: an even offset is exact, an odd one is rounded down to even (zero-copy), the size is always exact; a cropped frame crops again', async () => {
    const rampAt = (x: number, y: number): number => x + 2 * y;
    for (const [x, y, expectedX, expectedY] of [
      [10, 6, 10, 6],
      [11, 7, 10, 6],
    ] as const) {
      const input = lumaRampFrame();
      const { outputs } = await through(new Crop({ x, y, width: 21, height: 13 }), [input]);
      open.push(...outputs);
      const out = outputs[0]!;
      expect(isClosed(input)).to.equal(true);
      expect(out.visibleRect!.toJSON()).to.deep.include({ x: expectedX, y: expectedY, width: 21, height: 13 });
      // copyTo() copies the visible rectangle, luma plane first, rows packed (21 bytes each).
      const pixels = new Uint8Array(out.allocationSize());
      await out.copyTo(pixels);
      expect([pixels[0], pixels[21 * 13 - 1]]).to.deep.equal([
        rampAt(expectedX, expectedY),
        rampAt(expectedX + 20, expectedY + 12),
      ]);
    }
    // A crop of a crop is relative to the visible area it was given.
    const { outputs: first } = await through(new Crop({ x: 10, y: 6, width: 40, height: 30 }), [lumaRampFrame()]);
    const { outputs: second } = await through(new Crop({ x: 4, y: 2, width: 8, height: 8 }), first);
    open.push(...second);
    expect(isClosed(first[0]!)).to.equal(true);
    expect(second[0]!.visibleRect!.toJSON()).to.deep.include({ x: 14, y: 8, width: 8, height: 8 });
  });

  it('Resize: width only keeps the aspect ratio, height only too, both stretch; colours in place, timestamps and stamps kept, inputs closed', async () => {
    for (const [options, size] of [
      [{ width: 160 }, [160, 120]],
      [{ height: 60 }, [80, 60]],
      [{ width: 100, height: 100, quality: 'high' as const }, [100, 100]],
    ] as const) {
      const input = stampCaptureTime(quadrantFrame(7), 42);
      const { outputs, error } = await through(new Resize(options), [input]);
      expect(error).to.equal(undefined);
      open.push(...outputs);
      const out = outputs[0]!;
      expect(isClosed(input), 'the input frame was closed').to.equal(true);
      expect([out.displayWidth, out.displayHeight, out.codedWidth, out.codedHeight]).to.deep.equal([...size, ...size]);
      expect([out.timestamp, out.duration, getCaptureTime(out)]).to.deep.equal([7, 33_333, 42]);
      const [w, h] = size;
      QUADRANTS.forEach((colour, i) =>
        expectColour(
          pixelAt(out, Math.round(((i % 2) + 0.5) * (w / 2)), Math.round((Math.floor(i / 2) + 0.5) * (h / 2))),
          colour,
          `quadrant ${i} of ${w}×${h}`,
        ),
      );
    }
  });

  it('Resize: a frame already of the output size passes through as it is; sizes may change from frame to frame', async () => {
    const same = quadrantFrame(1, 160, 120);
    const other = quadrantFrame(2, 640, 480);
    const { outputs } = await through(new Resize({ width: 160 }), [same, other]);
    open.push(...outputs);
    expect(outputs[0]).to.equal(same);
    expect(isClosed(other)).to.equal(true);
    expect([outputs[1]!.displayWidth, outputs[1]!.displayHeight]).to.deep.equal([160, 120]);
  });

  it('Crop then Resize compose: the cropped quadrant, scaled', async () => {
    const crop = new Crop({ x: 160, y: 120, width: 160, height: 120 });
    const input = quadrantFrame(3);
    const small = new Resize({ width: 40 });
    const { outputs } = await through({ writable: crop.writable, readable: crop.readable.pipeThrough(small) }, [input]);
    open.push(...outputs);
    expect([outputs[0]!.displayWidth, outputs[0]!.displayHeight]).to.deep.equal([40, 30]);
    expectColour(pixelAt(outputs[0]!, 0, 0), QUADRANTS[3], 'top-left of the bottom-right quadrant');
    expectColour(pixelAt(outputs[0]!, 39, 29), QUADRANTS[3], 'bottom-right of the bottom-right quadrant');
    expect(isClosed(input)).to.equal(true);
  });

  it('bad options throw FW_ERR_INVALID_OPTION naming the option', () => {
    const cases: [() => unknown, string][] = [
      [() => new Crop({ width: 0, height: 10 }), 'options.width'],
      [() => new Crop({ width: 10, height: 1.5 }), 'options.height'],
      [() => new Crop({ x: -2, width: 10, height: 10 }), 'options.x'],
      [() => new Crop({ y: Number.NaN, width: 10, height: 10 }), 'options.y'],
      [() => new Resize({}), 'options.width or options.height'],
      [() => new Crop(null as unknown as { width: number; height: number }), 'options must be an object'],
      [() => new Resize(null as unknown as { width: number }), 'options must be an object'],
      [() => new Resize({ width: 1 }), 'options.width'],
      [() => new Resize({ height: 100_000 }), 'options.height'],
      [() => new Resize({ width: 64, quality: 'best' as 'high' }), 'options.quality'],
    ];
    for (const [make, option] of cases) {
      const error = thrown(make) as FramewireError;
      expect(error.code, option).to.equal('FW_ERR_INVALID_OPTION');
      expect(error.message).to.contain(option);
    }
  });

  it('Crop: a frame smaller than the rectangle errors the stream with FW_ERR_INVALID_OPTION and is closed; a closed frame is skipped', async () => {
    const cropper = new Crop({ x: 40, y: 0, width: 40, height: 10 });
    const closed = solidFrame(0);
    closed.close();
    const small = solidFrame(1, 64, 48);
    const { outputs, error } = await through(cropper, [closed, small]);
    expect(outputs).to.deep.equal([]);
    expect(cropper.skippedFrames).to.equal(1);
    expect((error as FramewireError).code).to.equal('FW_ERR_INVALID_OPTION');
    expect(isClosed(small)).to.equal(true);

    const resizer = new Resize({ width: 32 });
    const again = solidFrame(0);
    again.close();
    const { outputs: none } = await through(resizer, [again]);
    expect([none.length, resizer.skippedFrames]).to.deep.equal([0, 1]);
  });

  it('crop() and resize() wrap a source: every frame transformed, the end passed on, close() closes the wrapped source; a failing transform ends it with a fatal error', async () => {
    const inputs = Array.from({ length: 5 }, (_, i) => quadrantFrame(i * 1000));
    const source = new ListSource(inputs);
    const small = resize(source, { width: 80 });
    const sizes: number[][] = [];
    for await (const frame of small) {
      sizes.push([frame.displayWidth, frame.displayHeight, frame.timestamp]);
      frame.close();
    }
    expect(sizes).to.deep.equal(inputs.map((_, i) => [80, 60, i * 1000]));
    expect(inputs.every(isClosed)).to.equal(true);
    expect([small.ended, source.released]).to.deep.equal([true, true]);

    // A transform of one's own that throws: a fatal FW_ERR_FRAME_UNUSABLE, the source ends.
    const given = solidFrame(0);
    const broken = new TransformedSource(
      new ListSource([given]),
      new TransformStream<VideoFrame, VideoFrame>({
        transform: () => {
          throw new TypeError('broken transform');
        },
      }),
    );
    const brokenErrors: string[] = [];
    broken.on('error', ({ error, fatal }) => brokenErrors.push(`${error.code} ${fatal} ${error.message}`));
    expect(await within(broken.read(), 60_000, 'the end of the broken transform')).to.equal(null);
    expect(brokenErrors).to.deep.equal(['FW_ERR_FRAME_UNUSABLE true broken transform']);
    await broken.close();
    given.close();

    const failing = crop(new ListSource([solidFrame(0, 64, 48)]), { width: 128, height: 10 });
    const errors: string[] = [];
    failing.on('error', ({ error, fatal }) => errors.push(`${error.code} ${fatal}`));
    expect(await within(failing.read(), 60_000, 'the end after the failure')).to.equal(null);
    expect(errors).to.deep.equal(['FW_ERR_INVALID_OPTION true']);
    await failing.close();
  });

  it('the Recorder records a resized stream: ffprobe reads the new size and every frame', async () => {
    const inputs = Array.from({ length: 30 }, (_, i) => quadrantFrame(Math.round((i * 1e6) / 30), 320, 240));
    const recorder = new Recorder({ container: 'mp4', codec: 'avc' });
    const resized = resize(new ListSource(inputs), { width: 160 });
    await recorder.record(resized);
    await resized.close();
    const blob = (await recorder.finalize()) as Blob;
    expect(inputs.every(isClosed), 'every input frame was closed').to.equal(true);
    const probe = await ffprobe(blob, 'mp4');
    expect(probe.error, probe.error).to.equal(undefined);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    expect([video.width, video.height]).to.deep.equal([160, 120]);
    expect(Number(video.nb_read_frames)).to.equal(30);
  });
});
