import { FramewireError, TypedEmitter, backoffDelayMs, createLogger } from '@framewire/core';
import type { BridgeMotionEvent } from '../protocol.js';

/** Options of {@link MotionWebhook}. */
export interface MotionWebhookOptions {
  /** The http(s) URL each event is POSTed to (validated by the bridge's motion options). Required. */
  url: string;
  /** Retries of a failed delivery, after 500 ms, 1 s, 2 s, … (at most 10 s apart). Default: 3. */
  retries?: number;
  /** Time one request may take, in ms. Default: 5000. */
  timeoutMs?: number;
}

/** Events of a {@link MotionWebhook}. */
export type MotionWebhookEvents = {
  /** An event could not be delivered after every retry (`FW_ERR_WEBHOOK_FAILED`); never fatal. */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('motion-webhook');
/** Events waiting for delivery; beyond this the oldest are dropped (a dead webhook must not grow memory). */
const MAX_QUEUED = 100;
const INITIAL_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/**
 * Delivers motion events to a webhook, in order, one at a time: each as a JSON POST, retried with exponential
 * backoff on a network error, a timeout or a non-2xx status. A delivery that fails every retry is given up and
 * reported (`error` event, {@link MotionWebhook.lastError}) until the next success; nothing here can stop a stream.
 */
export class MotionWebhook {
  readonly #options: MotionWebhookOptions;
  readonly #events = new TypedEmitter<MotionWebhookEvents>();
  readonly #queue: BridgeMotionEvent[] = [];
  #sending = false;
  #closed = false;
  readonly #abort = new AbortController();
  #delivered = 0;
  #failed = 0;
  #lastError: FramewireError | undefined;

  /** Creates the webhook client; nothing is sent until {@link MotionWebhook.send}. */
  constructor(options: MotionWebhookOptions) {
    this.#options = options;
  }

  /** Subscribes to `error`; returns the unsubscribe function. */
  on<E extends keyof MotionWebhookEvents>(event: E, listener: (payload: MotionWebhookEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Events delivered so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Events given up after every retry so far. */
  get failed(): number {
    return this.#failed;
  }

  /** The last failure (`FW_ERR_WEBHOOK_FAILED`), cleared by the next successful delivery. */
  get lastError(): FramewireError | undefined {
    return this.#lastError;
  }

  /** Queues `event` for delivery. */
  send(event: BridgeMotionEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    if (this.#queue.length > MAX_QUEUED) this.#queue.shift();
    if (!this.#sending) void this.#drain();
  }

  /** Stops delivering (a request in flight is aborted). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#abort.abort();
    this.#events.removeAllListeners();
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    while (!this.#closed) {
      const event = this.#queue.shift();
      if (!event) break;
      await this.#deliver(event);
    }
    this.#sending = false;
  }

  async #deliver(event: BridgeMotionEvent): Promise<void> {
    const retries = this.#options.retries ?? 3;
    let reason = '';
    for (let attempt = 0; attempt <= retries && !this.#closed; attempt++) {
      if (attempt > 0) await this.#wait(backoffDelayMs(INITIAL_RETRY_MS, MAX_RETRY_MS, attempt - 1));
      if (this.#stopped()) return;
      try {
        const response = await fetch(this.#options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.timeoutMs ?? 5000)]),
        });
        await response.body?.cancel();
        if (response.ok) {
          this.#delivered++;
          this.#lastError = undefined;
          return;
        }
        reason = `HTTP ${response.status}`;
      } catch (error) {
        if (this.#stopped()) return;
        const cause = (error as Error & { cause?: { code?: string } }).cause;
        reason = cause?.code ?? (error as Error).message;
      }
    }
    if (this.#closed) return;
    this.#failed++;
    const host = new URL(this.#options.url).host;
    const error = new FramewireError(
      'FW_ERR_WEBHOOK_FAILED',
      `motion webhook ${host}: ${event.type} of ${event.source} not delivered after ${retries + 1} attempts (${reason})`,
      { stage: 'motion-webhook', fatal: false },
    );
    this.#lastError = error;
    log.warn(error.message);
    this.#events.emit('error', { error, fatal: false });
  }

  /** True after `close()` (a method, so that it is read again after every `await`). */
  #stopped(): boolean {
    return this.#closed;
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#abort.signal.addEventListener('abort', done);
    });
  }
}
