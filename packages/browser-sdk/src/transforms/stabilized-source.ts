import { FramewireError } from '@framewire/core';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import type { FrameSource, SourceQueueOptions } from '../core/frame-source.js';
import { Stabilizer } from './stabilizer.js';
import type { StabilizerOptions } from './stabilizer/stabilizer-options.js';

/** Options of {@link stabilize}: the {@link StabilizerOptions} plus the output queue. */
export interface StabilizedSourceOptions extends StabilizerOptions {
  /** The stabilized source's own queue. Default: `backpressure`, 2 frames (the wrapped source decides drops). */
  queue?: SourceQueueOptions;
}

/**
 * A {@link FrameSource} whose frames are another source's, stabilized: made by {@link stabilize}.
 *
 * It reads the wrapped source through a {@link Stabilizer} and has the same `kind`. Closing it closes the
 * wrapped source and the stabilizer; the wrapped source's end ends it once the held frames are out. Skipped
 * frames (non-fatal) and stabilizer or source failures (fatal) arrive as `error` events.
 */
export class StabilizedSource extends QueuedFrameSource {
  /** The source being stabilized (owned: closed with this one). */
  readonly source: FrameSource;
  /** The stabilizer, for its `transform` events, `transformOf()` and `stats`. */
  readonly stabilizer: Stabilizer;
  readonly #reader: ReadableStreamDefaultReader<VideoFrame>;

  /** Starts reading `source` through a new {@link Stabilizer}; throws `FW_ERR_INVALID_OPTION` on bad options. */
  constructor(source: FrameSource, options: StabilizedSourceOptions = {}) {
    const { queue, ...stabilizerOptions } = options;
    super(source.kind, { capacity: 2, ...queue }, 'backpressure');
    this.source = source;
    this.stabilizer = new Stabilizer(stabilizerOptions);
    this.stabilizer.on('error', ({ error, fatal }) => {
      // Fatal failures also reject the read loop, which reports them once.
      if (!fatal) this.fail(error);
    });
    source.on('error', ({ error }) => this.fail(error));
    this.#reader = source.readable.pipeThrough(this.stabilizer).getReader();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { value: frame, done } = await this.#reader.read();
        if (done) break;
        // The stabilizer already stamped the frame with its capture time.
        if (!(await this.deliver(frame))) return;
      }
      this.finish();
    } catch (error) {
      if (this.ended) return;
      this.fail(
        error instanceof FramewireError
          ? error
          : new FramewireError('FW_ERR_WORKER_FAILED', 'Stabilization failed', {
              cause: error,
              fatal: true,
              stage: 'stabilize',
            }),
      );
    }
  }

  /** Stops the stabilizer and closes the wrapped source. */
  protected async release(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
    this.stabilizer.close();
    await this.source.close();
  }
}

/**
 * Wraps any {@link FrameSource} into one whose frames are stabilized (see {@link Stabilizer} for the
 * options and their defaults). The returned source owns `source`: closing it closes both.
 *
 * @example
 * ```ts
 * const steady = stabilize(await CameraSource.open(), { smoothingRadius: 15 });
 * for await (const frame of steady) { draw(frame); frame.close(); }
 * ```
 */
export function stabilize(source: FrameSource, options: StabilizedSourceOptions = {}): StabilizedSource {
  return new StabilizedSource(source, options);
}
