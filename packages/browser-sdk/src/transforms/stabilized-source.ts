import { FramewireError } from '@framewire/core';
import type { FrameSource, SourceQueueOptions } from '../core/frame-source.js';
import { Stabilizer } from './stabilizer.js';
import { TransformedSource } from './transformed-source.js';
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
export class StabilizedSource extends TransformedSource {
  /** The stabilizer, for its `transform` events, `transformOf()` and `stats`. */
  readonly stabilizer: Stabilizer;

  /** Starts reading `source` through a new {@link Stabilizer}; throws `FW_ERR_INVALID_OPTION` on bad options. */
  constructor(source: FrameSource, options: StabilizedSourceOptions = {}) {
    const { queue, ...stabilizerOptions } = options;
    const stabilizer = new Stabilizer(stabilizerOptions);
    super(source, stabilizer, queue === undefined ? {} : { queue });
    this.stabilizer = stabilizer;
    stabilizer.on('error', ({ error, fatal }) => {
      // Fatal failures also reject the read loop, which reports them once.
      if (!fatal) this.fail(error);
    });
  }

  /** A framewire error as it is; anything else is a worker failure. */
  protected override failure(error: unknown): FramewireError {
    return error instanceof FramewireError
      ? error
      : new FramewireError('FW_ERR_WORKER_FAILED', 'Stabilization failed', {
          cause: error,
          fatal: true,
          stage: 'stabilize',
        });
  }

  /** Stops the stabilizer and closes the wrapped source. */
  protected override async release(): Promise<void> {
    await super.release();
    this.stabilizer.close();
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
