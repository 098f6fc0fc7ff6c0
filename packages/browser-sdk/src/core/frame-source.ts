import type { FramewireError } from '@framewire/core';
import type { QueuePolicy } from './frame-queue.js';

/** Live counters of a {@link FrameSource}. */
export interface FrameSourceStats {
  /** Frames the source produced (captured or decoded). */
  framesProduced: number;
  /** Frames handed to the consumer (`read()`, iteration or `readable`). */
  framesDelivered: number;
  /** Frames dropped because the consumer was slower than the source (`latest` policy only). */
  framesDropped: number;
  /** Frames waiting in the queue now. */
  framesQueued: number;
  /** Delivery rate over the last second, in frames per second. */
  fps: number;
}

/** Events of every {@link FrameSource}. */
export type FrameSourceEvents = {
  /** The source produced its last frame (end of file, track ended, user stopped sharing, `close()`). */
  end: { reason: 'ended' | 'closed' | 'error' };
  /** Something failed; `fatal` errors also end the source. */
  error: { error: FramewireError; fatal: boolean };
};

/** Queue settings of a source: see {@link QueuePolicy}. */
export interface SourceQueueOptions {
  /** Full-queue behaviour. Default: `latest` for live sources, `backpressure` for files. */
  policy?: QueuePolicy;
  /** Queue length in frames. Default: 2 for `latest`, 8 for `backpressure`. */
  capacity?: number;
}

/**
 * The contract every source implements — vidgear's `read()` loop, on web streams.
 *
 * The consumer owns each frame it receives and must `close()` it (or pass it on). Frames carry their capture
 * wall-clock time (see `getCaptureTime`).
 *
 * @example
 * ```ts
 * for await (const frame of source) { draw(frame); frame.close(); }
 * // or: let f; while ((f = await source.read())) { …; f.close(); }
 * // or: source.readable.pipeThrough(transform).pipeTo(sink)
 * ```
 */
export interface FrameSource extends AsyncIterable<VideoFrame> {
  /** What kind of source this is, e.g. `camera`, `screen`, `file`. */
  readonly kind: string;
  /** The frames as a web stream; cancelling it closes the source. Created on first access. */
  readonly readable: ReadableStream<VideoFrame>;
  /** The next frame, or `null` at the end (after `close()` too) — like vidgear's `read()` returning `None`. */
  read(): Promise<VideoFrame | null>;
  /** A snapshot of the counters. */
  readonly stats: FrameSourceStats;
  /** True once the source has ended or was closed. */
  readonly ended: boolean;
  /**
   * True when the source drops frames that a slow reader does not take in time (`latest` queue policy: cameras,
   * screens, network sources); false or absent when it waits for its reader (files, `backpressure`).
   */
  readonly live?: boolean;
  /**
   * The source's audio as a live track, for sources that carry sound beside their frames (`CameraSource` with
   * `audio`, `BridgeSource` and `WhepSource` with `audio: true`, a room peer's media track source); absent or
   * `undefined` otherwise. `Room.publish()` sends it with the video; a `Recorder` records it (`audio`).
   */
  readonly audioTrack?: MediaStreamTrack | undefined;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof FrameSourceEvents>(event: E, listener: (payload: FrameSourceEvents[E]) => void): () => void;
  /** Stops capture, releases the device and discards queued frames. Idempotent, safe after a failure. */
  close(): Promise<void>;
}
