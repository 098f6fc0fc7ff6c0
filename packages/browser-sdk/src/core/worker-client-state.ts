import type { FramewireError } from '@framewire/core';

/**
 * The producer side of a client that streams frames to a worker (the encoder, the stabilizer): its first failure,
 * whether it is closed, a producer waiting for room, and flushes waiting for the worker's answer. One place for
 * the rules both clients keep: a failure or close wakes the producer and settles every pending flush.
 */
export class WorkerClientState {
  #failure: FramewireError | undefined;
  #closed = false;
  #wakeProducer: (() => void) | undefined;
  readonly #flushes = new Map<number, () => void>();
  #nextFlushId = 0;

  /** The first failure, if any. */
  get failure(): FramewireError | undefined {
    return this.#failure;
  }

  /** Whether the client was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Neither failed nor closed (read again after every await: it changes meanwhile). */
  get running(): boolean {
    return !this.#failure && !this.#closed;
  }

  /** Throws the failure, if any. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Waits while `busy()` holds and the client runs, then throws the failure if there is one. */
  async waitWhile(busy: () => boolean): Promise<void> {
    while (busy() && this.running) {
      await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    }
    this.throwIfFailed();
  }

  /** Wakes a producer waiting in {@link WorkerClientState.waitWhile} so it checks again. */
  wake(): void {
    const wake = this.#wakeProducer;
    this.#wakeProducer = undefined;
    wake?.();
  }

  /** Asks the worker to flush (`post(id)` sends the request) and waits for {@link WorkerClientState.flushed}. */
  async flush(post: (id: number) => void): Promise<void> {
    const id = this.#nextFlushId++;
    await new Promise<void>((resolve) => {
      this.#flushes.set(id, resolve);
      post(id);
    });
    this.throwIfFailed();
  }

  /** The worker answered flush `id`. */
  flushed(id: number): void {
    this.#flushes.get(id)?.();
    this.#flushes.delete(id);
  }

  /** Records the first failure and releases every waiter; false when a failure was already recorded. */
  fail(error: FramewireError): boolean {
    if (this.#failure) return false;
    this.#failure = error;
    this.#release();
    return true;
  }

  /** Marks the client closed and releases every waiter; false when it already was. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#release();
    return true;
  }

  #release(): void {
    this.wake();
    for (const resolve of this.#flushes.values()) resolve();
    this.#flushes.clear();
  }
}
