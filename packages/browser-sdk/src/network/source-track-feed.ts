/// <reference path="../types/globals.d.ts" />
import { FramewireError } from '@framewire/core';
import { getCaptureTime } from '../core/capture-time.js';
import type { FrameSource } from '../core/frame-source.js';

/** What a {@link SourceTrackFeed} reports. */
export interface SourceTrackFeedHooks {
  /**
   * A frame was handed to the track: its capture time (the frame's own, else now) and the time the browser derives
   * its RTP timestamp from (the frame's `timestamp`, in ms), for senders that send capture times beside the track.
   */
  sent?(captureTimeMs: number, fedAtMs: number): void;
  /** Reading the source or writing the track failed while the feed was running (not after {@link SourceTrackFeed.stop}). */
  failed(error: unknown): void;
}

/**
 * A video `MediaStreamTrack` fed with the frames of a {@link FrameSource} through a `MediaStreamTrackGenerator`,
 * frame by frame, until the source ends or the feed is stopped: what `Room.publish` (track delivery) and
 * `BridgePublisher` send.
 */
export class SourceTrackFeed {
  /** The track to send. */
  readonly track: MediaStreamTrack;
  readonly #generator: MediaStreamTrack & { readonly writable: WritableStream<VideoFrame> };
  readonly #writer: WritableStreamDefaultWriter<VideoFrame>;
  readonly #pump: Promise<void>;
  #stopped = false;
  #framesSent = 0;

  /** Starts reading `source` into a new track. Throws `FW_ERR_NOT_SUPPORTED` without `MediaStreamTrackGenerator`. */
  constructor(source: FrameSource, hooks: SourceTrackFeedHooks) {
    const Generator = globalThis.MediaStreamTrackGenerator;
    if (typeof Generator !== 'function')
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'MediaStreamTrackGenerator is not available in this browser', {
        fatal: true,
        stage: 'publish',
      });
    this.#generator = new Generator({ kind: 'video' });
    this.track = this.#generator;
    this.#writer = this.#generator.writable.getWriter();
    this.#pump = this.#run(source, hooks);
  }

  /** Frames handed to the track so far. */
  get framesSent(): number {
    return this.#framesSent;
  }

  /**
   * Stops reading, ends the track and waits for the frame being written (at most `waitMs`, when given: a source
   * whose `read()` never settles must not hold a close up). Idempotent.
   */
  async stop(waitMs?: number): Promise<void> {
    this.#stopped = true;
    await this.#writer.close().catch(() => undefined);
    this.#generator.stop();
    await (waitMs === undefined
      ? this.#pump
      : Promise.race([this.#pump, new Promise((resolve) => setTimeout(resolve, waitMs))]));
  }

  async #run(source: FrameSource, hooks: SourceTrackFeedHooks): Promise<void> {
    try {
      for (let frame = await source.read(); frame; frame = await source.read()) {
        if (this.#stopped) {
          frame.close();
          break;
        }
        const captureTimeMs = getCaptureTime(frame) ?? Date.now();
        // Chromium derives the RTP timestamp from the frame's own timestamp (µs), not from when it is written.
        const fedAtMs = frame.timestamp / 1000;
        // The generator takes the frame and closes it once sent.
        await this.#writer.write(frame);
        this.#framesSent++;
        hooks.sent?.(captureTimeMs, fedAtMs);
      }
    } catch (error) {
      if (!this.#stopped) hooks.failed(error);
    }
  }
}
