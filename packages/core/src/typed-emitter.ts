import { createLogger } from './logger.js';

/** A map from event name to the single payload object that event carries. */
export type EventMap = Record<string, object>;

/** A listener for one event of an {@link EventMap}. */
export type Listener<Payload> = (payload: Payload) => void;

const log = createLogger('events');

/**
 * A typed event emitter. `on()` returns an unsubscribe function; every event carries one payload object.
 *
 * A listener that throws is logged and skipped, so one faulty listener never breaks the pipeline or stops the
 * other listeners from running.
 *
 * @example
 * ```ts
 * type SourceEvents = { end: { reason: string } };
 * const events = new TypedEmitter<SourceEvents>();
 * const off = events.on('end', ({ reason }) => console.log(reason));
 * events.emit('end', { reason: 'done' });
 * off();
 * ```
 */
export class TypedEmitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Calls `listener` on every `event` until the returned function is called. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Calls `listener` on the next `event` only; the returned function cancels it before then. */
  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes `listener` from `event`; removing a listener that is not registered does nothing. */
  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const set = this.#listeners.get(event);
    set?.delete(listener);
    if (set?.size === 0) this.#listeners.delete(event);
  }

  /** Resolves with the payload of the next `event`. */
  next<E extends keyof Events>(event: E): Promise<Events[E]> {
    return new Promise((resolve) => this.once(event, resolve));
  }

  /** The number of listeners registered for `event`. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Removes every listener of every event (used by `close()` implementations). */
  removeAllListeners(): void {
    this.#listeners.clear();
  }

  /** Delivers `payload` to every listener of `event`, in registration order. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    // Copy so that listeners may unsubscribe (or subscribe) while the event is being delivered.
    for (const listener of [...set] as Listener<Events[E]>[]) {
      try {
        listener(payload);
      } catch (error) {
        log.error(`listener for "${String(event)}" threw`, { error });
      }
    }
  }
}
