import { FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import type { FrameSource } from '../core/frame-source.js';
import { filterSdp, iceGathered, parseHttpUrl, whepRefusal } from '../network/whep-http.js';
import { SourceTrackFeed } from '../network/source-track-feed.js';

const log = createLogger('bridge-publisher');

/** Options of {@link BridgePublisher.open}. */
export interface BridgePublishOptions {
  /**
   * The bridge's base URL (`http://pi.local:8090/`, which publishes to its `/publish`) or the full publish URL (any
   * WHIP-style endpoint). Required.
   */
  url: string | URL;
  /** Access token, sent as `Authorization: Bearer <token>` (with the `DELETE` too). Default: none. */
  token?: string;
  /** STUN/TURN servers. Default: none (host candidates, fine on a LAN). */
  iceServers?: RTCIceServer[];
  /** Keeps only the ICE candidates (`candidate:…` lines) it returns true for, in the offer and the answer. Default: all. */
  candidateFilter?: (candidate: string) => boolean;
  /** How long `BridgePublisher.open` waits for the connection, in ms (`FW_ERR_TIMEOUT` after). Default: 15000. */
  connectTimeoutMs?: number;
}

/** The state of a {@link BridgePublisher}: `connecting`, `connected`, then `failed` or `closed` (both final). */
export type BridgePublisherState = 'connecting' | 'connected' | 'failed' | 'closed';

/** Events of a {@link BridgePublisher}. */
export type BridgePublisherEvents = {
  /** The state changed. */
  state: { state: BridgePublisherState };
  /** The connection failed (`FW_ERR_PEER_CONNECTION_FAILED`, fatal), or a frame could not be sent (non-fatal). */
  error: { error: FramewireError; fatal: boolean };
};

/**
 * A video published to the Node bridge's `/publish` (WHIP-style: one `POST` of a `sendonly` SDP offer, the session
 * resource in `Location`, `DELETE` to end), made by {@link BridgePublisher.open}. The bridge hands the frames to its
 * `WebRtcPublishSource` (e.g. on to Python over NetGear or shared memory). A failed connection is not retried:
 * watch `state` and publish again.
 */
export class BridgePublisher {
  /** The publish URL. */
  readonly url: string;
  readonly #options: BridgePublishOptions;
  readonly #events = new TypedEmitter<BridgePublisherEvents>();
  readonly #pc: RTCPeerConnection;
  /** The track fed from a {@link FrameSource} input (none for a track input). */
  #feed: SourceTrackFeed | undefined;
  #state: BridgePublisherState = 'connecting';
  #session: string | undefined;

  private constructor(url: string, options: BridgePublishOptions) {
    this.url = url;
    this.#options = options;
    this.#pc = new RTCPeerConnection({ iceServers: options.iceServers ?? [] });
  }

  /**
   * Publishes a {@link FrameSource} (its frames through a `MediaStreamTrackGenerator`) or a video `MediaStreamTrack` to
   * the Node bridge's `/publish` (started with `--webrtc`), WHIP-style. Resolves once connected with a
   * {@link BridgePublisher} (`close()` ends the session with `DELETE`; `state` events). Rejects with
   * `FW_ERR_INVALID_OPTION`, `FW_ERR_NOT_SUPPORTED`, `FW_ERR_UNAUTHORIZED` (401/403), `FW_ERR_CAPACITY_REACHED` (the
   * bridge has its maximum of WebRTC sessions), `FW_ERR_NETWORK_FAILED` (another refusal), `FW_ERR_CONNECTION_FAILED`
   * (unreachable or restarting), `FW_ERR_PEER_CONNECTION_FAILED` or `FW_ERR_TIMEOUT` (no connection).
   *
   * @example
   * ```ts
   * const camera = await Framewire.openSource({ camera: { width: 1280, height: 720 } });
   * const published = await Framewire.BridgePublisher.open(camera, { url: 'http://pi.local:8090/', token: 'secret-token' });
   * published.on('state', ({ state }) => console.log(state));
   * await published.close();
   * ```
   */
  static async open(input: FrameSource | MediaStreamTrack, options: BridgePublishOptions): Promise<BridgePublisher> {
    const url = publishUrl(options);
    const isTrack = typeof MediaStreamTrack !== 'undefined' && input instanceof MediaStreamTrack;
    assertOption(
      isTrack || typeof (input as Partial<FrameSource>).read === 'function',
      'input must be a FrameSource or a video MediaStreamTrack',
    );
    assertOption(!isTrack || input.kind === 'video', 'the track must be a video track');
    if (typeof RTCPeerConnection === 'undefined' || (!isTrack && typeof MediaStreamTrackGenerator !== 'function')) {
      throw new FramewireError(
        'FW_ERR_NOT_SUPPORTED',
        `BridgePublisher needs RTCPeerConnection${isTrack ? '' : ' and MediaStreamTrackGenerator'}`,
        { fatal: true, stage: 'publish' },
      );
    }
    const publisher = new BridgePublisher(url, options);
    try {
      await publisher.#start(isTrack ? input : publisher.#trackOf(input as FrameSource));
    } catch (error) {
      await publisher.#shutdown('failed');
      throw error;
    }
    return publisher;
  }
  /**
   * The same as {@link BridgePublisher.open}.
   * @deprecated Use `BridgePublisher.open()`. Kept for one release.
   */
  static publish(input: FrameSource | MediaStreamTrack, options: BridgePublishOptions): Promise<BridgePublisher> {
    return BridgePublisher.open(input, options);
  }

  /** The current state. */
  get state(): BridgePublisherState {
    return this.#state;
  }

  /** The session resource (from the answer's `Location`) that `close()` deletes. */
  get sessionUrl(): string | undefined {
    return this.#session;
  }

  /** Frames written to the connection (a {@link FrameSource} input only; 0 for a track). */
  get framesSent(): number {
    return this.#feed?.framesSent ?? 0;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof BridgePublisherEvents>(
    event: E,
    listener: (payload: BridgePublisherEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Ends the session (`DELETE` on its resource, best effort) and the connection; state `closed`. A track given to
   * {@link BridgePublisher.open} is left running (it is the caller's), a {@link FrameSource} is left open. Idempotent.
   */
  async close(): Promise<void> {
    await this.#shutdown('closed');
  }

  async #start(track: MediaStreamTrack): Promise<void> {
    const pc = this.#pc;
    const filter = this.#options.candidateFilter;
    pc.addTransceiver(track, { direction: 'sendonly' });
    const connected = new Promise<void>((resolve, reject) => {
      pc.addEventListener('connectionstatechange', () => {
        if (pc.connectionState === 'connected') {
          this.#setState('connected');
          resolve();
        } else if (pc.connectionState === 'failed' && this.#state !== 'closed') {
          const error = new FramewireError('FW_ERR_PEER_CONNECTION_FAILED', `The connection to ${this.url} failed`, {
            fatal: true,
            stage: 'publish',
          });
          reject(error);
          if (this.#state === 'connected') {
            this.#events.emit('error', { error, fatal: true });
            void this.#shutdown('failed');
          }
        }
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const offer = filterSdp(pc.localDescription?.sdp ?? '', filter);
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: this.#headers(true),
        body: offer,
        cache: 'no-store',
      });
    } catch (cause) {
      throw new FramewireError('FW_ERR_CONNECTION_FAILED', `Cannot reach ${this.url}`, {
        cause,
        fatal: true,
        stage: 'publish',
      });
    }
    const text = await response.text();
    if (!response.ok) throw whepRefusal(response.status, text, this.url);
    const location = response.headers.get('location');
    this.#session = location ? new URL(location, this.url).href : undefined;
    await pc.setRemoteDescription({ type: 'answer', sdp: filterSdp(text, filter) });
    const timeoutMs = this.#options.connectTimeoutMs ?? 15_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new FramewireError('FW_ERR_TIMEOUT', `No connection to ${this.url} within ${timeoutMs} ms`, {
              fatal: true,
              stage: 'publish',
            }),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A track fed with the frames of `source` (MediaStreamTrackGenerator), until close. */
  #trackOf(source: FrameSource): MediaStreamTrack {
    const feed = new SourceTrackFeed(source, {
      failed: (error) =>
        this.#events.emit('error', {
          error: new FramewireError('FW_ERR_CLOSED', 'reading the published source failed', {
            cause: error,
            stage: 'publish',
          }),
          fatal: false,
        }),
    });
    this.#feed = feed;
    return feed.track;
  }

  async #shutdown(state: 'failed' | 'closed'): Promise<void> {
    if (this.#state === 'closed' || (this.#state === 'failed' && state === 'failed')) return;
    this.#setState(state);
    const session = this.#session;
    this.#session = undefined;
    if (session)
      await fetch(session, { method: 'DELETE', headers: this.#headers(false) }).catch((error: unknown) =>
        log.debug(`DELETE ${session}: ${String(error)}`),
      );
    this.#pc.close();
    // A source whose read() never settles must not hold the close up.
    await this.#feed?.stop(1000);
    if (state === 'closed') this.#events.removeAllListeners();
  }

  #headers(sdp: boolean): Record<string, string> {
    const headers: Record<string, string> = sdp ? { 'content-type': 'application/sdp' } : {};
    if (this.#options.token) headers['authorization'] = `Bearer ${this.#options.token}`;
    return headers;
  }

  #setState(state: BridgePublisherState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', { state });
  }
}

