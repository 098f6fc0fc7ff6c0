import { FrameWarper } from './frame-warper.js';
import { holdFrame, type HeldFrame } from '../../core/held-frame.js';
import { MotionEstimator, type FrameMotion } from './motion-estimator.js';
import type { CvMotionApi } from './opencv-api.js';
import { coveredCrop, type StabilizerTransform, type WarpGeometry } from './stabilizer-transform.js';
import type { ResolvedStabilizerOptions } from './stabilizer-options.js';
import { KalmanSmoother } from './kalman-smoother.js';
import { TrajectorySmoother, type PathSmoother } from './trajectory-smoother.js';

/** One stabilized frame, in input order. */
export interface EngineOutput {
  /** The input's sequence number. */
  seq: number;
  /** The stabilized frame (the receiver owns it). */
  frame: VideoFrame;
  /** What was applied to it. */
  transform: StabilizerTransform;
}

interface Pending {
  seq: number;
  index: number;
  arrival: number;
  captureTimeMs: number | undefined;
  timestampUs: number;
  motionFound: boolean;
  cut: boolean;
  frame: VideoFrame | undefined;
  held: Promise<HeldFrame> | undefined;
}

const NO_MOTION: FrameMotion = { x: 0, y: 0, angle: 0, scale: 1, found: false, cut: false };

/**
 * The stabilizer's pipeline, independent of how frames arrive (it runs in the stabilizer worker): measure
 * motion, extend the path, and once a frame's look-ahead is there, warp it by its correction and hand it out.
 * A scene cut or a size change ends the path: the frames before it come out with the look-ahead they have, and
 * the next frame starts a new path. Every frame pushed comes out exactly once, in order; `flush()` emits the
 * held ones.
 */
export class StabilizerEngine {
  readonly #options: ResolvedStabilizerOptions;
  readonly #estimator: MotionEstimator;
  readonly #smoother: PathSmoother;
  readonly #warper: FrameWarper;
  readonly #emit: (output: EngineOutput) => void;
  readonly #pending: Pending[] = [];
  #arrivals = 0;
  #size = '';

  /** @param emit receives each output frame, in input order. */
  constructor(cv: CvMotionApi, options: ResolvedStabilizerOptions, emit: (output: EngineOutput) => void) {
    this.#options = options;
    this.#estimator = new MotionEstimator(cv, options.analysisWidth);
    this.#smoother =
      options.smoothing === 'kalman'
        ? new KalmanSmoother(options.smoothingRadius, options.lookaheadFrames)
        : new TrajectorySmoother(options.smoothingRadius, options.lookaheadFrames);
    this.#warper = new FrameWarper(options.borderType);
    this.#emit = emit;
  }

  /** Takes ownership of `frame` and emits every frame whose look-ahead it completes. */
  async push(frame: VideoFrame, seq: number, captureTimeMs: number | undefined): Promise<void> {
    const size = `${frame.displayWidth}x${frame.displayHeight}`;
    const resized = size !== this.#size;
    if (resized) {
      // A new size is a new shot: emit the old one's frames with what is known, then start a new path.
      await this.#newShot();
      this.#estimator.reset();
      this.#size = size;
    }
    let motion: FrameMotion;
    try {
      motion = await this.#estimator.measure(frame);
    } catch {
      // OpenCV.js throws bare numbers on internal errors (e.g. a degenerate image): vidgear's fallback, no motion.
      this.#estimator.reset();
      motion = NO_MOTION;
    }
    // A scene cut: nothing is smoothed across it.
    if (motion.cut) await this.#newShot();
    const index = this.#smoother.push(motion);
    const pending: Pending = {
      seq,
      index,
      arrival: this.#arrivals++,
      captureTimeMs,
      timestampUs: frame.timestamp,
      motionFound: motion.found,
      cut: motion.cut || (resized && index > 0),
      frame: undefined,
      held: undefined,
    };
    if (this.#options.lookaheadFrames === 0) pending.frame = frame;
    else pending.held = holdFrame(frame);
    this.#pending.push(pending);
    while (this.#pending[0] && this.#smoother.isReady(this.#pending[0].index)) await this.#emitNext();
  }

  /** Emits the frames held with the look-ahead they have and starts a new path. */
  async #newShot(): Promise<void> {
    await this.flush();
    this.#smoother.reset();
  }

  /** Emits every frame still held, with the look-ahead available. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0) await this.#emitNext();
  }

  /** Releases OpenCV memory and closes held frames. */
  async dispose(): Promise<void> {
    for (const pending of this.#pending.splice(0)) {
      pending.frame?.close();
      (await pending.held?.catch(() => undefined))?.release();
    }
    this.#estimator.dispose();
  }

  async #emitNext(): Promise<void> {
    const pending = this.#pending.shift();
    if (!pending) return;
    const held = pending.held ? await pending.held : undefined;
    const source = pending.frame ?? held?.toFrame();
    if (!source) return;
    try {
      const correction = this.#smoother.correction(pending.index);
      const geometry = this.#geometry(source.displayWidth, source.displayHeight);
      const frame = this.#warper.warp(source, correction, geometry.scale, geometry.outputWidth, geometry.outputHeight);
      const transform: StabilizerTransform = {
        timestampUs: pending.timestampUs,
        captureTimeMs: pending.captureTimeMs,
        dx: correction.x,
        dy: correction.y,
        angle: correction.angle,
        zoom: correction.scale,
        scale: geometry.scale,
        crop: coveredCrop(geometry, correction.x, correction.y, correction.angle, correction.scale),
        motionFound: pending.motionFound,
        delayFrames: this.#arrivals - 1 - pending.arrival,
        cut: pending.cut,
      };
      this.#emit({ seq: pending.seq, frame, transform });
    } finally {
      source.close();
      held?.release();
    }
  }

  #geometry(width: number, height: number): WarpGeometry {
    const border = this.#options.borderSize;
    if (this.#options.cropAndZoom && border > 0) {
      // Crop `border` per side and zoom back to the input size, keeping the aspect ratio.
      const b = Math.min(border, Math.floor((Math.min(width, height) - 2) / 2));
      const scale = Math.max(width / (width - 2 * b), height / (height - 2 * b));
      return { width, height, outputWidth: width, outputHeight: height, scale };
    }
    return { width, height, outputWidth: width + 2 * border, outputHeight: height + 2 * border, scale: 1 };
  }
}
