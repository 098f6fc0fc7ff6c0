import { FramewireError, assertOption, createLogger } from '@framewire/core';
import {
  WS_AUDIO_QUERY,
  WS_CLOSE_CODES,
  decodeWsAudio,
  decodeWsFrame,
  parseWsServerMessage,
  type WsAckMessage,
  type WsAudioConfigMessage,
} from '@framewire/core/bridge-protocol';
import { LatencyWindow, type BridgeLatency } from './latency-window.js';
import { ReconnectBackoff, type ReconnectBackoffOptions } from '../core/reconnect-backoff.js';
import { LiveLink } from './live-link.js';
import { H264AccessUnitDecoder } from './h264-access-unit-decoder.js';
import { OpusTrackDecoder } from './opus-track-decoder.js';
import { AudioHoldback } from './audio-holdback.js';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import type { FrameSourceStats, SourceQueueOptions } from '../core/frame-source.js';
import { assertSecureContext } from '../core/secure-context.js';

const log = createLogger('bridge-source');

/** Options of {@link BridgeSource.open}. */
export interface BridgeSourceOptions {
  /**
   * The bridge: its base URL (`http://pi.local:8090/` or `ws://pi.local:8090/`), or the full WebSocket URL
   * (`ws://pi.local:8090/sources/cam/ws`). `http(s)` becomes `ws(s)`. Required.
   */
  url: string | URL;
  /** The bridge source to show, when `url` is the bridge's base URL. Default: the bridge's first source (`/ws`). */
  sourceId?: string;
  /** The bridge's access token, sent as the `token` query parameter. Default: none (or the one in `url`). */
  token?: string;
  /**
   * Also receive the source's audio (a bridge started with `--audio`): Opus packets decoded with `AudioDecoder`
   * into {@link BridgeSource.audioTrack}. Needs `AudioDecoder` and `MediaStreamTrackGenerator` (Chromium); elsewhere
   * the video plays alone with a warning. Default: false.
   */
  audio?: boolean;
  /**
   * Reconnects after the socket closes or stalls (the bridge restarted), with exponential backoff. Default:
   * `{ initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 10 }`; `false` turns it off.
   */
  reconnect?: boolean | ReconnectBackoffOptions;
  /** A connection that delivers no frame for this long is reported stalled and reconnected, in ms. Default: 5000. */
  stallTimeoutMs?: number;
  /** How long `open()` waits for the first decoded frame, in ms. Default: 15000. */
  openTimeoutMs?: number;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 2 }` (the newest frame wins). */
  queue?: SourceQueueOptions;
  /**
   * How {@link openSource} reaches the bridge: `websocket` (H.264, this class) or `webrtc` (the source's H.264, or
   * VP8 for browsers without H.264, from the bridge's WHEP endpoint `/whep`, started with `--webrtc`; opens a
   * {@link WhepSource}). `BridgeSource.open` itself always uses the
   * WebSocket. Default: `websocket`.
   */
  transport?: 'websocket' | 'webrtc';
}

export type { BridgeLatency } from './latency-window.js';

/** The counters of a {@link BridgeSource}: the {@link FrameSourceStats} plus the bridge connection's own. */
export interface BridgeSourceStats extends FrameSourceStats {
  /** Connections made after the first (the bridge restarted, the socket stalled). */
  reconnects: number;
  /** Access units the bridge skipped for this viewer (gaps in the sequence: a slow client skips to a keyframe). */
  framesSkipped: number;
  /** Decoder failures (each resets the decoder, which resumes at the next keyframe). */
  decodeErrors: number;
  /** Binary or text messages that were not part of the protocol, ignored. */
  badMessages: number;
  /** Opus packets received (with `audio: true`). */
  audioPackets: number;
  /** Median glass-to-glass latency in ms (see {@link BridgeLatency}); `undefined` before the first frame. */
  latencyP50Ms: number | undefined;
  /** 95th percentile glass-to-glass latency in ms; `undefined` before the first frame. */
  latencyP95Ms: number | undefined;
}

const DEFAULT_BACKOFF: ReconnectBackoffOptions = { initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 10 };

/**
 * The browser end of the Node bridge's WebSocket output: H.264 access units over a WebSocket, decoded with
 * `VideoDecoder`, as a live frame source (the newest frame wins). Each frame carries the bridge's capture time
 * (`getCaptureTime`), so `stats` reports glass-to-glass latency (p50/p95).
 *
 * `open()` resolves with the first decoded frame. It rejects with `FW_ERR_UNAUTHORIZED` for a missing or wrong
 * token, `FW_ERR_NETWORK_FAILED` for an unknown source, `FW_ERR_CONNECTION_FAILED` for a bridge that cannot be
 * reached, `FW_ERR_INSECURE_CONTEXT` on an http:// page that is not on localhost, `FW_ERR_NOT_SUPPORTED` without
 * WebCodecs. Later, a socket that closes or stalls is reconnected with
 * backoff (non-fatal `FW_ERR_CONNECTION_FAILED` / `FW_ERR_STREAM_STALLED` events; fatal once retries are used
 * up); a decoder failure is a non-fatal `FW_ERR_DECODE_FAILED` and decoding resumes at the next keyframe.
 *
 * @example
 * ```ts
 * const bridge = await Framewire.BridgeSource.open({ url: 'http://pi.local:8090/', token: 'secret-token' });
 * for await (const frame of bridge) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * console.log(bridge.stats.latencyP50Ms);
 * ```
 */
export class BridgeSource extends QueuedFrameSource {
  /** The WebSocket URL in use (with the token, when one was given). */
  readonly url: string;
  readonly #options: BridgeSourceOptions;
  readonly #link: LiveLink;
  readonly #latencies = new LatencyWindow();
  readonly #decoder: H264AccessUnitDecoder;
  #socket: WebSocket | undefined;
  #lastSequence: number | undefined;
  #skipped = 0;
  #badMessages = 0;
  #audio: OpusTrackDecoder | undefined;
  #audioPackets = 0;
  /** Holds the audio by the video's extra delay, so that the two play in sync. */
  readonly #holdback = new AudioHoldback();

  private constructor(url: string, options: BridgeSourceOptions) {
    super('bridge', options.queue, 'latest');
    this.url = url;
    this.#options = options;
    this.#link = new LiveLink(
      {
        label: redact(url),
        stage: 'network',
        reconnect: options.reconnect,
        defaultBackoff: DEFAULT_BACKOFF,
        stallTimeoutMs: options.stallTimeoutMs,
      },
      {
        connect: (generation) => Promise.resolve(this.#connect(generation)),
        teardown: () => this.#teardown(),
        fail: (error) => {
          if (error.fatal) this.#audio?.close();
          this.fail(error);
        },
      },
    );
    this.#decoder = new H264AccessUnitDecoder(
      {
        frame: (frame, captured) => {
          if (this.#link.stopped) {
            frame.close();
            return;
          }
          if (captured !== undefined) this.#holdback.videoDecoded(captured);
          this.#link.frameArrived();
          void this.deliver(frame, captured);
        },
        error: (error) => {
          if (this.#link.stopped) return;
          if (error.fatal) this.#failAll(error);
          else this.fail(error);
        },
      },
      redact(url),
    );
  }

  /**
   * Connects to a bridge and resolves once the first frame is decoded. Rejects with `FW_ERR_INVALID_OPTION`,
   * `FW_ERR_NOT_SUPPORTED`, `FW_ERR_UNAUTHORIZED`, `FW_ERR_NETWORK_FAILED` (unknown source),
   * `FW_ERR_CONNECTION_FAILED` (unreachable) or `FW_ERR_STREAM_STALLED` (no frame within `openTimeoutMs`).
   */
  static async open(options: string | URL | BridgeSourceOptions): Promise<BridgeSource> {
    const resolved: BridgeSourceOptions =
      typeof options === 'string' || options instanceof URL ? { url: options } : options;
    const url = validate(resolved);
    assertSecureContext('BridgeSource', 'decode');
    if (typeof VideoDecoder === 'undefined' || typeof WebSocket === 'undefined') {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'BridgeSource needs WebCodecs VideoDecoder and WebSocket', {
        fatal: true,
        stage: 'decode',
      });
    }
    const source = new BridgeSource(url, resolved);
    try {
      await source.#link.open(resolved.openTimeoutMs ?? 15_000);
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  /**
   * The source's audio as a live track (with `audio: true`, once the bridge said the source has audio, which it
   * does before the first frame, so it is set when `open()` resolves): play it (`audio.srcObject = new
   * MediaStream([track])`) or give it to a `Recorder` (`audio: bridge.audioTrack`). `undefined` without audio. It
   * survives reconnections and ends with `close()`.
   */
  get audioTrack(): MediaStreamTrack | undefined {
    return this.#audio?.track;
  }

  /** Reconnections made so far. */
  get reconnects(): number {
    return this.#link.reconnects;
  }

  /** Glass-to-glass latency of the newest delivered frames; `undefined` before the first. */
  get latency(): BridgeLatency | undefined {
    return this.#latencies.summary;
  }

  /** The counters, with the connection's own and the latency percentiles. */
  override get stats(): BridgeSourceStats {
    const base = super.stats;
    const latency = this.latency;
    return {
      ...base,
      framesDropped: base.framesDropped + this.#skipped,
      reconnects: this.#link.reconnects,
      framesSkipped: this.#skipped,
      decodeErrors: this.#decoder.decodeErrors,
      badMessages: this.#badMessages,
      audioPackets: this.#audioPackets,
      latencyP50Ms: latency?.p50Ms,
      latencyP95Ms: latency?.p95Ms,
    };
  }

  /** The next frame (stamped with its capture time), measuring its glass-to-glass latency. */
  override async read(): Promise<VideoFrame | null> {
    const frame = await super.read();
    this.#latencies.measure(frame);
    return frame;
  }

  #connect(generation: number): void {
    const socket = new WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#decoder.reset();
    this.#lastSequence = undefined;
    let opened = false;
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (!this.#link.isCurrent(generation)) return;
      if (typeof event.data === 'string') this.#onText(event.data);
      else this.#onBinary(new Uint8Array(event.data));
    };
    socket.onerror = () => undefined; // a close event follows
    socket.onclose = (event) => {
      if (!this.#link.isCurrent(generation)) return;
      void this.#closeError(opened, event.code, event.reason).then((error) => this.#link.lost(generation, error));
    };
  }

  #onText(text: string): void {
    const message = parseWsServerMessage(text);
    if (!message) {
      this.#badMessages++;
      log.debug('ignored an unknown text message', { text: text.slice(0, 80) });
      return;
    }
    if (message.type === 'config') this.#decoder.setConfig(message);
    else if (message.type === 'audio-config') this.#openAudio(message);
    else if (message.type === 'error') log.warn(`bridge: ${message.code}: ${message.message}`);
  }

  #openAudio(config: WsAudioConfigMessage): void {
    if (this.#audio || this.#options.audio !== true) return;
    if (!OpusTrackDecoder.supported) {
      log.warn('this browser cannot decode the bridge audio (no AudioDecoder or MediaStreamTrackGenerator)');
      return;
    }
    this.#audio = new OpusTrackDecoder(config, (error) => {
      if (!this.#link.stopped) this.fail(error);
    });
  }

  #onBinary(message: Uint8Array): void {
    const audio = decodeWsAudio(message);
    if (audio) {
      this.#audioPackets++;
      this.#audio?.decode(audio.header, audio.payload, this.#holdback.holdMs(audio.header.captureTimeMs));
      return;
    }
    const frame = decodeWsFrame(message);
    if (!frame) {
      this.#badMessages++;
      log.debug(`ignored a ${message.byteLength}-byte binary message that is not a frame`);
      return;
    }
    const { header, payload } = frame;
    // Acknowledge every frame on arrival: the bridge then sees a backlog at once (its send buffer alone fills only
    // after the kernel's socket buffers) and makes this viewer skip to the next keyframe instead of queueing.
    const ack: WsAckMessage = { type: 'ack', sequence: header.sequence };
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(ack));
    if (this.#lastSequence !== undefined && header.sequence > this.#lastSequence + 1)
      this.#skipped += header.sequence - this.#lastSequence - 1;
    this.#lastSequence = header.sequence;
    if (this.#decoder.decode(header, payload) === 'no-config') {
      this.#badMessages++;
      log.debug('a keyframe arrived before any config message; waiting');
    }
  }

  /** The error a socket's close means: an unknown source (fatal), a refused upgrade (diagnosed), or a drop. */
  async #closeError(opened: boolean, code: number, reason: string): Promise<FramewireError> {
    let error: FramewireError;
    if (code === WS_CLOSE_CODES.unknownSource) {
      error = new FramewireError(
        'FW_ERR_NETWORK_FAILED',
        `The bridge has no such source: ${redact(this.url)} (${reason})`,
        {
          fatal: true,
          stage: 'network',
          details: { url: redact(this.url), status: 404 },
        },
      );
    } else if (!opened) {
      error = await this.#diagnose();
    } else {
      error = new FramewireError('FW_ERR_CONNECTION_FAILED', `The bridge closed the connection (code ${code})`, {
        fatal: false,
        stage: 'network',
        details: { url: redact(this.url), code },
      });
    }
    return error;
  }

  /** Why a WebSocket did not open (browsers hide the HTTP status): asks the same URL over plain HTTP. */
  async #diagnose(): Promise<FramewireError> {
    const http = this.url.replace(/^ws/, 'http');
    const details = { url: redact(this.url) };
    try {
      const response = await fetch(http, { cache: 'no-store' });
      if (response.status === 401 || response.status === 403) {
        return new FramewireError('FW_ERR_UNAUTHORIZED', `The bridge refused the token for ${redact(this.url)}`, {
          fatal: true,
          stage: 'auth',
          details: { ...details, status: response.status },
        });
      }
      if (response.status === 404) {
        return new FramewireError('FW_ERR_NETWORK_FAILED', `The bridge has no WebSocket at ${redact(this.url)}`, {
          fatal: true,
          stage: 'network',
          details: { ...details, status: 404 },
        });
      }
    } catch (cause) {
      return new FramewireError('FW_ERR_CONNECTION_FAILED', `Cannot reach the bridge at ${redact(this.url)}`, {
        cause,
        fatal: false,
        stage: 'network',
        details,
      });
    }
    return new FramewireError('FW_ERR_CONNECTION_FAILED', `The WebSocket to ${redact(this.url)} did not open`, {
      fatal: false,
      stage: 'network',
      details,
    });
  }

  #failAll(error: FramewireError): void {
    this.#link.stop();
    this.#audio?.close();
    this.fail(error);
  }

  /** Ends the current socket (before a reconnection, and at the end). */
  #teardown(): void {
    this.#socket?.close();
    this.#socket = undefined;
    this.#decoder.reset();
  }

  /** Closes the socket and the decoder (frames still in the decoder are dropped). */
  protected release(): void {
    this.#link.stop();
    this.#audio?.close();
  }
}

/** The URL without its token, for messages. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('token')) parsed.searchParams.set('token', '…');
  return parsed.href;
}

/** The WebSocket URL for `options`; throws `FW_ERR_INVALID_OPTION`. */
function validate(options: BridgeSourceOptions): string {
  assertOption(typeof options === 'object', 'options must be a URL or { url, … }');
  const { url, sourceId, token } = options;
  assertOption(url instanceof URL || (typeof url === 'string' && url.length > 0), 'url must be a non-empty URL');
  let parsed: URL;
  try {
    parsed = new URL(String(url), typeof location === 'undefined' ? undefined : location.href);
  } catch {
    assertOption(false, `url must be a valid URL; got ${String(url)}`);
    throw new Error('unreachable');
  }
  assertOption(
    ['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol),
    `url must be ws:, wss:, http: or https:; got ${parsed.protocol}`,
  );
  parsed.protocol = parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? 'wss:' : 'ws:';
  assertOption(
    sourceId === undefined || (typeof sourceId === 'string' && /^[\w.-]+$/.test(sourceId)),
    'sourceId must be a source id such as "cam" (letters, digits, _ . -)',
  );
  const base = parsed.pathname === '' || parsed.pathname.endsWith('/');
  assertOption(base || sourceId === undefined, 'give sourceId with the bridge base URL, not with a full /ws URL');
  if (base) parsed.pathname += sourceId === undefined ? 'ws' : `sources/${sourceId}/ws`;
  assertOption(
    token === undefined || (typeof token === 'string' && token.length > 0),
    'token must be a non-empty string',
  );
  if (token !== undefined) parsed.searchParams.set('token', token);
  assertOption(options.audio === undefined || typeof options.audio === 'boolean', 'options.audio must be a boolean');
  if (options.audio === true) parsed.searchParams.set(WS_AUDIO_QUERY, '1');
  for (const key of ['stallTimeoutMs', 'openTimeoutMs'] as const) {
    const value = options[key];
    assertOption(value === undefined || (Number.isFinite(value) && value > 0), `options.${key} must be > 0`);
  }
  assertOption(
    options.reconnect === undefined || typeof options.reconnect === 'boolean' || typeof options.reconnect === 'object',
    'options.reconnect must be true, false or the backoff options',
  );
  if (typeof options.reconnect === 'object') new ReconnectBackoff(options.reconnect);
  return parsed.href;
}
