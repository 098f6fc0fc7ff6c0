import { FramewireError } from '@framewire/core';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import type { FrameSource, SourceQueueOptions } from '../core/frame-source.js';

/** Options of {@link TransformedSource}. */
export interface TransformedSourceOptions {
  /** The transformed source's own queue. Default: `backpressure`, 2 frames (the wrapped source decides drops). */
  queue?: SourceQueueOptions;
}

/**
 * A {@link FrameSource} whose frames are another source's, passed through a transform: a `readable`/`writable`
 * pair of `VideoFrame`s such as `Crop`, `Resize`, `Stabilizer` or any `TransformStream`. What `crop()` and
 * `resize()` return.
 *
 * It has the wrapped source's `kind`. Closing it closes the wrapped source and cancels the transform; the wrapped
 * source's end ends it once the transformed frames are out. A failure of the transform (a `FramewireError` keeps
 * its code, anything else is `FW_ERR_FRAME_UNUSABLE`) or of the source arrives as a fatal `error` event.
 *
 * @example
 * ```ts
 * const small = new TransformedSource(await CameraSource.open(), new Resize({ width: 640 }));
 * for await (const frame of small) { draw(frame); frame.close(); }
 * ```
 */
export class TransformedSource extends QueuedFrameSource {
  /** The source being transformed (owned: closed with this one). */
  readonly source: FrameSource;
  /** The transform its frames go through. */
  readonly transform: ReadableWritablePair<VideoFrame, VideoFrame>;
  readonly #reader: ReadableStreamDefaultReader<VideoFrame>;

  /** Starts reading `source` through `transform` at once. */
  constructor(
    source: FrameSource,
    transform: ReadableWritablePair<VideoFrame, VideoFrame>,
    options: TransformedSourceOptions = {},
  ) {
    super(source.kind, { capacity: 2, ...options.queue }, 'backpressure');
    this.source = source;
    this.transform = transform;
    source.on('error', ({ error }) => this.fail(error));
    this.#reader = source.readable.pipeThrough(transform).getReader();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { value: frame, done } = await this.#reader.read();
        if (done) break;
        if (!(await this.deliver(frame))) return;
      }
      this.finish();
    } catch (error) {
      if (this.ended) return;
      this.fail(this.failure(error));
    }
  }

  /**
   * The error a failed transform is reported with. The stream is over whatever the error says: by default a
   * fatal error, keeping a framewire code (anything else is `FW_ERR_FRAME_UNUSABLE`).
   */
  protected failure(error: unknown): FramewireError {
    return error instanceof FramewireError && error.fatal
      ? error
      : new FramewireError(
          error instanceof FramewireError ? error.code : 'FW_ERR_FRAME_UNUSABLE',
          error instanceof Error ? error.message : 'The transform failed',
          { cause: error, fatal: true, stage: 'transform' },
        );
  }

  /** Cancels the transform and closes the wrapped source. */
  protected async release(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
    await this.source.close();
  }
}