/**
 * Publishes `input` to the bridge; the same as {@link BridgePublisher.open}.
 * @deprecated Use `BridgePublisher.open()` (one construction verb: `open` for everything that connects). Kept for
 * one release.
 */
export function publishToBridge(
  input: FrameSource | MediaStreamTrack,
  options: BridgePublishOptions,
): Promise<BridgePublisher> {
  return BridgePublisher.open(input, options);
}

/** The publish URL for `options`; throws `FW_ERR_INVALID_OPTION`. */
function publishUrl(options: BridgePublishOptions): string {
  assertOption(typeof options === 'object', 'options must be { url, … }');
  const { url, token, connectTimeoutMs, candidateFilter } = options;
  const parsed = parseHttpUrl(url);
  assertOption(
    token === undefined || (typeof token === 'string' && token.length > 0),
    'token must be a non-empty string',
  );
  assertOption(
    connectTimeoutMs === undefined || (Number.isFinite(connectTimeoutMs) && connectTimeoutMs > 0),
    'connectTimeoutMs must be > 0',
  );
  assertOption(
    candidateFilter === undefined || typeof candidateFilter === 'function',
    'candidateFilter must be a function',
  );
  if (parsed.pathname.endsWith('/')) parsed.pathname += 'publish';
  return parsed.href;
}
