// Recording pipeline overhead: framewire's Recorder (worker encode + mediabunny MP4 mux) vs a bare WebCodecs
// VideoEncoder on the main thread, both encoding the same 300 canvas frames of 1280×720 to H.264 in one page.
import { FRAMES, HEIGHT, WIDTH, loadBundle } from './media-fixture.mjs';

export const name = `Recording pipeline, ${FRAMES} frames of ${WIDTH}×${HEIGHT} H.264: Recorder (worker + MP4) vs bare VideoEncoder`;

function encodeInPage(page, mode) {
  return page.evaluate(
    async ({ width, height, frames, mode }) => {
      const { Recorder, avcCodecForSize } = globalThis.Framewire;
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d');
      const draw = (i) => {
        ctx.fillStyle = `hsl(${i % 360} 70% 45%)`;
        ctx.fillRect(0, 0, width, height);
        ctx.fillStyle = '#fff';
        ctx.font = '64px sans-serif';
        ctx.fillText(`frame ${i}`, 40 + (i % 200) * 4, 200);
        return new VideoFrame(canvas, { timestamp: Math.round((i * 1e6) / 30) });
      };
      const options = { bitrateBps: 2_500_000, keyframeIntervalFrames: 60 };
      const start = performance.now();
      if (mode === 'recorder') {
        const recorder = new Recorder({ container: 'mp4', codec: 'avc', ...options });
        for (let i = 0; i < frames; i++) await recorder.write(draw(i));
        const blob = await recorder.finalize();
        if (!(blob.size > 0)) throw new Error('empty recording');
      } else {
        let chunks = 0;
        const encoder = new VideoEncoder({
          output: () => chunks++,
          error: (e) => {
            throw e;
          },
        });
        encoder.configure({
          codec: avcCodecForSize(width, height),
          width,
          height,
          bitrate: options.bitrateBps,
          framerate: 30,
          latencyMode: 'realtime',
          avc: { format: 'avc' },
        });
        for (let i = 0; i < frames; i++) {
          const frame = draw(i);
          encoder.encode(frame, { keyFrame: i % 60 === 0 });
          frame.close();
          while (encoder.encodeQueueSize > 4)
            await new Promise((resolve) => encoder.addEventListener('dequeue', resolve, { once: true }));
        }
        await encoder.flush();
        encoder.close();
        if (chunks !== frames) throw new Error(`expected ${frames} chunks, got ${chunks}`);
      }
      return frames / ((performance.now() - start) / 1000);
    },
    { width: WIDTH, height: HEIGHT, frames: FRAMES, mode },
  );
}

/** Runs both sides `repeats` times, alternating, and reports medians. */
export async function run({ page, repeats }) {
  await loadBundle(page);
  await encodeInPage(page, 'recorder'); // warm-up: worker, mediabunny, encoder initialisation
  const ours = [];
  const baseline = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(await encodeInPage(page, 'recorder'));
    baseline.push(await encodeInPage(page, 'bare'));
  }
  return { unit: 'fps', ours, baseline, oursLabel: 'Recorder → MP4 Blob', baselineLabel: 'bare VideoEncoder' };
}
