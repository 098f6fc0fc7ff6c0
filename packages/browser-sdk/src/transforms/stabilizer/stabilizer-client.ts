import { FramewireError, TypedEmitter } from '@framewire/core';
import { WorkerClientState } from '../../core/worker-client-state.js';
import { openCvUrl, startSdkWorker } from '../../core/sdk-asset-urls.js';
import { getCaptureTime, stampCaptureTime } from '../../core/capture-time.js';
import type { StabilizerRequest, StabilizerResponse } from './stabilizer-messages.js';
import type { ResolvedStabilizerOptions } from './stabilizer-options.js';
import type { StabilizerTransform } from './stabilizer-transform.js';

/** Events of a {@link Stabilizer}. */
export type StabilizerEvents = {
  /** An output frame left the stabilizer, with what was applied to it (also `transformOf(frame)`). */
  transform: StabilizerTransform;
  /**
   * A failure. Fatal ones (the worker or OpenCV.js failed to load) also error the stream; a non-fatal
   * `FW_ERR_FRAME_UNUSABLE` reports an input frame that was skipped.
   */
  error: { error: FramewireError; fatal: boolean };
};

/** Counters of a {@link Stabilizer}. */
export interface StabilizerStats {
  /** Frames written to the stabilizer. */
  framesIn: number;
  /** Stabilized frames it output. */
  framesOut: number;
  /** Input frames skipped because they were closed or empty (see `FW_ERR_FRAME_UNUSABLE`). */
  framesSkipped: number;
  /** Output frames whose motion could not be measured and counted as none (featureless, first of a size). */
  framesWithoutMotion: number;
  /** Frames in the worker now (being processed or held for look-ahead). */
  framesInFlight: number;
}

const STAGE = 'stabilize';

/**
 * The main-thread side of the stabilizer worker, driving one {@link Stabilizer}'s transform stream: it sends
 * frames (transferred, with their capture stamps), bounds how many are in flight, and enqueues what comes back.
 */
export class StabilizerClient {
  readonly events = new TypedEmitter<StabilizerEvents>();
  readonly #options: ResolvedStabilizerOptions;
  readonly #transforms = new WeakMap<VideoFrame, StabilizerTransform>();
  readonly #state = new WorkerClientState();
  readonly #maxInFlight: number;
  #worker: Worker | undefined;
  #controller: TransformStreamDefaultController<VideoFrame> | undefined;
  #seq = 0;
  #last: StabilizerTransform | undefined;
  readonly #stats: StabilizerStats = {
    framesIn: 0,
    framesOut: 0,
    framesSkipped: 0,
    framesWithoutMotion: 0,
    framesInFlight: 0,
  };

  constructor(options: ResolvedStabilizerOptions) {
    this.#options = options;
    // The held look-ahead frames, one being processed and one waiting in the message queue.
    this.#maxInFlight = options.lookaheadFrames + 2;
  }

  get stats(): StabilizerStats {
    return { ...this.#stats };
  }

  get lastTransform(): StabilizerTransform | undefined {
    return this.#last;
  }

  transformOf(frame: VideoFrame): StabilizerTransform | undefined {
    return this.#transforms.get(frame);
  }

  start(controller: TransformStreamDefaultController<VideoFrame>): void {
    this.#controller = controller;
    let worker: Worker;
    try {
      worker = startSdkWorker(
        'stabilizer.worker.js',
        'framewire-stabilizer',
        () =>
          new Worker(new URL('./workers/stabilizer.worker.js', import.meta.url), {
            type: 'module',
            name: 'framewire-stabilizer',
          }),
      );
    } catch (error) {
      this.#fail(new FramewireError('FW_ERR_WORKER_FAILED', 'Could not start the stabilizer worker', { cause: error }));
      return;
    }
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<StabilizerResponse>) => this.#onMessage(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new FramewireError('FW_ERR_WORKER_FAILED', `Stabilizer worker failed: ${event.message}`));
    };
    this.#post({ type: 'init', openCvUrl: openCvUrl(), options: this.#options });
  }

  async transform(frame: VideoFrame): Promise<void> {
    if (!this.#state.running) {
      frame.close();
      throw this.#state.failure ?? new FramewireError('FW_ERR_CLOSED', 'The stabilizer is closed', { stage: STAGE });
    }
    this.#stats.framesIn++;
    const seq = this.#seq++;
    // A closed frame has no size; transferring it would throw a DataCloneError.
    if (frame.codedWidth === 0 || frame.displayWidth === 0) {
      this.#skip(seq, 'the frame is closed or empty');
      frame.close();
      return;
    }
    const request: StabilizerRequest = { type: 'frame', seq, frame, captureTimeMs: getCaptureTime(frame) };
    try {
      this.#worker?.postMessage(request, [frame]);
    } catch (error) {
      frame.close();
      this.#skip(seq, `the frame cannot be transferred (${String(error)})`);
      return;
    }
    this.#stats.framesInFlight++;
    await this.#state.waitWhile(() => this.#stats.framesInFlight >= this.#maxInFlight);
  }

  async flush(): Promise<void> {
    if (!this.#state.running) {
      this.#state.throwIfFailed();
      return;
    }
    await this.#state.flush((id) => {
      this.#post({ type: 'flush', id });
    });
    // The stream is over: free the worker and OpenCV's memory now rather than at garbage collection.
    this.#shutDown();
  }

  close(): void {
    if (this.#state.closed) return;
    this.#shutDown();
    try {
      this.#controller?.error(new FramewireError('FW_ERR_CLOSED', 'The stabilizer was closed', { stage: STAGE }));
    } catch {
      // Already errored or closed.
    }
  }

  #shutDown(): void {
    if (!this.#state.close()) return;
    if (this.#worker) {
      this.#post({ type: 'close' });
      this.#worker.terminate();
    }
  }

  #skip(seq: number, why: string): void {
    this.#stats.framesSkipped++;
    const error = new FramewireError('FW_ERR_FRAME_UNUSABLE', `Stabilizer skipped input frame #${seq}: ${why}`, {
      stage: STAGE,
      details: { seq },
    });
    this.events.emit('error', { error, fatal: false });
  }

  #post(request: StabilizerRequest): void {
    this.#worker?.postMessage(request);
  }

  #onMessage(message: StabilizerResponse): void {
    switch (message.type) {
      case 'frame': {
        const { frame, transform } = message;
        this.#stats.framesInFlight--;
        this.#state.wake();
        if (this.#state.closed) {
          frame.close();
          break;
        }
        if (transform.captureTimeMs !== undefined) stampCaptureTime(frame, transform.captureTimeMs);
        this.#transforms.set(frame, transform);
        this.#last = transform;
        this.#stats.framesOut++;
        if (!transform.motionFound) this.#stats.framesWithoutMotion++;
        try {
          this.#controller?.enqueue(frame);
        } catch {
          // The readable side was cancelled meanwhile: nobody will receive the frame.
          frame.close();
          break;
        }
        this.events.emit('transform', transform);
        break;
      }
      case 'flushed':
        this.#state.flushed(message.id);
        break;
      case 'error':
        this.#fail(new FramewireError(message.code, `Stabilizer worker: ${message.message}`));
        break;
      case 'ready':
        break;
    }
  }

  #fail(cause: FramewireError): void {
    if (!this.#state.running) return;
    const error = new FramewireError(cause.code, cause.message, { cause: cause.cause, fatal: true, stage: STAGE });
    this.#state.fail(error);
    this.events.emit('error', { error, fatal: true });
    this.#shutDown();
    try {
      this.#controller?.error(error);
    } catch {
      // Already errored or closed.
    }
  }
}
