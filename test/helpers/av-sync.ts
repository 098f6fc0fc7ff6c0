/**
 * Measures audio/video sync at a receiver, in a page: the bench's meter (bench/lib/av-meter.mjs), typed for tests.
 */
import type { Page } from 'puppeteer-core';
import * as meter from '../../bench/lib/av-meter.mjs';

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
