import { FramewireError, assertOption, createLogger } from '@framewire/core';
import { startSdkWorker } from '../core/sdk-asset-urls.js';
import { stampCaptureTime } from '../core/capture-time.js';
import { loadDash, loadHls } from '../core/lazy-modules.js';
import { ReconnectBackoff, type ReconnectBackoffOptions } from '../core/reconnect-backoff.js';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import { ElementSource } from './element-source.js';
import { fetchError, preflight } from './http-preflight.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import type { MjpegRequest, MjpegResponse } from './mjpeg-messages.js';
import { assertSecureContext } from '../core/secure-context.js';

const log = createLogger('stream-source');

/** The kinds of network stream {@link StreamSource} plays. */
export type StreamType = 'hls' | 'dash' | 'mjpeg' | 'progressive';
const STREAM_TYPES: readonly StreamType[] = ['hls', 'dash', 'mjpeg', 'progressive'];

/** Options of {@link StreamSource.open}. */
export interface StreamSourceOptions {
  /**
   * The kind of stream. Default: guessed from the response's content type, then from the URL's extension
   * (`.m3u8` → hls, `.mpd` → dash, `multipart/x-mixed-replace` → mjpeg, anything else → progressive).
   */
  type?: StreamType;
  /**
   * Reconnects after the stream fails or stalls, with exponential backoff. Default: on for live streams (MJPEG,
   * live HLS/DASH playlists, endless progressive responses) with `{ initialDelayMs: 500, maxDelayMs: 8000,
   * maxRetries: 8 }`; `false` turns it off.
   */
  reconnect?: boolean | ReconnectBackoffOptions;
  /** A stream that delivers no frame for this long is reported stalled (`FW_ERR_STREAM_STALLED`), in ms. Default: 5000. */
  stallTimeoutMs?: number;
  /** How long `open()` waits for the first frame, in ms. Default: 15000. */
  openTimeoutMs?: number;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 2 }` (the newest frame wins). */
  queue?: SourceQueueOptions;
}

interface Connection {
  /** Resolves with the next frame of this connection, or `null` when it ended. */
  read(): Promise<VideoFrame | null>;
  /** Whether the stream announced itself as live. */
  live(): boolean;
  close(): void;
}

/**
 * A network stream as a frame source: HLS (hls.js) and DASH (dash.js) into a media element and out as frames,
 * MJPEG over HTTP (multipart parsing and JPEG decoding in a Worker), and progressive media URLs.
 *
 * `open()` resolves once the first frame has arrived, so a bad URL rejects at once: `FW_ERR_NETWORK_FAILED` for
 * an unreachable server or an HTTP error status (`details.status`), `FW_ERR_MEDIA_UNREADABLE` for content that
 * does not play. Later, a stream that delivers nothing for `stallTimeoutMs` is reported with a non-fatal
 * `FW_ERR_STREAM_STALLED` `error` event; live streams then reconnect with backoff, and a fatal
 * `FW_ERR_NETWORK_FAILED` ends the source once retries are used up. hls.js and dash.js load only when needed.
 *
 * @example
 * ```ts
 * const stream = await Framewire.StreamSource.open('https://example.com/live/index.m3u8');
 * for await (const frame of stream) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * ```
 */
export class StreamSource extends QueuedFrameSource {
  /** The stream URL. */
  readonly url: string;
  /** The kind of stream being played. */
  readonly type: StreamType;
  readonly #options: StreamSourceOptions;
  readonly #backoff: ReconnectBackoff;
  readonly #stallMs: number;
  #connection: Connection | undefined;
  #lastFrameMs = performance.now();
  #stallTimer: ReturnType<typeof setInterval> | undefined;
  #reconnects = 0;
  #stopped = false;
  #firstFrame: { resolve: () => void; reject: (error: FramewireError) => void } | undefined;

  private constructor(url: string, type: StreamType, options: StreamSourceOptions) {
    super('stream', options.queue, 'latest');
    this.url = url;
    this.type = type;
    this.#options = options;
    this.#backoff = new ReconnectBackoff(typeof options.reconnect === 'object' ? options.reconnect : {});
    this.#stallMs = options.stallTimeoutMs ?? 5000;
  }

  /**
   * Connects to `url` and resolves once the first frame has arrived. Rejects with `FW_ERR_NETWORK_FAILED`,
   * `FW_ERR_MEDIA_UNREADABLE`, `FW_ERR_LAZY_LOAD_FAILED`, `FW_ERR_STREAM_STALLED` (no frame within
   * `openTimeoutMs`) or `FW_ERR_INVALID_OPTION`.
   */
  static async open(url: string | URL, options: StreamSourceOptions = {}): Promise<StreamSource> {
    validate(url, options);
    assertSecureContext('StreamSource', 'decode');
    const absolute = new URL(String(url), location.href).href;
    const { contentType, contentTypeHeader } = await preflight(absolute);
    const type = options.type ?? guessType(absolute, contentType, contentTypeHeader);
    const source = new StreamSource(absolute, type, options);
    try {
      await source.#start(options.openTimeoutMs ?? 15_000);
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  /** Reconnections made so far (after failures or stalls). */
  get reconnects(): number {
    return this.#reconnects;
  }

  async #start(openTimeoutMs: number): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.#firstFrame = { resolve, reject }));
    const timer = setTimeout(
      () => this.#firstFrame?.reject(stalled(`No frame from ${this.url} within ${openTimeoutMs} ms`, true)),
      openTimeoutMs,
    );
    try {
      this.#connection = await this.#connect();
      void this.#pump(this.#connection);
      await first;
    } finally {
      clearTimeout(timer);
      this.#firstFrame = undefined;
    }
    this.#lastFrameMs = performance.now();
    this.#stallTimer = setInterval(() => this.#checkStall(), Math.min(1000, this.#stallMs / 4));
  }

  #connect(): Promise<Connection> {
    switch (this.type) {
      case 'mjpeg':
        return Promise.resolve(mjpegConnection(this.url));
      case 'hls':
        return hlsConnection(this.url);
      case 'dash':
        return dashConnection(this.url);
      case 'progressive':
        return Promise.resolve(progressiveConnection(this.url));
    }
  }

  async #pump(connection: Connection): Promise<void> {
    try {
      for (;;) {
        const frame = await connection.read();
        if (connection !== this.#connection || this.#stopped) {
          frame?.close();
          return;
        }
        if (!frame) break;
        this.#lastFrameMs = performance.now();
        if (this.#firstFrame) this.#firstFrame.resolve();
        else this.#backoff.reset();
        if (!(await this.deliver(frame))) return;
      }
      if (!this.#isCurrent(connection)) return;
      // The stream ended. A finite stream is done; a live one dropped and is worth reconnecting.
      if (this.#shouldReconnect(connection)) this.#reconnect(connection, undefined);
      else this.#finishAll();
    } catch (error) {
      if (connection !== this.#connection || this.#stopped) return;
      const failure =
        error instanceof FramewireError
          ? error
          : new FramewireError('FW_ERR_MEDIA_UNREADABLE', `The stream failed: ${String(error)}`, {
              cause: error,
              fatal: true,
              stage: 'network',
            });
      if (this.#firstFrame) {
        this.#firstFrame.reject(failure);
        return;
      }
      if (this.#shouldReconnect(connection)) this.#reconnect(connection, failure);
      else this.#failAll(failure);
    }
  }

  /** Whether `connection` is still the one in use (no reconnect or close since). */
  #isCurrent(connection: Connection): boolean {
    return connection === this.#connection && !this.#stopped;
  }

  #shouldReconnect(connection: Connection): boolean {
    if (this.#options.reconnect === false) return false;
    if (this.#options.reconnect !== undefined) return true;
    return this.type === 'mjpeg' || connection.live();
  }

  #reconnect(old: Connection, cause: FramewireError | undefined): void {
    old.close();
    this.#connection = undefined;
    const delay = this.#backoff.nextDelayMs();
    if (delay === null) {
      this.#failAll(
        new FramewireError(
          'FW_ERR_NETWORK_FAILED',
          `${this.url} did not come back after ${this.#backoff.attempts} retries`,
          {
            cause,
            fatal: true,
            stage: 'network',
            details: { url: this.url },
          },
        ),
      );
      return;
    }
    log.info(`reconnecting to ${this.url} in ${delay} ms`, { cause });
    setTimeout(() => {
      if (this.#stopped) return;
      this.#reconnects++;
      this.#lastFrameMs = performance.now();
      void this.#connect().then(
        (connection) => {
          if (this.#stopped) {
            connection.close();
            return;
          }
          this.#connection = connection;
          void this.#pump(connection);
        },
        (error: unknown) => {
          const failure = error instanceof FramewireError ? error : fetchError(this.url, undefined, error);
          this.#reconnect({ read: () => Promise.resolve(null), live: () => true, close: () => undefined }, failure);
        },
      );
    }, delay);
  }

  #checkStall(): void {
    if (this.#stopped || !this.#connection) return;
    const idleMs = performance.now() - this.#lastFrameMs;
    if (idleMs < this.#stallMs) return;
    const connection = this.#connection;
    const canReconnect = this.#shouldReconnect(connection);
    const error = stalled(`No frame from ${this.url} for ${Math.round(idleMs)} ms`, !canReconnect);
    if (canReconnect) {
      this.fail(error);
      this.#reconnect(connection, error);
    } else {
      this.#failAll(error);
    }
  }

  #finishAll(): void {
    this.#stop();
    this.finish();
  }

  #failAll(error: FramewireError): void {
    this.#stop();
    this.fail(error);
  }

  #stop(): void {
    this.#stopped = true;
    if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
    this.#connection?.close();
    this.#connection = undefined;
  }

  /** Disconnects, stops the player or worker and removes its media element. */
  protected release(): void {
    this.#stop();
  }
}

