import { assertOption } from '@framewire/core';

/**
 * What a full queue does with a new item:
 * - `latest`: drop the oldest queued item (latest frame wins, latency never grows) — the default for live sources;
 * - `backpressure`: make the producer wait until a consumer takes an item (nothing is ever dropped) — the
 *   default for files.
 */
export type QueuePolicy = 'latest' | 'backpressure';

/** Options of {@link FrameQueue}. */
export interface FrameQueueOptions<T> {
  /** Maximum number of queued items, ≥ 1. Default: 2 for `latest`, 8 for `backpressure`. */
  capacity?: number;
  /** Full-queue behaviour. Default: `latest`. */
  policy?: QueuePolicy;
  /** Releases an item the queue drops or discards on close (for frames: `frame => frame.close()`). */
  dispose?: (item: T) => void;
}

/** Counters of a {@link FrameQueue}. */
export interface FrameQueueStats {
  /** Items accepted by `push()`. */
  pushed: number;
  /** Items handed out by `shift()`. */
  shifted: number;
  /** Items dropped because the queue was full (`latest` policy only). */
  dropped: number;
  /** Items waiting now. */
  queued: number;
}

/** Default capacities per policy, in items. */
export const DEFAULT_QUEUE_CAPACITY: Record<QueuePolicy, number> = { latest: 2, backpressure: 8 };

/**
 * A bounded asynchronous queue between a producer (a capture loop, a decoder) and a consumer (`read()`).
 *
 * Every item it drops or discards is passed to `dispose`, so a queue of `VideoFrame`s never leaks one.
 * After `end()` the consumer drains what is queued and then gets `null`; after `close()` it gets `null` at once.
 */
export class FrameQueue<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  readonly #policy: QueuePolicy;
  readonly #dispose: (item: T) => void;
  readonly #takers: ((item: T | null) => void)[] = [];
  readonly #spaceWaiters: (() => void)[] = [];
  #ended = false;
  #closed = false;
  #pushed = 0;
  #shifted = 0;
  #dropped = 0;

  /** Creates an empty queue; throws `FW_ERR_INVALID_OPTION` on a bad capacity or policy. */
  constructor(options: FrameQueueOptions<T> = {}) {
    this.#policy = options.policy ?? 'latest';
    // Checked at run time too: plain-JavaScript callers are not held to the type.
    assertOption(
      (['latest', 'backpressure'] as unknown[]).includes(this.#policy),
      `queue.policy must be 'latest' or 'backpressure'; got ${String(options.policy)}`,
    );
    this.#capacity = options.capacity ?? DEFAULT_QUEUE_CAPACITY[this.#policy];
    assertOption(
      Number.isInteger(this.#capacity) && this.#capacity >= 1,
      `queue.capacity must be an integer ≥ 1; got ${String(options.capacity)}`,
    );
    this.#dispose = options.dispose ?? (() => undefined);
  }

  /** The full-queue behaviour. */
  get policy(): QueuePolicy {
    return this.#policy;
  }

  /** The maximum number of queued items. */
  get capacity(): number {
    return this.#capacity;
  }

  /** True once `end()` or `close()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** A snapshot of the counters. */
  get stats(): FrameQueueStats {
    return { pushed: this.#pushed, shifted: this.#shifted, dropped: this.#dropped, queued: this.#items.length };
  }

  /**
   * Adds an item. With `latest` it resolves at once (dropping the oldest item when full); with `backpressure` it
   * resolves when there is room. Resolves `false`, after disposing the item, when the queue has ended or closes
   * while waiting: a producer loop stops on `false`.
   */
  async push(item: T): Promise<boolean> {
    while (!this.#ended && this.#policy === 'backpressure' && this.#items.length >= this.#capacity) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
    if (this.#ended) {
      this.#dispose(item);
      return false;
    }
    this.#pushed++;
    const taker = this.#takers.shift();
    if (taker) {
      this.#shifted++;
      taker(item);
      return true;
    }
    this.#items.push(item);
    if (this.#items.length > this.#capacity) {
      this.#dropped++;
      this.#dispose(this.#items.shift() as T);
    }
    return true;
  }

  /** Takes the oldest item, waiting for one; `null` once the queue has ended and is empty. */
  shift(): Promise<T | null> {
    const item = this.#items.shift();
    if (item !== undefined) {
      this.#shifted++;
      this.#spaceWaiters.shift()?.();
      return Promise.resolve(item);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /** Disposes every queued item (a seek makes them stale) and wakes a waiting producer; returns how many. */
  clear(): number {
    const items = this.#items.splice(0);
    for (const item of items) this.#dispose(item);
    for (const wake of this.#spaceWaiters.splice(0)) wake();
    return items.length;
  }

  /** No more items will come: the consumer drains the queue, then gets `null`. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const taker of this.#takers.splice(0)) taker(null);
    for (const wake of this.#spaceWaiters.splice(0)) wake();
  }

  /** Ends the queue and disposes every queued item. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.end();
    for (const item of this.#items.splice(0)) this.#dispose(item);
  }
}
