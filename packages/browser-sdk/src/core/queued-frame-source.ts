import { TypedEmitter, createLogger, type FramewireError } from '@framewire/core';
import { FrameQueue, type QueuePolicy } from './frame-queue.js';
import { RateMeter } from './rate-meter.js';
import { stampCaptureTime } from './capture-time.js';
import type { FrameSource, FrameSourceEvents, FrameSourceStats, SourceQueueOptions } from './frame-source.js';

const log = createLogger('source');

/**
 * The shared implementation of the {@link FrameSource} contract over a {@link FrameQueue}.
 *
 * A subclass produces frames with `deliver()`, reports the natural end with `finish()` and failures with
 * `fail()`, and releases its resources in `release()`, which runs exactly once.
 */
export abstract class QueuedFrameSource implements FrameSource {
  /** @inheritdoc */
  readonly kind: string;
  readonly #queue: FrameQueue<VideoFrame>;
  readonly #events = new TypedEmitter<FrameSourceEvents>();
  readonly #rate = new RateMeter();
  #readable: ReadableStream<VideoFrame> | undefined;
  #closing: Promise<void> | undefined;
  #endEmitted = false;

  /** @param kind the source kind. @param queue queue options. @param defaultPolicy policy when none is given. */
  protected constructor(kind: string, queue: SourceQueueOptions = {}, defaultPolicy: QueuePolicy = 'latest') {
    this.kind = kind;
    const options: { policy: QueuePolicy; capacity?: number; dispose: (f: VideoFrame) => void } = {
      policy: queue.policy ?? defaultPolicy,
      dispose: (frame) => frame.close(),
    };
    if (queue.capacity !== undefined) options.capacity = queue.capacity;
    this.#queue = new FrameQueue<VideoFrame>(options);
  }

  /** @inheritdoc */
  get readable(): ReadableStream<VideoFrame> {
    this.#readable ??= new ReadableStream<VideoFrame>(
      {
        pull: async (controller) => {
          const frame = await this.read();
          if (frame) controller.enqueue(frame);
          else controller.close();
        },
        cancel: () => this.close(),
      },
      // The source's own queue does the buffering; the stream holds nothing extra (no added latency).
      { highWaterMark: 0 },
    );
    return this.#readable;
  }

  /** @inheritdoc */
  async read(): Promise<VideoFrame | null> {
    const frame = await this.#queue.shift();
    if (frame) this.#rate.tick();
    return frame;
  }

  /** Yields frames until the end; leaving the loop early (`break`) closes the source. */
  async *[Symbol.asyncIterator](): AsyncIterator<VideoFrame> {
    try {
      for (let frame = await this.read(); frame; frame = await this.read()) yield frame;
    } finally {
      await this.close();
    }
  }

  /** @inheritdoc */
  get stats(): FrameSourceStats {
    const q = this.#queue.stats;
    return {
      framesProduced: q.pushed,
      framesDelivered: q.shifted,
      framesDropped: q.dropped,
      framesQueued: q.queued,
      fps: this.#rate.rate,
    };
  }

  /** @inheritdoc */
  get live(): boolean {
    return this.#queue.policy === 'latest';
  }

  /** @inheritdoc */
  get ended(): boolean {
    return this.#queue.ended;
  }

  /** @inheritdoc */
  on<E extends keyof FrameSourceEvents>(event: E, listener: (payload: FrameSourceEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** @inheritdoc */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#queue.close();
      try {
        await this.release();
      } catch (error) {
        log.warn(`${this.kind} source: release failed`, { error });
      }
      this.#emitEnd('closed');
    })();
    return this.#closing;
  }

  /**
   * Queues a frame (the source hands over ownership), stamping its capture time when given. Resolves `false`
   * when the source has ended, after closing the frame: the producer loop should stop.
   */
  protected deliver(frame: VideoFrame, captureTimeMs?: number): Promise<boolean> {
    if (captureTimeMs !== undefined) stampCaptureTime(frame, captureTimeMs);
    return this.#queue.push(frame);
  }

  /** Closes every queued frame (after a seek they are stale); returns how many. */
  protected discardQueued(): number {
    return this.#queue.clear();
  }

  /** Ends the source normally: queued frames are still delivered, then `read()` returns `null`. */
  protected finish(): void {
    this.#queue.end();
    // Releasing resources during close() ends the underlying stream too: that end is a close, not an `ended`.
    if (this.#closing) return;
    this.#emitEnd('ended');
  }

  /** Reports a failure; a fatal one also ends the source. */
  protected fail(error: FramewireError): void {
    this.#events.emit('error', { error, fatal: error.fatal });
    if (error.fatal) {
      this.#queue.end();
      this.#emitEnd('error');
    }
  }

  /** Releases the subclass's resources (tracks, readers, decoders). Called exactly once, by `close()`. */
  protected abstract release(): Promise<void> | void;

  #emitEnd(reason: FrameSourceEvents['end']['reason']): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    this.#events.emit('end', { reason });
  }
}
