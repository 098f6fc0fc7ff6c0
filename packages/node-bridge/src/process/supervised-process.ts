import { spawn, type ChildProcess } from 'node:child_process';
import { assertOption, backoffDelayMs, FramewireError, TypedEmitter, createLogger } from '@framewire/core';

/** Options of {@link SupervisedProcess}. */
export interface SupervisedProcessOptions {
  /** Name used in logs and error messages, e.g. `testpattern source`. Required. */
  name: string;
  /** Executable (a path, or a name looked up on PATH). Required. */
  command: string;
  /** Arguments. Default: none. */
  args?: string[];
  /** Opens a pipe to the process's stdin (for encoders fed by the bridge). Default: false. */
  stdin?: boolean;
  /**
   * Opens a second output pipe on file descriptor 3 (ffmpeg's `pipe:3`), read into `aux` events: a second stream
   * from the same process, such as a source's audio beside its video. Default: false.
   */
  auxOutput?: boolean;
  /** Extra environment variables. Default: none (the bridge's own environment is inherited). */
  env?: Record<string, string>;
  /** First restart delay after a crash, in ms; doubles per failure in a row up to `maxRestartDelayMs`. Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
  /** Grace period between SIGTERM and SIGKILL on close, in ms. Default: 2000. */
  killTimeoutMs?: number;
  /**
   * Runs when a restart is due, before the process is spawned again (e.g. a probe that picks new arguments with
   * `setArgs()`): a promise delays the spawn until it settles, `undefined` spawns at once. Default: none.
   */
  beforeRestart?: () => Promise<void> | undefined;
}

/** Events of a {@link SupervisedProcess}. */
export type SupervisedProcessEvents = {
  /** A new process was spawned (the first time or after a restart). */
  spawn: { pid: number | undefined; restarts: number };
  /** Bytes from the process's stdout. */
  stdout: { chunk: Buffer };
  /** Bytes from the process's file descriptor 3 (with `auxOutput`). */
  aux: { chunk: Buffer };
  /** Bytes from the process's stderr (its last 2000 characters also go into the failure's message). */
  stderr: { chunk: Buffer };
  /** The process failed or exited; a restart is scheduled after `delayMs`. */
  error: { error: FramewireError; fatal: boolean; delayMs: number };
};

const log = createLogger('process');
/** A process that ran this long before it failed is restarted after the shortest delay again. */
const STABLE_AFTER_MS = 5000;

/**
 * A child process kept alive: when it exits or cannot start, it is restarted after an exponential backoff
 * (`restartDelayMs`, doubling per failure in a row up to `maxRestartDelayMs`; a process that ran for 5 s before it
 * failed starts again from the shortest delay). Failures become non-fatal `FW_ERR_PROCESS_FAILED` errors carrying the exit status and the
 * last lines of stderr. `close()` stops it for good (SIGTERM, then SIGKILL) and is idempotent.
 */
export class SupervisedProcess {
  /** The name used in logs. */
  readonly name: string;
  readonly #options: Required<Omit<SupervisedProcessOptions, 'beforeRestart'>>;
  readonly #beforeRestart: (() => Promise<void> | undefined) | undefined;
  readonly #events = new TypedEmitter<SupervisedProcessEvents>();
  #child: ChildProcess | undefined;
  #restarts = 0;
  #failuresInARow = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Counts `stop()` calls, so that a restart scheduled before one does not spawn after it. */
  #generation = 0;
  #closing: Promise<void> | undefined;

