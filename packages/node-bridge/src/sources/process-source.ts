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
}

/**
 * A source whose frames come from the stdout of a supervised tool (ffmpeg, a camera tool): it starts the tool,
 * restarts it with backoff when it exits (health says `restarting`), reports its failures, and stops it on
 * `close()`. Subclasses parse the tool's output in {@link ProcessSource.onChunk}.
 */
export abstract class ProcessSource extends SourceBase {
  readonly #process: SupervisedProcess;
  #startedAtMs = 0;
  #preparing = false;

  /** Prepares the supervised tool; `start()` launches it. */
  protected constructor(id: string, kind: string, tool: ProcessSourceCommand) {
    super(id, kind);
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
      this.reportError(error, true);
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
   * Launches the tool (no-op when running or closed). A subclass with a {@link ProcessSource.prepare} step (a probe
   * of its input) launches it once that step settled; `start()` does not wait for it.
   */
  start(): Promise<void> {
    if (this.#process.running || this.closed || this.#preparing) return Promise.resolve();
    if (this.state === 'stopped') this.setState('starting');
    const prepared = this.prepare?.();
    if (!prepared) {
      this.#process.start();
      return Promise.resolve();
    }
    this.#preparing = true;
    void prepared.then(
      () => this.#launchPrepared(),
      () => this.#launchPrepared(),
    );
    return Promise.resolve();
  }

  #launchPrepared(): void {
    this.#preparing = false;
    if (!this.closed) this.#process.start();
  }

  /** Replaces the tool's arguments; its next start or restart uses them. */
  protected setArgs(args: readonly string[]): void {
    this.#process.setArgs(args);
  }

  /** Stops the tool and any pending restart. */
  protected release(): Promise<void> {
    return this.#process.close();
  }

  /**
   * Runs before the tool launches, at `start()` and before each restart (e.g. a probe that picks its arguments
   * with {@link ProcessSource.setArgs}): a promise delays the launch until it settles (resolved or rejected),
   * `undefined` launches at once.
   */
  protected prepare?(): Promise<void> | undefined;

  /** Called each time the tool (re)starts, before its first output: reset parsers here. */
  protected abstract onSpawn(): void;

  /** Called with each chunk of the tool's stdout. */
  protected abstract onChunk(chunk: Buffer): void;

  /** Called with each chunk of the tool's file descriptor 3 (with `auxOutput`). */
  protected onAuxChunk?(chunk: Buffer): void;
}
