// Package descriptions shared by the manifest writers' tests (DASH MPD and HLS playlists): a 1280×720 video
// track, a stereo audio track and a presentation around them, each with overrides.
import type {
  PresentationDescription,
  SegmentRecord,
  TrackDescription,
} from '../../packages/browser-sdk/src/outputs/packager/package-model.js';

/** Segments from [startTicks, durationTicks] pairs, numbered from `first`. */
export const segs = (first: number, spans: [number, number][]): SegmentRecord[] =>
  spans.map(([startTicks, durationTicks], i) => ({ number: first + i, startTicks, durationTicks, bytes: 1000 }));

/** A 1280×720 30 fps H.264 track at 90 kHz with two segments (2 s, then 1.9 s), with `over` applied. */
export const videoTrack = (over: Partial<TrackDescription> = {}): TrackDescription => ({
  id: 'v0',
  type: 'video',
  codec: 'avc1.64001f',
  bandwidthBps: 2_000_000,
  averageBandwidthBps: 1_500_000,
  width: 1280,
  height: 720,
  frameRate: 30,
  timescale: 90_000,
  segments: segs(1, [
    [0, 180_000],
    [180_000, 171_000],
  ]),
  ...over,
});

/** A 48 kHz stereo AAC track with one 2 s segment, with `over` applied. */
export const audioTrack = (over: Partial<TrackDescription> = {}): TrackDescription => ({
  id: 'a0',
  type: 'audio',
  codec: 'mp4a.40.2',
  bandwidthBps: 130_000,
  averageBandwidthBps: 128_000,
  sampleRate: 48_000,
  channels: 2,
  timescale: 48_000,
  segments: segs(1, [[0, 96_000]]),
  ...over,
});

/** An ended VOD presentation of `tracks` (2 s segments, published 2026-01-01 12:01 UTC), with `over` applied. */
export const presentation = (
  tracks: readonly TrackDescription[],
  over: Partial<PresentationDescription> = {},
): PresentationDescription => ({
  live: false,
  ended: true,
  segmentDurationS: 2,
  targetDurationS: 2,
  availabilityStartTimeMs: Date.UTC(2026, 0, 1, 12),
  publishTimeMs: Date.UTC(2026, 0, 1, 12, 1),
  timeShiftBufferDepthS: 30,
  tracks,
  ...over,
});
