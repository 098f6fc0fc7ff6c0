import { FramewireError, assertOption } from '@framewire/core';
import { SupervisedProcess } from '../process/supervised-process.js';
import { SourceBase } from './source-base.js';

/** How a {@link ProcessSource} launches and supervises its tool. */
export interface ProcessSourceCommand {
  /** Executable name or path. Required. */
  command: string;
  /** Arguments after the executable. Required. */
  args: readonly string[];
  /** First restart delay after the tool exits, in ms; doubles up to `maxRestartDelayMs`. Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
  /** Reads the tool's file descriptor 3 into {@link ProcessSource.onAuxChunk} (e.g. ffmpeg's audio). Default: false. */
  auxOutput?: boolean;
  /**
   * Run the tool only while the source has consumers (`frame` or `audio` listeners: the bridge's feeds and outputs):
   * `start()` leaves it `idle`, the first consumer launches it, and it stops `idleStopMs` after the last one left.
   * Default: false (the tool runs from `start()` to `close()`).
   */
  onDemand?: boolean;
  /** With `onDemand`: how long the tool keeps running after its last consumer left, in ms. Default: 2000. */
  idleStopMs?: number;
}

/** See {@link ProcessSourceCommand.idleStopMs}. */
const DEFAULT_IDLE_STOP_MS = 2000;

/**
 * A source whose frames come from the stdout of a supervised tool (ffmpeg, a camera tool): it starts the tool,
 * restarts it with backoff when it exits (health says `restarting`), reports its failures, and stops it on
 * `close()`. Subclasses parse the tool's output in {@link ProcessSource.onChunk}. With `onDemand`, the tool runs only
 * while something consumes the source (health says `idle` otherwise).
 */
export abstract class ProcessSource extends SourceBase {
  readonly #process: SupervisedProcess;
  #startedAtMs = 0;
  #preparing = false;
  /** With `onDemand`: how long the tool outlives its last consumer, in ms; `undefined` runs it all the time. */
  readonly #idleStopMs: number | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** True once `start()` was called: consumers launch the tool only after it. */
  #started = false;

  /** Prepares the supervised tool; `start()` launches it. */
  protected constructor(id: string, kind: string, tool: ProcessSourceCommand) {
    super(id, kind);
    const idleStopMs = tool.idleStopMs ?? DEFAULT_IDLE_STOP_MS;
    assertOption(Number.isFinite(idleStopMs) && idleStopMs >= 0, `idleStopMs must be >= 0; got ${idleStopMs}`);
    this.#idleStopMs = tool.onDemand === true ? idleStopMs : undefined;
    this.#process = new SupervisedProcess({
      name: `${kind} source "${id}"`,
      command: tool.command,
      args: [...tool.args],
      ...(tool.restartDelayMs === undefined ? {} : { restartDelayMs: tool.restartDelayMs }),
      ...(tool.maxRestartDelayMs === undefined ? {} : { maxRestartDelayMs: tool.maxRestartDelayMs }),
      ...(tool.auxOutput ? { auxOutput: true } : {}),
      beforeRestart: () => (this.closed ? undefined : this.prepare?.()),
    });
    this.#process.on('spawn', () => {
      this.#startedAtMs = Date.now();
      this.onSpawn();
    });
    this.#process.on('stdout', ({ chunk }) => {
      this.onChunk(chunk);
    });
    this.#process.on('aux', ({ chunk }) => {
      this.onAuxChunk?.(chunk);
    });
    this.#process.on('error', ({ error }) => {
      const fatal = this.fatalFailure?.(error);
      if (!fatal) {
        this.reportError(error, true);
        return;
      }
      this.failForGood(fatal);
    });
  }

  /** The tool's command line after the executable (of its next start), for logs and tests. */
  get args(): readonly string[] {
    return this.#process.args;
  }

  /** The tool's process id, or `undefined` between restarts. */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** When the running tool was started (epoch ms): the zero of stream timestamps made from arrival times. */
  protected get startedAtMs(): number {
    return this.#startedAtMs;
  }

  /**
   * Launches the tool (no-op when running or closed); with `onDemand` and no consumer yet, moves to `idle` instead
   * (the first consumer launches it). A subclass with a {@link ProcessSource.prepare} step (a probe of its input)
   * launches it once that step settled; `start()` does not wait for it.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.#started = true;
    if (this.#wanted()) this.#launch();
    else if (!this.#process.running && !this.#preparing) this.setState('idle');
    return Promise.resolve();
  }

  /** With `onDemand`: the first consumer launches the tool, the last one stops it `idleStopMs` later. */
  protected override consumersChanged(consumers: number): void {
    const idleStopMs = this.#idleStopMs;
    if (idleStopMs === undefined || !this.#started) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (consumers > 0) {
      this.#launch();
      return;
    }
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#wanted() || this.closed) return;
      void this.#process.stop();
      this.setState('idle');
    }, idleStopMs);
    this.#idleTimer.unref();
  }

  /** True when the tool should run now: always, or with `onDemand` while something consumes the source. */
  #wanted(): boolean {
    return this.#idleStopMs === undefined || this.consumers > 0;
  }

  #launch(): void {
    if (this.#process.running || this.closed || this.#preparing) return;
    if (this.state === 'stopped' || this.state === 'idle') this.setState('starting');
    const prepared = this.prepare?.();
    if (!prepared) {
      this.#process.start();
      return;
    }
    this.#preparing = true;
    void prepared.then(
      () => this.#launchPrepared(),
      () => this.#launchPrepared(),
    );
  }

  #launchPrepared(): void {
    this.#preparing = false;
    // A preparation that failed for good (a missing tool) leaves the tool stopped.
    if (this.closed || this.state === 'failed') return;
    if (this.#wanted()) this.#process.start();
    else this.setState('idle');
  }

  /**
   * Fails the source for good with a fatal `error`: restarting cannot help (a setting the tool rejects, a tool that
   * is not installed), so the tool and any pending restart are stopped.
   */
  protected failForGood(error: FramewireError): void {
    void this.#process.stop();
    this.reportError(
      error.fatal
        ? error
        : new FramewireError(error.code, error.message, { cause: error, fatal: true, stage: 'source' }),
    );
  }

  /** Replaces the tool's arguments; its next start or restart uses them. */
  protected setArgs(args: readonly string[]): void {
    this.#process.setArgs(args);
  }

  /** Stops the tool and any pending restart. */
  protected release(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    return this.#process.close();
  }

  /**
   * Runs before the tool launches, at `start()` and before each restart (e.g. a probe that picks its arguments
   * with {@link ProcessSource.setArgs}): a promise delays the launch until it settles (resolved or rejected),
   * `undefined` launches at once.
   */
  protected prepare?(): Promise<void> | undefined;

  /**
   * Looks at a failed run of the tool: a fatal error to report instead of restarting (the tool rejected a setting,
   * so it would fail again), or `undefined` to restart with backoff as usual.
   */
  protected fatalFailure?(error: FramewireError): FramewireError | undefined;

  /** Called each time the tool (re)starts, before its first output: reset parsers here. */
  protected abstract onSpawn(): void;

  /** Called with each chunk of the tool's stdout. */
  protected abstract onChunk(chunk: Buffer): void;

  /** Called with each chunk of the tool's file descriptor 3 (with `auxOutput`). */
  protected onAuxChunk?(chunk: Buffer): void;
}
