/// <reference path="../types/globals.d.ts" />
import { FramewireError } from '@framewire/core';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import { assertSecureContext } from '../core/secure-context.js';

/**
 * A live source over one `MediaStreamTrack` of kind `video`, read with `MediaStreamTrackProcessor`.
 *
 * Every frame is stamped with its arrival wall-clock time as soon as the browser hands it over, before the queue,
 * so queueing delay counts in glass-to-glass latency. When the track ends (device unplugged, user stopped
 * sharing) the source ends cleanly. `close()` stops the track.
 *
 * The default queue holds one frame. Chromium captures into a small pool of buffers shared by every track of a
 * device (two frames for its fake camera): while the consumer holds one frame and the queue another, capture
 * pauses, and a frame that is never closed stops the camera for the whole page. Keeping one queued frame keeps
 * latency at one consumer cycle and never starves capture.
 */
export class TrackSource extends QueuedFrameSource {
  /** The captured track (stopped by `close()`). */
  readonly track: MediaStreamTrack;
  readonly #reader: ReadableStreamDefaultReader<VideoFrame>;

  /**
   * Starts reading `track`. Throws `FW_ERR_NOT_SUPPORTED` when this browser has no `MediaStreamTrackProcessor`.
   * @param kind the source kind reported by `kind`.
   */
  constructor(kind: string, track: MediaStreamTrack, queue: SourceQueueOptions = {}) {
    super(kind, { capacity: 1, ...queue }, 'latest');
    try {
      assertSecureContext('TrackSource', 'capture');
    } catch (error) {
      track.stop();
      throw error;
    }
    if (typeof MediaStreamTrackProcessor !== 'function') {
      track.stop();
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'MediaStreamTrackProcessor is not available in this browser', {
        fatal: true,
        stage: 'capture',
      });
    }
    this.track = track;
    // Some global typings overload the constructor on the track kind; this track is known to be video.
    const Processor = MediaStreamTrackProcessor as unknown as new (init: { track: MediaStreamTrack }) => {
      readable: ReadableStream<VideoFrame>;
    };
    this.#reader = new Processor({ track }).readable.getReader();
    void this.#pump();
  }

  /** The track's current settings (actual width, height, frameRate, deviceId). */
  get settings(): MediaTrackSettings {
    return this.track.getSettings();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { value: frame, done } = await this.#reader.read();
        if (done) break;
        const captureTimeMs = this.captureTimeOf(frame, Date.now());
        const prepared = this.prepareFrame(frame);
        if (!prepared) continue;
        if (!(await this.deliver(prepared, captureTimeMs))) return;
      }
      this.finish();
    } catch (error) {
      if (this.ended) return;
      this.fail(
        new FramewireError('FW_ERR_DEVICE_BUSY', `The ${this.kind} track failed`, {
          cause: error,
          fatal: true,
          stage: 'capture',
        }),
      );
    }
  }

  /**
   * The capture time (ms since the epoch) to stamp on `frame`, which the browser handed over at `arrivalMs`. The
   * default is the arrival: for a local camera or screen that is the capture.
   */
  protected captureTimeOf(_frame: VideoFrame, arrivalMs: number): number {
    return arrivalMs;
  }

  /**
   * Turns a captured frame into the delivered one (e.g. a crop), taking ownership of `frame`; returns `undefined`
   * to skip it (after closing it). The default delivers the frame as it is.
   */
  protected prepareFrame(frame: VideoFrame): VideoFrame | undefined {
    return frame;
  }

  /** Stops the track and the reader. */
  protected async release(): Promise<void> {
    this.track.stop();
    await this.#reader.cancel().catch(() => undefined);
  }
}
