import { StabilizerClient, type StabilizerEvents, type StabilizerStats } from './stabilizer/stabilizer-client.js';
import {
  resolveStabilizerOptions,
  type ResolvedStabilizerOptions,
  type StabilizerOptions,
} from './stabilizer/stabilizer-options.js';
import type { StabilizerTransform } from './stabilizer/stabilizer-transform.js';

/**
 * Video stabilization as a `TransformStream<VideoFrame, VideoFrame>` — vidgear's `Stabilizer`, in a Worker.
 *
 * Motion between consecutive frames is measured on a small grayscale copy (Shi-Tomasi features, pyramidal
 * Lucas-Kanade, a RANSAC similarity fit) with OpenCV.js, loaded in the worker on first use from
 * `vendor/opencv.js` beside the SDK. The camera path is smoothed over `smoothingRadius` frames and each
 * full-resolution frame is moved onto the smooth path by a 2D canvas. Frames are transferred to the worker (the
 * writer gives them up) and come back as new frames the reader owns.
 *
 * Every frame written comes out, in order, with its timestamp, duration and capture stamp: the first one at once,
 * the last ones when the writable side closes. Output is delayed by `lookaheadFrames` frames (0 by default).
 * When the motion of a frame cannot be measured (black or flat frame, first frame after a size change) it counts
 * as no motion (identity), as in vidgear. A frame that arrives closed is skipped with a non-fatal
 * `FW_ERR_FRAME_UNUSABLE` `error` event. If the worker or OpenCV.js cannot load, an `error` event
 * (`FW_ERR_WORKER_FAILED`, `FW_ERR_LAZY_LOAD_FAILED`, fatal) fires and the stream errors.
 *
 * @example
 * ```ts
 * const steady = camera.readable.pipeThrough(new Stabilizer({ smoothingRadius: 25 }));
 * for await (const frame of steady) { draw(frame); frame.close(); }
 * ```
 */
export class Stabilizer extends TransformStream<VideoFrame, VideoFrame> {
  /** The options in effect, defaults filled in. */
  readonly options: Readonly<ResolvedStabilizerOptions>;
  readonly #client: StabilizerClient;

  /** Validates the options (`FW_ERR_INVALID_OPTION` naming the option); the worker starts at once. */
  constructor(options: StabilizerOptions = {}) {
    const resolved = resolveStabilizerOptions(options);
    const client = new StabilizerClient(resolved);
    // `cancel` (the reader cancelled or the writer aborted) is newer than TypeScript's DOM library.
    const transformer: Transformer<VideoFrame, VideoFrame> & { cancel: () => void } = {
      start: (controller) => client.start(controller),
      transform: (frame) => client.transform(frame),
      flush: () => client.flush(),
      cancel: () => client.close(),
    };
    super(
      transformer,
      // Lets the writer hand over the next frame while the worker works (pipelining), never more.
      { highWaterMark: 1 },
      { highWaterMark: 0 },
    );
    this.options = Object.freeze({ ...resolved });
    this.#client = client;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof StabilizerEvents>(event: E, listener: (payload: StabilizerEvents[E]) => void): () => void {
    return this.#client.events.on(event, listener);
  }

  /** What was applied to `frame`, an output of this stabilizer; `undefined` for any other frame. */
  transformOf(frame: VideoFrame): StabilizerTransform | undefined {
    return this.#client.transformOf(frame);
  }

  /** The transform of the latest output frame; `undefined` before the first. */
  get lastTransform(): StabilizerTransform | undefined {
    return this.#client.lastTransform;
  }

  /** A snapshot of the counters. */
  get stats(): StabilizerStats {
    return this.#client.stats;
  }

  /**
   * Stops the worker and errors both sides of the stream with `FW_ERR_CLOSED`; frames in flight are dropped.
   * Not needed after the stream ended (the worker stops by itself). Idempotent, safe after a failure.
   */
  close(): void {
    this.#client.close();
  }
}