function stalled(message: string, fatal: boolean): FramewireError {
  return new FramewireError('FW_ERR_STREAM_STALLED', message, { fatal, stage: 'network' });
}

function guessType(url: string, contentType: string, header: string): StreamType {
  if (contentType === 'multipart/x-mixed-replace' || /multipart\/x-mixed-replace/i.test(header)) return 'mjpeg';
  if (contentType.includes('mpegurl')) return 'hls';
  if (contentType === 'application/dash+xml') return 'dash';
  const path = new URL(url).pathname.toLowerCase();
  if (path.endsWith('.m3u8')) return 'hls';
  if (path.endsWith('.mpd')) return 'dash';
  if (path.endsWith('.mjpg') || path.endsWith('.mjpeg')) return 'mjpeg';
  return 'progressive';
}

function validate(url: string | URL, options: StreamSourceOptions): void {
  assertOption(url instanceof URL || (typeof url === 'string' && url.length > 0), 'url must be a non-empty URL');
  assertOption(
    options.type === undefined || STREAM_TYPES.includes(options.type),
    `options.type must be one of ${STREAM_TYPES.join(', ')}; got ${String(options.type)}`,
  );
  for (const key of ['stallTimeoutMs', 'openTimeoutMs'] as const) {
    const value = options[key];
    assertOption(value === undefined || (Number.isFinite(value) && value > 0), `options.${key} must be > 0`);
  }
  if (typeof options.reconnect === 'object') new ReconnectBackoff(options.reconnect);
}

