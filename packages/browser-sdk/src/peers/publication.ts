/** How a published source travels. */
export type Delivery = 'track' | 'data';

/** Options of {@link Room.publish}. */
export interface PublishOptions {
  /**
   * `track`: a WebRTC media track (real-time, congestion-controlled, frames may be dropped or scaled).
   * `data`: WebCodecs-encoded frames over the reliable data channel (every frame, exact; capture times travel with
   * them). Default: `track`.
   */
  delivery?: Delivery;
  /** Only these peers receive it. Default: every connected peer, present and future. */
  to?: string[];
  /**
   * `track` only: also send the source's `audioTrack` (a `CameraSource` opened with `audio`, a `BridgeSource` or
   * `WhepSource` with `audio: true`, a room peer's source), in the same media stream as the video so that receivers
   * play the two in sync; `false` sends the video alone. A source without audio sends video alone either way.
   * `data` delivery carries video only. Default: true.
   */
  audio?: boolean;
  /** `data` only: WebCodecs codec string. Default: `vp8`. */
  codec?: string;
  /** `data` only: target bitrate, in bits per second. Default: 1000000. */
  bitrateBps?: number;
  /** `data` only: a key frame every this many frames. Default: 60. */
  keyframeIntervalFrames?: number;
  /**
   * The earlier spelling of `keyframeIntervalFrames`.
   * @deprecated Use `keyframeIntervalFrames` (docs/guides/names.md). Kept for one release.
   */
  keyFrameIntervalFrames?: number;
}

/** A source being published; `close()` stops publishing (the source itself stays open: it is the caller's). */
export interface Publication {
  /** Publication id, unique in this room object. */
  readonly id: number;
  /** How it travels. */
  readonly delivery: Delivery;
  /** Frames sent so far. */
  readonly framesSent: number;
  /** Stops publishing. Idempotent. */
  close(): Promise<void>;
}
