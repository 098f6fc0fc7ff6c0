/**
 * Measures audio/video sync at a receiver, in a page: the test pattern with `--audio tone` flashes white on the
 * frames of each beep, so the offset between the moment a flash frame arrives and the moment its beep's first loud
 * sample plays is the A/V offset (positive: the sound comes late).
 */
import type { Page } from 'puppeteer-core';

/** What {@link avMeter} measured. */
export interface AvMeasurement {
  /** Flash onsets seen (a white frame after a non-white one). */
  flashes: number;
  /** Beep onsets heard (a loud sample after at least 500 ms of quiet). */
  beeps: number;
  /** Beep onset − flash onset, in ms, for each flash with a beep within 500 ms. */
  offsetsMs: number[];
  /** The loudest sample heard (0..1). */
  peak: number;
}

/**
 * Runs in the page: watches the frames `video` (a playing `<video>` element) presents, with
 * `requestVideoFrameCallback` (a flash counts at its expected display time), and reads the audio track through a
 * `MediaStreamTrackProcessor` (samples are placed at their chunk's arrival minus the rest of the chunk, so an
 * onset is found to the sample), for `durationMs`; then pairs each flash with its beep.
 */
export async function avMeter(
  video: HTMLVideoElement,
  audioTrack: MediaStreamTrack,
  durationMs: number,
): Promise<AvMeasurement> {
  const end = performance.now() + durationMs;
  const flashes: number[] = [];
  const beeps: number[] = [];
  const canvas = new OffscreenCanvas(8, 8);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D context');
  let peak = 0;
  const watched = new Promise<void>((resolve) => {
    let wasWhite = false;
    const onFrame = (_now: number, metadata: { expectedDisplayTime: number }): void => {
      ctx.drawImage(video, 0, 0, 8, 8);
      const pixels = ctx.getImageData(0, 0, 8, 8).data;
      let sum = 0;
      for (let i = 0; i < pixels.length; i += 4) sum += (pixels[i] ?? 0) + (pixels[i + 1] ?? 0) + (pixels[i + 2] ?? 0);
      const white = sum / ((pixels.length / 4) * 3) > 235;
      if (white && !wasWhite) flashes.push(metadata.expectedDisplayTime);
      wasWhite = white;
      if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
      else resolve();
    };
    video.requestVideoFrameCallback(onFrame);
  });
  const Processor = (
    globalThis as unknown as {
      MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<AudioData> };
    }
  ).MediaStreamTrackProcessor;
  const reader = new Processor({ track: audioTrack }).readable.getReader();
  const audio = (async () => {
    let lastLoudMs = Number.NEGATIVE_INFINITY;
    while (performance.now() < end) {
      const { value: data, done } = await reader.read();
      if (done) break;
      const at = performance.now();
      const samples = new Float32Array(data.numberOfFrames);
      data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
      const chunkMs = (data.numberOfFrames * 1000) / data.sampleRate;
      for (let i = 0; i < samples.length; i++) {
        const level = Math.abs(samples[i] ?? 0);
        peak = Math.max(peak, level);
        if (level < 0.1) continue;
        const t = at - chunkMs + (i * 1000) / data.sampleRate;
        if (t - lastLoudMs > 500) beeps.push(t);
        lastLoudMs = t;
      }
      data.close();
    }
    await reader.cancel();
  })();
  await Promise.all([watched, audio]);
  const offsetsMs: number[] = [];
  for (const flash of flashes) {
    const nearest = beeps.reduce((best, b) => (Math.abs(b - flash) < Math.abs(best - flash) ? b : best), Infinity);
    if (Math.abs(nearest - flash) < 500) offsetsMs.push(Math.round(nearest - flash));
  }
  return { flashes: flashes.length, beeps: beeps.length, offsetsMs, peak };
}

/** Defines `window.avMeter` ({@link avMeter}) in `page`. */
export async function installAvMeter(page: Page): Promise<void> {
  await page.addScriptTag({ content: `window.__name = (f) => f; window.avMeter = ${avMeter.toString()};` });
}

/** The median of `values` (0 for none). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
