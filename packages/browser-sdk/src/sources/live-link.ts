import { FramewireError, createLogger, type ErrorCode } from '@framewire/core';
import { ReconnectBackoff, type ReconnectBackoffOptions } from '../core/reconnect-backoff.js';

const log = createLogger('live-link');

/** Options of a {@link LiveLink}. */
export interface LiveLinkOptions {
  /** What messages call the far end: its URL, without secrets. */
  label: string;
  /** The `stage` of the errors it makes. */
  stage: string;
  /** The source's `reconnect` option: `false` never reconnects; backoff options replace `defaultBackoff`'s. */
  reconnect: boolean | ReconnectBackoffOptions | undefined;
  /** The backoff when `reconnect` is `true` or not given. */
  defaultBackoff: ReconnectBackoffOptions;
  /** A connection that delivers no frame for this long is stalled and replaced, in ms. Default: 5000. */
  stallTimeoutMs: number | undefined;
}

/** What a {@link LiveLink} asks of the source it keeps connected. */
export interface LiveLinkHooks {
  /**
   * Opens the connection numbered `generation`. Its frames call {@link LiveLink.frameArrived}; its failures call
   * {@link LiveLink.lost} with the same `generation` (a rejection counts as one). Callbacks of an older generation
   * must be ignored ({@link LiveLink.isCurrent}).
   */
  connect(generation: number): Promise<void>;
  /** Ends the current connection (before each new one, and at the end). */
  teardown(): void;
  /** Reports an error as the source's `error` event; a fatal one ends the source. */
  fail(error: FramewireError): void;
}

/**
 * Keeps a live network source connected — the part `BridgeSource`, `WhepSource` and `JanusSource` share: `open()`
 * waits for the first frame (a fatal `FW_ERR_STREAM_STALLED` after `openTimeoutMs`, or the first connection's
 * failure made fatal); later a lost or stalled connection (no frame for `stallTimeoutMs`) is torn down, reported as
 * a non-fatal error and replaced after a backoff delay; a fatal cause, or retries used up
 * (`FW_ERR_CONNECTION_FAILED` "did not come back"), ends the source with a fatal error.
 */
export class LiveLink {
  readonly #options: LiveLinkOptions;
  readonly #hooks: LiveLinkHooks;
  readonly #backoff: ReconnectBackoff;
  readonly #stallMs: number;
  #generation = 0;
  #stopped = false;
  #reconnecting = false;
  #reconnects = 0;
  #lastFrameMs = performance.now();
  #stallTimer: ReturnType<typeof setInterval> | undefined;
  #firstFrame: { resolve: () => void; reject: (error: FramewireError) => void } | undefined;

  /** Validates nothing: the source checked its options. */
  constructor(options: LiveLinkOptions, hooks: LiveLinkHooks) {
    this.#options = options;
    this.#hooks = hooks;
    const { reconnect, defaultBackoff } = options;
    this.#backoff = new ReconnectBackoff(
      typeof reconnect === 'object' ? { ...defaultBackoff, ...reconnect } : defaultBackoff,
    );
    this.#stallMs = options.stallTimeoutMs ?? 5000;
  }

  /** Connections made after the first. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** True once it stopped (closed, or gave up). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** True when `generation` is the connection in use and the link has not stopped. */
  isCurrent(generation: number): boolean {
    return generation === this.#generation && !this.#stopped;
  }

  /** Connects and resolves once the first frame arrived; rejects as described on the class. */
  async open(openTimeoutMs: number): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.#firstFrame = { resolve, reject }));
    const timer = setTimeout(
      () =>
        this.#firstFrame?.reject(
          stalled(`No frame from ${this.#options.label} within ${openTimeoutMs} ms`, true, this.#options.stage),
        ),
      openTimeoutMs,
    );
    try {
      this.#connectNext();
      await first;
    } finally {
      clearTimeout(timer);
      this.#firstFrame = undefined;
    }
    this.#lastFrameMs = performance.now();
    this.#stallTimer = setInterval(() => this.#checkStall(), Math.min(1000, this.#stallMs / 4));
  }

  /** A frame of the current connection arrived: it is alive (the backoff starts again from its first delay). */
  frameArrived(): void {
    this.#lastFrameMs = performance.now();
    this.#backoff.reset();
    this.#firstFrame?.resolve();
  }

  /** The connection numbered `generation` failed with `cause` (ignored when it is no longer the current one). */
  lost(generation: number, cause: FramewireError): void {
    if (!this.isCurrent(generation) || this.#reconnecting) return;
    log.debug(`connection to ${this.#options.label} lost: ${cause.code}: ${cause.message}`);
    this.#generation++;
    this.#hooks.teardown();
    if (this.#firstFrame) {
      this.#firstFrame.reject(
        new FramewireError(cause.code, cause.message, {
          cause,
          fatal: true,
          stage: cause.stage,
          details: { ...cause.details },
        }),
      );
      return;
    }
    if (cause.fatal) {
      this.#giveUp(cause);
      return;
    }
    const delay = this.#options.reconnect === false ? null : this.#backoff.nextDelayMs();
    if (delay === null) {
      const retries = this.#backoff.attempts;
      this.#giveUp(
        new FramewireError(
          'FW_ERR_CONNECTION_FAILED',
          `${this.#options.label} did not come back after ${retries} ${retries === 1 ? 'retry' : 'retries'}`,
          { cause, fatal: true, stage: this.#options.stage, details: { url: this.#options.label } },
        ),
      );
      return;
    }
    this.#hooks.fail(cause);
    log.info(`reconnecting to ${this.#options.label} in ${delay} ms`);
    this.#reconnecting = true;
    setTimeout(() => {
      this.#reconnecting = false;
      if (this.#stopped) return;
      this.#reconnects++;
      this.#lastFrameMs = performance.now();
      this.#connectNext();
    }, delay);
  }

  /** Stops for good: no more reconnections; the current connection is torn down. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
    this.#generation++;
    this.#hooks.teardown();
  }

  #giveUp(error: FramewireError): void {
    this.stop();
    this.#hooks.fail(error);
  }

  #connectNext(): void {
    const generation = ++this.#generation;
    this.#hooks
      .connect(generation)
      .catch((error: unknown) => this.lost(generation, asFramewireError(error, this.#options.stage)));
  }

  #checkStall(): void {
    if (this.#stopped || this.#reconnecting) return;
    const idleMs = performance.now() - this.#lastFrameMs;
    if (idleMs >= this.#stallMs)
      this.lost(
        this.#generation,
        stalled(`No frame from ${this.#options.label} for ${Math.round(idleMs)} ms`, false, this.#options.stage),
      );
  }
}

function stalled(message: string, fatal: boolean, stage: string): FramewireError {
  return new FramewireError('FW_ERR_STREAM_STALLED', message, { fatal, stage });
}

/** `error` as a FramewireError (anything else is a non-fatal FW_ERR_CONNECTION_FAILED). */
function asFramewireError(error: unknown, stage: string, code: ErrorCode = 'FW_ERR_CONNECTION_FAILED'): FramewireError {
  return error instanceof FramewireError ? error : new FramewireError(code, String(error), { cause: error, stage });
}