// ── connections ──────────────────────────────────────────────────────────────────────────────────────────────

/** A muted, inline, CORS-enabled video element the page never shows. */
function hiddenVideo(): HTMLVideoElement {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.crossOrigin = 'anonymous';
  video.autoplay = true;
  return video;
}

/**
 * Frames out of a playing media element, through an {@link ElementSource}; `failure` rejects the next read.
 */
function elementConnection(
  video: HTMLVideoElement,
  live: () => boolean,
  teardown: () => void,
): Connection & { fail(error: FramewireError): void } {
  const frames = new ElementSource(video, { queue: { capacity: 1 } });
  let failure: ((error: FramewireError) => void) | undefined;
  const failed = new Promise<never>((_, reject) => (failure = reject));
  failed.catch(() => undefined);
  const onError = (): void => {
    const code = video.error?.code;
    failure?.(
      new FramewireError(
        'FW_ERR_MEDIA_UNREADABLE',
        `The media element could not play the stream (${video.error?.message ?? `code ${String(code)}`})`,
        { fatal: true, stage: 'decode', details: { mediaErrorCode: code } },
      ),
    );
  };
  video.addEventListener('error', onError);
  frames.on('error', ({ error }) => failure?.(error));
  return {
    read: () => Promise.race([frames.read(), failed]),
    live,
    fail: (error) => failure?.(error),
    close: () => {
      video.removeEventListener('error', onError);
      void frames.close();
      teardown();
      video.removeAttribute('src');
      video.load();
    },
  };
}

function progressiveConnection(url: string): Connection {
  const video = hiddenVideo();
  video.src = url;
  void video.play().catch(() => undefined);
  return elementConnection(
    video,
    () => video.duration === Infinity,
    () => video.pause(),
  );
}

