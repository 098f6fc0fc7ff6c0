// Resize cost: framewire's Resize transform (a reused OffscreenCanvas, drawImage, new VideoFrame per frame) vs a
// plain canvas drawImage loop that makes the same frames by hand (the floor of this method), and the other way
// a browser offers, createImageBitmap(frame, { resizeWidth, resizeHeight }) then new VideoFrame(bitmap), run as a
// note. Input: 1280×720 I420 frames (what cameras and decoders give), scaled to 640×360, each closed after use.
export const name = 'Resize, 1280×720 I420 → 640×360, 120 frames: Resize transform vs a plain canvas drawImage loop';

const FRAMES = 120;

function resizeInPage(page, mode) {
  return page.evaluate(
    async ({ frames, mode }) => {
      const W = 1280;
      const H = 720;
      // One I420 picture (a luma gradient, flat chroma), wrapped in a new VideoFrame for every input.
      const data = new Uint8Array((W * H * 3) / 2);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = (x + y) & 255;
      data.fill(128, W * H);
      const input = (i) =>
        new VideoFrame(data, { format: 'I420', codedWidth: W, codedHeight: H, timestamp: i * 33_333 });
      const outputs = [];
      const start = performance.now();
      if (mode === 'framewire') {
        const { Resize } = await import('/sdk/index.js');
        const resize = new Resize({ width: 640, height: 360 });
        const reading = (async () => {
          const reader = resize.readable.getReader();
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            outputs.push(r.value.displayWidth);
            r.value.close();
          }
        })();
        const writer = resize.writable.getWriter();
        for (let i = 0; i < frames; i++) await writer.write(input(i));
        await writer.close();
        await reading;
      } else if (mode === 'canvas') {
        const canvas = new OffscreenCanvas(640, 360);
        const context = canvas.getContext('2d', { alpha: false });
        for (let i = 0; i < frames; i++) {
          const frame = input(i);
          context.drawImage(frame, 0, 0, 640, 360);
          const out = new VideoFrame(canvas, { timestamp: frame.timestamp, alpha: 'discard' });
          frame.close();
          outputs.push(out.displayWidth);
          out.close();
        }
      } else {
        for (let i = 0; i < frames; i++) {
          const frame = input(i);
          const bitmap = await createImageBitmap(frame, { resizeWidth: 640, resizeHeight: 360, resizeQuality: 'low' });
          const out = new VideoFrame(bitmap, { timestamp: frame.timestamp });
          bitmap.close();
          frame.close();
          outputs.push(out.displayWidth);
          out.close();
        }
      }
      const fps = (frames * 1000) / (performance.now() - start);
      if (outputs.length !== frames || outputs.some((w) => w !== 640)) throw new Error(`${mode}: wrong outputs`);
      return fps;
    },
    { frames: FRAMES, mode },
  );
}

export async function run({ page, repeats }) {
  const ours = [];
  const baseline = [];
  const bitmap = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(await resizeInPage(page, 'framewire'));
    baseline.push(await resizeInPage(page, 'canvas'));
    bitmap.push(await resizeInPage(page, 'bitmap'));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    unit: 'fps',
    oursLabel: 'Resize',
    ours,
    baselineLabel: 'canvas drawImage loop',
    baseline,
    notes: [
      `createImageBitmap(frame, { resizeWidth, resizeHeight }) + new VideoFrame(bitmap), same frames, same run: ` +
        `${median(bitmap).toFixed(1)} fps median (runs: ${bitmap.map((v) => v.toFixed(0)).join(', ')}); ` +
        `canvas drawImage: ${median(baseline).toFixed(1)} fps.`,
    ],
  };
}
