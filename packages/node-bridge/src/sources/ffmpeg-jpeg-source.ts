import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { FramewireError, TypedEmitter, createLogger } from '@framewire/core';
import type { SourceHealth, SourceState } from '../protocol.js';
import type { EncodedFrame } from './encoded-frame.js';
import { JpegStreamSplitter } from './jpeg-stream-splitter.js';

/** Options of {@link FfmpegJpegSource}. */
export interface FfmpegJpegSourceOptions {
  /** The source id used in URLs and health. Required. */
  id: string;
  /** The source kind reported in health, e.g. `testpattern`. Required. */
  kind: string;
  /** ffmpeg arguments that open the input (everything before the output options). Required. */
  inputArgs: string[];
  /** JPEG quality on ffmpeg's 2 (best) – 31 scale. Default: 5. */
  jpegQuality?: number;
  /** ffmpeg executable. Default: `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** First restart delay after a crash, in ms; doubles up to `maxRestartDelayMs`. Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
}

/** Events of an {@link FfmpegJpegSource}. */
export type FfmpegJpegSourceEvents = {
  /** A complete JPEG frame. */
  frame: { frame: EncodedFrame };
  /** The state changed (e.g. `running` → `restarting`). */
  state: { state: SourceState };
  /** ffmpeg failed; the source restarts it with backoff. */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('ffmpeg-source');

/**
 * A supervised ffmpeg process whose output is a stream of JPEG frames. When ffmpeg dies it is restarted with
 * exponential backoff, and the health state says so; `close()` stops it for good.
 */
export class FfmpegJpegSource {
  /** The source id. */
  readonly id: string;
  /** The source kind. */
  readonly kind: string;
  readonly #options: Required<FfmpegJpegSourceOptions>;
  readonly #events = new TypedEmitter<FfmpegJpegSourceEvents>();
  #child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  #state: SourceState = 'stopped';
  #frames = 0;
  #restarts = 0;
  #lastError: string | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #startedAtMs = 0;
  #latest: EncodedFrame | undefined;

  /** Creates the source; `start()` launches ffmpeg. */
  constructor(options: FfmpegJpegSourceOptions) {
    this.id = options.id;
    this.kind = options.kind;
    this.#options = {
      jpegQuality: 5,
      ffmpegPath: 'ffmpeg',
      restartDelayMs: 500,
      maxRestartDelayMs: 10_000,
      ...options,
    };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof FfmpegJpegSourceEvents>(
    event: E,
    listener: (payload: FfmpegJpegSourceEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** The newest frame, for snapshots and late joiners. */
  get latest(): EncodedFrame | undefined {
    return this.#latest;
  }

  /** The source's health. */
  get health(): SourceHealth {
    const health: SourceHealth = {
      id: this.id,
      kind: this.kind,
      state: this.#state,
      frames: this.#frames,
      restarts: this.#restarts,
    };
    if (this.#lastError !== undefined) health.lastError = this.#lastError;
    return health;
  }

  /** Launches ffmpeg (no-op when running). */
  start(): void {
    if (this.#child || this.#state === 'running') return;
    this.#setState(this.#restarts === 0 ? 'starting' : 'restarting');
    const { ffmpegPath, inputArgs, jpegQuality } = this.#options;
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      ...inputArgs,
      '-an',
      '-c:v',
      'mjpeg',
      '-q:v',
      String(jpegQuality),
      '-f',
      'image2pipe',
      'pipe:1',
    ];
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#startedAtMs = Date.now();
    const splitter = new JpegStreamSplitter();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      for (const data of splitter.push(chunk)) this.#emitFrame(data);
    });
    child.on('error', (error) => this.#onExit(error.message, error));
    child.on('close', (code, signal) => {
      if (this.#child === child)
        this.#onExit(`ffmpeg exited (code ${code ?? 'none'}, signal ${signal ?? 'none'}): ${stderr.trim()}`);
    });
  }

  /** Stops ffmpeg and any pending restart. Idempotent. */
  async close(): Promise<void> {
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    this.#child = undefined;
    this.#setState('stopped');
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    this.#events.removeAllListeners();
  }

  #emitFrame(data: Buffer): void {
    const now = Date.now();
    const frame: EncodedFrame = {
      codec: 'jpeg',
      key: true,
      data,
      timestampUs: (now - this.#startedAtMs) * 1000,
      captureTimeMs: now,
    };
    this.#frames++;
    this.#latest = frame;
    if (this.#state !== 'running') this.#setState('running');
    this.#events.emit('frame', { frame });
  }

  #onExit(reason: string, cause?: unknown): void {
    if (this.#state === 'stopped') return;
    this.#child = undefined;
    const error = new FramewireError('FW_ERR_PROCESS_FAILED', `${this.kind} source "${this.id}": ${reason}`, {
      cause,
      fatal: false,
      stage: 'source',
    });
    this.#lastError = error.code;
    log.warn(error.message);
    this.#events.emit('error', { error, fatal: false });
    const delay = Math.min(this.#options.restartDelayMs * 2 ** this.#restarts, this.#options.maxRestartDelayMs);
    this.#restarts++;
    this.#setState('restarting');
    this.#restartTimer = setTimeout(() => this.start(), delay);
  }

  #setState(state: SourceState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#events.emit('state', { state });
  }
}
