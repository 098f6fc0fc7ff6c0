/** One media segment of a track, as written to the target. */
export interface SegmentRecord {
  /** Segment number (1-based, monotonic; `$Number$` in DASH, the media sequence number in HLS). */
  number: number;
  /** Start time (the fragment's `tfdt`), in the track's timescale. */
  startTicks: number;
  /** Duration (sum of the fragment's sample durations), in the track's timescale. */
  durationTicks: number;
  /** Size in bytes. */
  bytes: number;
  /** Live: the segment could not be written to the target; no manifest lists it (nor anything before it). */
  lost?: boolean;
}

/** A track of a package (one video rendition or the audio), as the manifest writers describe it. */
export interface TrackDescription {
  /** Representation id, also the folder of its files: `v0`, `v1`, …, `a0`. */
  id: string;
  /** Video or audio. */
  type: 'video' | 'audio';
  /** RFC 6381 codec string read from the init segment, e.g. `avc1.64000d` or `mp4a.40.2`. */
  codec: string;
  /** Peak bitrate in bits per second (the largest segment's rate, or the nominal rate before any segment). */
  bandwidthBps: number;
  /** Average bitrate in bits per second over the written segments. */
  averageBandwidthBps: number;
  /** Frame size in pixels (video). */
  width?: number;
  /** Frame size in pixels (video). */
  height?: number;
  /** Nominal frame rate (video). */
  frameRate?: number;
  /** Sample rate in Hz (audio). */
  sampleRate?: number;
  /** Channel count (audio). */
  channels?: number;
  /** Ticks per second of the track (the init segment's `mdhd`). */
  timescale: number;
  /** The segments the manifests list (the whole track for VOD, the window for live). */
  segments: readonly SegmentRecord[];
}

/** What both manifest writers describe. */
export interface PresentationDescription {
  /** Live (dynamic MPD, sliding HLS window) or VOD (static MPD, `PLAYLIST-TYPE:VOD` + `ENDLIST`). */
  live: boolean;
  /** A live presentation that has ended: its last manifests (`ENDLIST`, `mediaPresentationDuration`). */
  ended: boolean;
  /** Nominal segment duration in seconds. */
  segmentDurationS: number;
  /** Integer `EXT-X-TARGETDURATION`: at least every segment's rounded duration, fixed for a live stream. */
  targetDurationS: number;
  /** Wall-clock time of media time 0, in ms since the epoch (live `availabilityStartTime`, `PROGRAM-DATE-TIME`). */
  availabilityStartTimeMs: number;
  /** Wall-clock time of this manifest version, in ms since the epoch. */
  publishTimeMs: number;
  /** Live: how much behind the live edge a client may seek (the window), in seconds. */
  timeShiftBufferDepthS: number;
  /** The tracks: video renditions first, then audio. */
  tracks: readonly TrackDescription[];
}

/** Path of a track's init segment, relative to the package root. */
export const initPath = (id: string): string => `${id}/init.mp4`;
/** Path of a track's media segment `number`, relative to the package root. */
export const segmentPath = (id: string, number: number): string => `${id}/seg-${number}.m4s`;
/** Path of a track's HLS media playlist, relative to the package root. */
export const mediaPlaylistPath = (id: string): string => `${id}/index.m3u8`;
/** The DASH manifest. */
export const MPD_PATH = 'manifest.mpd';
/** The HLS master playlist. */
export const MASTER_PLAYLIST_PATH = 'master.m3u8';

/** Seconds of a segment. */
export const segmentSeconds = (track: TrackDescription, segment: SegmentRecord): number =>
  segment.durationTicks / track.timescale;

/** End of a track's last listed segment in seconds (0 without segments). */
export function trackEndS(track: TrackDescription): number {
  const last = track.segments.at(-1);
  return last ? (last.startTicks + last.durationTicks) / track.timescale : 0;
}