  /** Validates the options; `start()` spawns the process. */
  constructor(options: SupervisedProcessOptions) {
    assertOption(typeof options.command === 'string' && options.command !== '', 'command must be a non-empty string');
    this.#beforeRestart = options.beforeRestart;
    const rest = { ...options };
    delete rest.beforeRestart;
    this.#options = {
      args: [],
      stdin: false,
      auxOutput: false,
      env: {},
      restartDelayMs: 500,
      maxRestartDelayMs: 10_000,
      killTimeoutMs: 2000,
      ...rest,
    };
    assertOption(this.#options.restartDelayMs >= 0, 'restartDelayMs must be >= 0');
    assertOption(
      this.#options.maxRestartDelayMs >= this.#options.restartDelayMs,
      'maxRestartDelayMs must be >= restartDelayMs',
    );
    this.name = options.name;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof SupervisedProcessEvents>(
    event: E,
    listener: (payload: SupervisedProcessEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** Restarts after failures since start. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The running process's id, or `undefined` between restarts. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True while a process runs. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The arguments of the next spawn. */
  get args(): readonly string[] {
    return this.#options.args;
  }

  /** Replaces the arguments; the next spawn (a start or a restart) uses them, a running process keeps its own. */
  setArgs(args: readonly string[]): void {
    this.#options.args = [...args];
  }

  /** Spawns the process (no-op when one runs or after `close()`). */
  start(): void {
    if (this.#child || this.#closed) return;
    clearTimeout(this.#restartTimer);
    const { command, args, stdin, env, auxOutput } = this.#options;
    const child = spawn(command, args, {
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(auxOutput ? (['pipe'] as const) : [])],
      env: { ...process.env, ...env },
    });
    this.#child = child;
    let stderr = '';
    const spawnedAtMs = Date.now();
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
      this.#events.emit('stderr', { chunk });
    });
    // Output of a process that was stopped or closed (still draining) is nobody's any more.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (this.#child === child) this.#events.emit('stdout', { chunk });
    });
    const aux = child.stdio[3];
    if (aux && 'on' in aux)
      aux.on('data', (chunk: Buffer) => {
        if (this.#child === child) this.#events.emit('aux', { chunk });
      });
    // A process that dies while we write to it must not crash the bridge with EPIPE.
    child.stdin?.on('error', (error) => log.debug(`${this.name}: stdin: ${error.message}`));
    child.on('error', (error) => this.#onExit(child, `cannot run ${command}: ${error.message}`, error));
    child.on('close', (code, signal) =>
      this.#onExit(
        child,
        `exited (code ${code ?? 'none'}, signal ${signal ?? 'none'}): ${stderr.trim()}`,
        undefined,
        spawnedAtMs,
      ),
    );
    if (child.pid !== undefined) this.#events.emit('spawn', { pid: child.pid, restarts: this.#restarts });
  }

  /**
   * Writes to the process's stdin. Returns false when nothing was written (no process, no stdin, or its pipe is
   * full): callers that feed live video skip the frame rather than buffer it. With `force`, a full pipe buffers
   * the data instead (for control messages that must not be lost). `written` runs once the pipe is done with
   * `data` (written or failed), only when this returns true.
   */
  write(data: Uint8Array, force = false, written?: () => void): boolean {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable || (stdin.writableNeedDrain && !force)) return false;
    if (written) stdin.write(data, () => written());
    else stdin.write(data);
    return true;
  }

  /** Kills the running process (SIGKILL by default) so that the supervisor restarts it; for tests and recovery. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#child?.kill(signal);
  }

  /**
   * Stops the running process and any pending restart without closing: `start()` spawns it again (a source that runs
   * only while it has consumers). Resolves once the process exited. The stopped process's late output is dropped.
   */
  async stop(): Promise<void> {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    // A restart already waiting for `beforeRestart` must not spawn after this stop.
    this.#generation++;
    this.#failuresInARow = 0;
    const child = this.#child;
    this.#child = undefined;
    await this.#terminate(child);
  }

  /** Stops the process and any pending restart. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      clearTimeout(this.#restartTimer);
      const child = this.#child;
      this.#child = undefined;
      await this.#terminate(child);
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  /** Ends `child` (SIGTERM, then SIGKILL after `killTimeoutMs`) and resolves once it exited. */
  async #terminate(child: ChildProcess | undefined): Promise<void> {
    if (child?.exitCode !== null || child.signalCode !== null) return;
    // 'exit', not 'close': a grandchild holding the pipes open must not hold up shutdown.
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.killTimeoutMs);
    await exited;
    clearTimeout(timer);
  }

  #restart(): void {
    const before = this.#beforeRestart?.();
    if (!before) {
      this.start();
      return;
    }
    const generation = this.#generation;
    const start = (): void => {
      if (generation === this.#generation) this.start();
    };
    void before.then(start, start);
  }

  #onExit(child: ChildProcess, reason: string, cause?: unknown, spawnedAtMs = Date.now()): void {
    if (this.#child !== child || this.#closed) return;
    this.#child = undefined;
    // A process that ran for a while before failing starts the backoff again from the shortest delay.
    if (Date.now() - spawnedAtMs > STABLE_AFTER_MS) this.#failuresInARow = 0;
    const delayMs = backoffDelayMs(this.#options.restartDelayMs, this.#options.maxRestartDelayMs, this.#failuresInARow);
    this.#failuresInARow++;
    this.#restarts++;
    const error = new FramewireError('FW_ERR_PROCESS_FAILED', `${this.name}: ${reason}`, {
      cause,
      fatal: false,
      stage: 'process',
      details: { restarts: this.#restarts, delayMs },
    });
    log.warn(`${error.message} (restart in ${delayMs} ms)`);
    this.#restartTimer = setTimeout(() => this.#restart(), delayMs);
    this.#events.emit('error', { error, fatal: false, delayMs });
  }
}
