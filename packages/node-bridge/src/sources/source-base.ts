import { FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import type { SourceHealth, SourceMediaMode, SourceState, VideoFilterHealth } from '../protocol.js';
import { LatestFrames } from '../media/latest-frames.js';
import type { SourceFrame } from '../media/source-frame.js';
import type { AudioInfo, AudioPacket } from '../media/audio-packet.js';
import type { AudioInput } from './audio-input.js';
import type { VideoSource, VideoSourceEvents } from './video-source.js';

const log = createLogger('source');

/** What health reports about how a source treats its tracks (see {@link SourceHealth}). */
interface MediaModes {
  videoMode?: SourceMediaMode;
  audioMode?: SourceMediaMode;
  videoFilter?: VideoFilterHealth;
}

/**
 * The shared implementation of {@link VideoSource}: health counters (frames, fps, bytes, drops, restarts),
 * state changes, the newest frame and keyframe, and an idempotent `close()`. A subclass calls `emitFrame()`,
 * `setState()`, `reportError()` and `countDrop()`, and implements `start()` and `release()`.
 */
export abstract class SourceBase implements VideoSource {
  /** @inheritdoc */
  readonly id: string;
  /** @inheritdoc */
  readonly kind: string;
  /** The event emitter subclasses emit on. */
  protected readonly events = new TypedEmitter<VideoSourceEvents>();
  #state: SourceState = 'stopped';
  #frames = 0;
  #bytes = 0;
  #dropped = 0;
  #restarts = 0;
  #lastError: string | undefined;
  readonly #newest = new LatestFrames();
  readonly #frameTimes: { timeMs: number; bytes: number }[] = [];
  #closing: Promise<void> | undefined;
  #audio: AudioInfo | undefined;
  #audioPackets = 0;
  #audioInput: { input: AudioInput; started: boolean; off: (() => void)[] } | undefined;
  #modes: MediaModes = {};
  #consumers = 0;

  /** Validates `id` (it appears in URLs). */
  protected constructor(id: string, kind: string) {
    assertOption(typeof id === 'string' && /^[\w.-]{1,64}$/.test(id), `id must match [A-Za-z0-9_.-]{1,64}; got ${id}`);
    this.id = id;
    this.kind = kind;
  }

  /**
   * @inheritdoc
   *
   * A `frame` or `audio` listener is a consumer (a feed, an output): {@link SourceBase.consumers} counts it until its
   * unsubscribe function is called, and a source that runs on demand starts with the first and stops after the last.
   */
  on<E extends keyof VideoSourceEvents>(event: E, listener: (payload: VideoSourceEvents[E]) => void): () => void {
    const off = this.events.on(event, listener);
    if (event !== 'frame' && event !== 'audio') return off;
    this.#consumers++;
    this.consumersChanged?.(this.#consumers);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      this.#consumers--;
      if (!this.closed) this.consumersChanged?.(this.#consumers);
    };
  }

  /** The listeners of `frame` and `audio` events now: the feeds and outputs that consume this source. */
  get consumers(): number {
    return this.#consumers;
  }

  /** @inheritdoc */
  get latest(): SourceFrame | undefined {
    return this.#newest.latest;
  }

  /** @inheritdoc */
  get latestKey(): SourceFrame | undefined {
    return this.#newest.latestKey;
  }

  /** @inheritdoc */
  get audio(): AudioInfo | undefined {
    return this.#audio;
  }

  /**
   * Gives this source the audio of `input` (a capture device beside a camera): the input starts with the source, its
   * packets become this source's `audio` events and its failures non-fatal `error` events (the video goes on), and
   * `close()` closes it. A source takes one audio input (`FW_ERR_INVALID_OPTION` for a second).
   */
  attachAudio(input: AudioInput): void {
    assertOption(this.#audioInput === undefined, `source "${this.id}" already has an audio input`);
    this.#audio = input.info;
    const off = [
      input.on('packet', ({ packet }) => this.emitAudio(packet)),
      input.on('error', ({ error }) => {
        this.#lastError = error.code;
        this.events.emit('error', { error, fatal: false });
      }),
    ];
    this.#audioInput = { input, started: false, off };
    if (this.#state !== 'stopped') this.#startAudioInput();
  }

  /** The current state. */
  get state(): SourceState {
    return this.#state;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** @inheritdoc */
  get health(): SourceHealth {
    const now = performance.now();
    this.#trimFrameTimes(now);
    const times = this.#frameTimes;
    const span = times.length > 1 ? (times[times.length - 1]?.timeMs ?? 0) - (times[0]?.timeMs ?? 0) : 0;
    const windowBytes = times.slice(1).reduce((sum, t) => sum + t.bytes, 0);
    const health: SourceHealth = {
      id: this.id,
      kind: this.kind,
      state: this.#state,
      frames: this.#frames,
      restarts: this.#restarts,
      fps: span > 0 ? Math.round(((times.length - 1) * 1000 * 10) / span) / 10 : 0,
      bytes: this.#bytes,
      bitrateBps: span > 0 ? Math.round((windowBytes * 8 * 1000) / span) : 0,
      dropped: this.#dropped,
    };
    if (this.#lastError !== undefined) health.lastError = this.#lastError;
    if (this.#audio) health.audioPackets = this.#audioPackets;
    return { ...health, ...this.#modes };
  }

  /** @inheritdoc */
  abstract start(): Promise<void>;

  /** @inheritdoc */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        this.#audioInput?.off.forEach((off) => off());
        await Promise.all([this.release(), this.#audioInput?.input.close()]);
      } catch (error) {
        log.warn(`${this.kind} source "${this.id}": release failed`, { error });
      }
      this.setState('stopped');
      this.events.removeAllListeners();
      this.#newest.clear();
    })();
    return this.#closing;
  }

  /** Called when {@link SourceBase.consumers} changed (not after `close()`), with the new count. */
  protected consumersChanged?(consumers: number): void;

  /** Releases the subclass's resources (processes, sockets). Called once, by `close()`. */
  protected abstract release(): Promise<void> | void;

  /** Counts and publishes a frame; the first frame after a (re)start moves the state to `running`. */
  protected emitFrame(frame: SourceFrame): void {
    if (this.closed) return;
    this.#frames++;
    this.#bytes += frame.data.length;
    const now = performance.now();
    this.#frameTimes.push({ timeMs: now, bytes: frame.data.length });
    this.#trimFrameTimes(now);
    this.#newest.set(frame);
    if (this.#state !== 'running') this.setState('running');
    this.events.emit('frame', { frame });
  }

  /** Declares the source's own audio (packets then come through {@link emitAudio}). */
  protected setAudio(info: AudioInfo | undefined): void {
    this.#audio = info;
  }

  /** Sets what health reports as the source's `videoMode`, `audioMode` and `videoFilter`. */
  protected setMediaModes(modes: MediaModes): void {
    this.#modes = modes;
  }

  /** Publishes one packet of the source's audio. */
  protected emitAudio(packet: AudioPacket): void {
    if (this.closed) return;
    this.#audioPackets++;
    this.events.emit('audio', { packet });
  }

  /** Moves to `state` and emits `state` when it changed; `idle` forgets the newest frames (they would be stale). */
  protected setState(state: SourceState): void {
    if (state === this.#state) return;
    this.#state = state;
    if (state === 'idle') this.#newest.clear();
    if (state !== 'stopped' && !this.closed) this.#startAudioInput();
    this.events.emit('state', { state });
  }

  /** Records and emits an error; `restart` counts a restart and moves to `restarting` (non-fatal errors). */
  protected reportError(error: FramewireError, restart = false): void {
    this.#lastError = error.code;
    if (restart) {
      this.#restarts++;
      this.setState('restarting');
    }
    if (error.fatal) this.setState('failed');
    this.events.emit('error', { error, fatal: error.fatal });
  }

  /**
   * Counts a restart without an error of its own (a connection that came back), for sources that report the outage
   * when it starts and the restart when it ends.
   */
  protected countRestart(): void {
    this.#restarts++;
  }

  /** Counts a dropped frame (bad input, overload). */
  protected countDrop(): void {
    this.#dropped++;
  }

  /** Builds a `FramewireError` whose message names this source. */
  protected error(
    code: ConstructorParameters<typeof FramewireError>[0],
    message: string,
    cause?: unknown,
    fatal = false,
  ): FramewireError {
    return new FramewireError(code, `${this.kind} source "${this.id}": ${message}`, { cause, fatal, stage: 'source' });
  }

  #startAudioInput(): void {
    const audio = this.#audioInput;
    if (!audio || audio.started) return;
    audio.started = true;
    audio.input.start();
  }

  #trimFrameTimes(now: number): void {
    while (this.#frameTimes.length > 0 && (this.#frameTimes[0]?.timeMs ?? 0) < now - 1000) this.#frameTimes.shift();
  }
}
