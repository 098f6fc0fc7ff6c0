/**
 * Measures audio/video sync at a receiver, in a page: the bench's meter (bench/lib/av-meter.mjs), typed for tests.
 */
import type { Page } from 'puppeteer-core';
import * as meter from '../../bench/lib/av-meter.mjs';
import { waitUntil } from './node.js';

/** The A/V offset bound at the receiver, in ms (the test bound; the bench's goal is 40 ms). */
export const AV_BOUND_MS = 80;
/**
 * How long a receiver may take to get in sync. Chromium's lip sync moves the video's delay a step at a time, from an
 * offset of about 300 ms at first; on a loaded 2-core machine that took up to about 30 s (bench/RESULTS.md).
 */
export const SYNC_DEADLINE_MS = 90_000;

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

/** Runs in a page: see bench/lib/av-meter.mjs. */
export const avMeter: (
  video: HTMLVideoElement,
  audioTrack: MediaStreamTrack,
  durationMs: number,
) => Promise<AvMeasurement> = meter.avMeter;

/** Runs in a page: plays a source's audio and video as a viewer would (see bench/lib/av-meter.mjs). */
export const playForAv: (source: {
  read(): Promise<VideoFrame | null>;
  audioTrack: MediaStreamTrack | undefined;
}) => Promise<void> = meter.playForAv;

/** Defines `window.avMeter` and `window.playForAv` in `page`. */
export const installAvMeter: (page: Page) => Promise<void> = meter.installAvMeter;

/** The median of `values` (0 for none). */
export const median: (values: number[]) => number = meter.median;

/**
 * Measures 4 s windows of the page's `window.av` (`{ video, audio }`, set by `playForAv`; 4 flashes each) until one's
 * median A/V offset is within {@link AV_BOUND_MS}; each window goes to the test's diagnostics. Returns the window
 * that passed.
 */
export async function measureUntilSynced(
  page: Page,
  t: { diagnostic(message: string): void },
): Promise<{ result: AvMeasurement; offset: number }> {
  return waitUntil(
    async () => {
      const result = await page.evaluate(() => {
        const w = window as unknown as {
          avMeter: typeof avMeter;
          av: { video: HTMLVideoElement; audio: MediaStreamTrack };
        };
        return w.avMeter(w.av.video, w.av.audio, 4000);
      });
      const offset = median(result.offsetsMs);
      t.diagnostic(`A/V offsets in a 4 s window: ${result.offsetsMs.join(' ')} (peak ${result.peak.toFixed(2)})`);
      return result.offsetsMs.length >= 3 && Math.abs(offset) <= AV_BOUND_MS ? { result, offset } : undefined;
    },
    `an A/V offset within ${AV_BOUND_MS} ms (each window is in the test's diagnostics)`,
    SYNC_DEADLINE_MS,
  );
}
