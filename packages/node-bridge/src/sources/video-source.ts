import type { FramewireError } from '@framewire/core';
import type { SourceHealth, SourceState } from '../protocol.js';
import type { SourceFrame } from '../media/source-frame.js';
import type { AudioInfo, AudioPacket } from '../media/audio-packet.js';

/** Events of every {@link VideoSource}. */
export type VideoSourceEvents = {
  /** A new frame (encoded or raw). */
  frame: { frame: SourceFrame };
  /** An Opus packet of the source's audio (sources with audio only), on the same capture clock as its frames. */
  audio: { packet: AudioPacket };
  /** The state changed (e.g. `running` → `restarting`). */
  state: { state: SourceState };
  /** Something failed; non-fatal errors are recovered from (restart, dropped frame), fatal ones end the source. */
  error: { error: FramewireError; fatal: boolean };
};

/**
 * The contract of every bridge source: it produces frames (`jpeg` or `h264` {@link EncodedFrame}s, or
 * {@link RawFrame}s), keeps itself alive (restarts with backoff) and reports its health. Outputs subscribe to
 * `frame` events; the bridge starts the sources it serves and closes them on shutdown.
 */
export interface VideoSource {
  /** Id used in URLs and health (letters, digits, `.`, `_`, `-`). */
  readonly id: string;
  /** Kind reported in health, e.g. `testpattern`, `v4l2`, `picamera`, `url`, `netgear`. */
  readonly kind: string;
  /** The newest frame, for snapshots and late joiners; `undefined` before the first and while the source is `idle`. */
  readonly latest: SourceFrame | undefined;
  /** The newest keyframe (for `h264` sources; equal to `latest` otherwise). */
  readonly latestKey: SourceFrame | undefined;
  /** Current health. */
  readonly health: SourceHealth;
  /** The source's audio (Opus, 48 kHz) when it has some (`--audio`), else `undefined`: see the `audio` event. */
  readonly audio?: AudioInfo | undefined;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof VideoSourceEvents>(event: E, listener: (payload: VideoSourceEvents[E]) => void): () => void;
  /** Starts producing frames (no-op when started). Rejects when it cannot start at all (e.g. a port in use). */
  start(): Promise<void>;
  /** Stops for good and releases everything. Idempotent. */
  close(): Promise<void>;
}

export type { EncodedFrame } from '../media/encoded-frame.js';
export type { RawFrame } from '../media/raw-frame.js';
export type { AudioInfo, AudioPacket } from '../media/audio-packet.js';