async function hlsConnection(url: string): Promise<Connection> {
  const Hls = await loadHls();
  const video = hiddenVideo();
  if (!Hls.isSupported()) {
    throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'hls.js cannot play in this browser (no MediaSource)', {
      fatal: true,
      stage: 'network',
    });
  }
  const hls = new Hls({ enableWorker: false, lowLatencyMode: true });
  let live = false;
  const connection = elementConnection(
    video,
    () => live,
    () => hls.destroy(),
  );
  hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
    live = data.details.live;
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    const status = data.response?.code;
    connection.fail(
      data.type === Hls.ErrorTypes.NETWORK_ERROR
        ? fetchError(data.url ?? url, status === undefined || status === 0 ? undefined : status, data.error)
        : new FramewireError('FW_ERR_MEDIA_UNREADABLE', `hls.js cannot play ${url}: ${data.details}`, {
            cause: data.error,
            fatal: true,
            stage: 'decode',
          }),
    );
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  void video.play().catch(() => undefined);
  return connection;
}

async function dashConnection(url: string): Promise<Connection> {
  const dashjs = await loadDash();
  const video = hiddenVideo();
  const player = dashjs.MediaPlayer().create();
  const connection = elementConnection(
    video,
    () => {
      try {
        return player.isDynamic();
      } catch {
        return false;
      }
    },
    () => player.destroy(),
  );
  player.on('error', (event: unknown) => {
    const error = (event as { error?: { code?: number; message?: string } }).error;
    connection.fail(
      new FramewireError(
        'FW_ERR_MEDIA_UNREADABLE',
        `dash.js cannot play ${url}: ${error?.message ?? 'unknown error'}`,
        {
          cause: error,
          fatal: true,
          stage: 'decode',
          details: { dashErrorCode: error?.code },
        },
      ),
    );
  });
  player.initialize(video, url, true);
  return connection;
}

function mjpegConnection(url: string): Connection {
  const worker = startSdkWorker(
    'mjpeg.worker.js',
    'framewire-mjpeg',
    () =>
      new Worker(new URL('./workers/mjpeg.worker.js', import.meta.url), { type: 'module', name: 'framewire-mjpeg' }),
  );
  const frames: VideoFrame[] = [];
  let waiting: { resolve: (f: VideoFrame | null) => void; reject: (e: FramewireError) => void } | undefined;
  let failure: FramewireError | undefined;
  let ended = false;
  let closed = false;
  const send = (message: MjpegRequest): void => worker.postMessage(message);
  const settle = (): void => {
    if (!waiting) return;
    const frame = frames.shift();
    if (frame) {
      waiting.resolve(frame);
      send({ type: 'ack' });
    } else if (failure) waiting.reject(failure);
    else if (ended) waiting.resolve(null);
    else return;
    waiting = undefined;
  };
  worker.onmessage = (event: MessageEvent<MjpegResponse>) => {
    const message = event.data;
    if (closed) {
      if (message.type === 'frame') message.frame.close();
      return;
    }
    switch (message.type) {
      case 'frame':
        // Stamped with its arrival time in the worker, right after the bytes came off the network.
        frames.push(stampCaptureTime(message.frame, message.captureTimeMs));
        // Keep only the newest picture waiting: the worker does not decode more than two ahead anyway.
        while (frames.length > 1) {
          frames.shift()?.close();
          send({ type: 'ack' });
        }
        break;
      case 'disconnected':
        if (message.ended) ended = true;
        else
          failure =
            message.status !== undefined
              ? fetchError(url, message.status)
              : new FramewireError('FW_ERR_NETWORK_FAILED', `MJPEG stream ${url} failed: ${message.message}`, {
                  fatal: true,
                  stage: 'network',
                  details: { url },
                });
        break;
      case 'skipped':
        log.debug('skipped an undecodable JPEG', { reason: message.reason });
        break;
      case 'connected':
        break;
    }
    settle();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failure = new FramewireError('FW_ERR_WORKER_FAILED', `MJPEG worker failed: ${event.message}`, {
      fatal: true,
      stage: 'network',
    });
    settle();
  };
  send({ type: 'connect', url });
  return {
    read: () =>
      new Promise<VideoFrame | null>((resolve, reject) => {
        waiting = { resolve, reject };
        settle();
      }),
    live: () => true,
    close: () => {
      if (closed) return;
      closed = true;
      send({ type: 'disconnect' });
      worker.terminate();
      for (const frame of frames.splice(0)) frame.close();
      waiting?.resolve(null);
      waiting = undefined;
    },
  };
}
