import { FramewireError, TypedEmitter, assertOption, backoffDelayMs, createLogger } from '@framewire/core';
import { RTCPeerConnection, type RTCRtpSender } from 'werift';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import type { OutputStats } from './output-stats.js';
import { RtpFanout } from '../webrtc/rtp-fanout.js';
import { LoopbackStunServer } from '../webrtc/loopback-stun-server.js';
import {
  iceGatheringComplete,
  keepCandidates,
  weriftH264PeerConfig,
  weriftIceServers,
  type WeriftIceServer,
} from '../webrtc/werift-ice.js';

/** Options of {@link WhipPushOutput}. */
export interface WhipPushOutputOptions {
  /** The WHIP endpoint to publish to (`http://` or `https://`), e.g. another bridge's `http://host:8090/whip`. Required. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` on every request. Default: none. */
  token?: string;
  /** STUN/TURN servers of the peer connection. Default: none (the bridge's own STUN server on 127.0.0.1). */
  iceServers?: WeriftIceServer[];
  /** Keep only ICE candidates with these addresses, in the offer and the answer. Default: `[]`, every candidate. */
  iceAddresses?: string[];
  /** First delay before publishing again after a failure, in ms; doubles per failure in a row. Default: 1000. */
  retryDelayMs?: number;
  /** Longest delay between two attempts, in ms. Default: 30000. */
  maxRetryDelayMs?: number;
  /** How long an attempt may take from the offer to a connected peer connection, in ms. Default: 15000. */
  connectTimeoutMs?: number;
  /** The H.264 `a=fmtp` of the offer. Default: constrained baseline, packetization-mode 1 (what the bridge encodes). */
  h264Fmtp?: string;
}

/** The state of a {@link WhipPushOutput}. */
export type WhipPushState = 'connecting' | 'connected' | 'retrying' | 'closed';

/** Events of a {@link WhipPushOutput}. */
export type WhipPushOutputEvents = {
  /** The push changed state (`connected` once media flows, `retrying` after a failure, with the delay in ms). */
  state: { state: WhipPushState; retryInMs?: number };
  /**
   * An attempt failed (never fatal: the push tries again with backoff): `FW_ERR_UNAUTHORIZED` (401/403),
   * `FW_ERR_CONNECTION_FAILED` (network error, 409, 5xx, a connection that failed or dropped), `FW_ERR_SDP_INVALID`
   * (the endpoint refused the offer or answered no usable SDP), `FW_ERR_TIMEOUT` (ICE did not connect).
   */
  error: { error: FramewireError; fatal: boolean };
};

/** Counters of a {@link WhipPushOutput} (see {@link WhipPushOutput.stats}). */
export interface WhipPushOutputStats extends OutputStats {
  /** Attempts to publish (the first one included). */
  attempts: number;
}

const log = createLogger('whip-push');
const DEFAULT_FMTP = 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f';
const PAYLOAD_TYPE = 96;

/**
 * Publishes a source's H.264 to a WHIP endpoint (RFC 9725), such as another bridge's `/whip` or a cloud ingest, with
 * no re-encode: the source's shared H.264 feed is packetized once ({@link RtpFanout}) and sent by a werift
 * `sendonly` peer connection. It `POST`s the offer (`application/sdp`, with the bearer token), applies the answer,
 * and `DELETE`s the session resource (`Location`) when it closes. Any failure (network, 409, 5xx, a refused offer, a
 * connection that fails or drops) ends the attempt and it publishes again after a delay that doubles up to
 * `maxRetryDelayMs` (and starts again at `retryDelayMs` after a connection that worked); each failure is an `error`
 * event with its `FW_ERR_…` code.
 */
export class WhipPushOutput {
  /** Labels under which the bridge reports this output in `/metrics`. */
  readonly metricsLabels: { source: string; output: string };
  readonly #options: Required<Omit<WhipPushOutputOptions, 'token'>> & { token: string | undefined };
  readonly #fanout: RtpFanout;
  readonly #events = new TypedEmitter<WhipPushOutputEvents>();
  #pc: RTCPeerConnection | undefined;
  #resource: string | undefined;
  #stun: Promise<LoopbackStunServer> | undefined;
  #state: WhipPushState = 'connecting';
  #bytesSent = 0;
  #attempts = 0;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopWrites: (() => void) | undefined;
  #closed = false;
  #started = false;

  /** Validates the options; `feed` is the H.264 feed of the source to publish. Nothing is sent before {@link start}. */
  constructor(feed: FrameFeed, options: WhipPushOutputOptions) {
    assertOption(typeof options === 'object', 'whipPush options must be an object');
    assertOption(
      typeof options.url === 'string' && URL.canParse(options.url) && /^https?:$/.test(new URL(options.url).protocol),
      `--whip-push must be an http(s) URL of a WHIP endpoint; got ${JSON.stringify(options.url)}`,
    );
    assertOption(
      options.token === undefined || (typeof options.token === 'string' && options.token !== ''),
      '--whip-push-token must not be empty',
    );
    assertOption(feed.format === 'h264', 'WhipPushOutput needs an H.264 feed');
    this.#options = {
      iceServers: [],
      iceAddresses: [],
      retryDelayMs: 1000,
      maxRetryDelayMs: 30_000,
      connectTimeoutMs: 15_000,
      h264Fmtp: DEFAULT_FMTP,
      ...options,
      token: options.token,
    };
    const o = this.#options;
    assertOption(o.retryDelayMs > 0, `retryDelayMs must be > 0; got ${o.retryDelayMs}`);
    assertOption(o.maxRetryDelayMs >= o.retryDelayMs, 'maxRetryDelayMs must be >= retryDelayMs');
    assertOption(o.connectTimeoutMs >= 1000, `connectTimeoutMs must be >= 1000; got ${o.connectTimeoutMs}`);
    this.#fanout = new RtpFanout(feed, 'h264');
    this.metricsLabels = { source: feed.source.id, output: 'whip-push' };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof WhipPushOutputEvents>(event: E, listener: (payload: WhipPushOutputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The current state. */
  get state(): WhipPushState {
    return this.#state;
  }

  /** The session resource URL of the current connection (from `Location`), if any. */
  get resource(): string | undefined {
    return this.#resource;
  }

  /**
   * The counters: `clients` is 1 while connected, else 0; `framesSent` the access units packetized for the endpoint,
   * `framesDropped` those skipped (before the first keyframe, or unusable), `bytesSent` the RTP bytes handed to the
   * sender.
   */
  get stats(): WhipPushOutputStats {
    const fanout = this.#fanout.stats;
    return {
      clients: this.#state === 'connected' ? 1 : 0,
      framesSent: fanout.accessUnits,
      framesDropped: fanout.skipped,
      bytesSent: this.#bytesSent,
      attempts: this.#attempts,
    };
  }

  /** Starts publishing (the source's H.264 feed is read from now on). Idempotent. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#fanout.start();
    void this.#attempt();
  }

  /** Stops publishing: `DELETE`s the session resource, closes the connection, releases the feed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#setState('closed');
    await this.#teardown();
    this.#fanout.stop();
    this.#events.removeAllListeners();
    (await this.#stun?.catch(() => undefined))?.close();
  }

  async #attempt(): Promise<void> {
    if (this.#closed) return;
    this.#attempts++;
    this.#setState('connecting');
    try {
      await this.#connect();
    } catch (error) {
      await this.#fail(
        error instanceof FramewireError
          ? error
          : new FramewireError('FW_ERR_CONNECTION_FAILED', (error as Error).message, { cause: error }),
      );
    }
  }

  async #connect(): Promise<void> {
    const { iceAddresses } = this.#options;
    const { servers, loopback } = await weriftIceServers(this.#options.iceServers, () => {
      this.#stun ??= LoopbackStunServer.start();
      return this.#stun;
    });
    const pc = new RTCPeerConnection(
      weriftH264PeerConfig(
        { payloadType: PAYLOAD_TYPE, fmtp: this.#options.h264Fmtp, fir: true },
        servers,
        iceAddresses,
      ),
    );
    this.#pc = pc;
    const { sender } = pc.addTransceiver(this.#fanout.track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    const offer = keepCandidates(pc.localDescription?.sdp ?? '', iceAddresses, loopback);
    const response = await this.#request('POST', this.#options.url, {
      'content-type': 'application/sdp',
      body: offer,
    }).catch((error: unknown) => {
      throw new FramewireError('FW_ERR_CONNECTION_FAILED', `${this.#options.url}: ${(error as Error).message}`, {
        cause: error,
        stage: 'whip-push',
      });
    });
    const body = await response.text();
    if (response.status !== 201) throw refusal(this.#options.url, response.status, body);
    const location = response.headers.get('location');
    this.#resource = location === null ? undefined : new URL(location, this.#options.url).href;
    if (this.#pc !== pc) return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: keepCandidates(body, iceAddresses, false) });
    } catch (error) {
      throw new FramewireError('FW_ERR_SDP_INVALID', `${this.#options.url} answered an unusable SDP`, {
        cause: error,
        stage: 'whip-push',
      });
    }
    await this.#connected(pc, sender);
  }

  /** Resolves once `pc` connects (then watches it); rejects with `FW_ERR_TIMEOUT` or `FW_ERR_CONNECTION_FAILED`. */
  #connected(pc: RTCPeerConnection, sender: RTCRtpSender): Promise<void> {
    return new Promise((resolve, reject) => {
      let connected = false;
      const timer = setTimeout(() => {
        reject(
          new FramewireError('FW_ERR_TIMEOUT', `no connection within ${this.#options.connectTimeoutMs} ms`, {
            stage: 'whip-push',
          }),
        );
      }, this.#options.connectTimeoutMs);
      const onState = (state: string): void => {
        if (this.#pc !== pc || this.#closed) return;
        if (state === 'connected' && !connected) {
          connected = true;
          clearTimeout(timer);
          this.#failures = 0;
          this.#bytesSent += this.#fanout.primeViewer(sender);
          this.#stopWrites = this.#fanout.onWrite(({ bytes }) => {
            this.#bytesSent += bytes;
          });
          this.#setState('connected');
          log.info(`publishing ${this.metricsLabels.source} to ${this.#options.url}`);
          resolve();
        } else if (state === 'failed' || state === 'closed' || state === 'disconnected') {
          clearTimeout(timer);
          const error = new FramewireError('FW_ERR_CONNECTION_FAILED', `the connection to the endpoint ${state}`, {
            stage: 'whip-push',
          });
          if (connected) void this.#fail(error);
          else reject(error);
        }
      };
      pc.connectionStateChange.subscribe(onState);
      onState(pc.connectionState);
    });
  }

  async #fail(error: FramewireError): Promise<void> {
    if (this.#closed || this.#state === 'retrying') return;
    const delay = backoffDelayMs(this.#options.retryDelayMs, this.#options.maxRetryDelayMs, this.#failures);
    this.#failures++;
    this.#setState('retrying', delay);
    log.warn(`${this.#options.url}: ${error.code}: ${error.message}; publishing again in ${delay} ms`);
    this.#events.emit('error', { error, fatal: false });
    await this.#teardown();
    // After close() the attempt returns at once; unref: a pending retry does not keep the process alive.
    this.#retryTimer = setTimeout(() => void this.#attempt(), delay);
    this.#retryTimer.unref();
  }

  /** Ends the current attempt: `DELETE`s its resource (best effort) and closes the connection. */
  async #teardown(): Promise<void> {
    const pc = this.#pc;
    const resource = this.#resource;
    this.#pc = undefined;
    this.#resource = undefined;
    this.#stopWrites?.();
    this.#stopWrites = undefined;
    if (resource !== undefined) {
      await this.#request('DELETE', resource, {})
        .then((response) => response.body?.cancel())
        .catch((error: unknown) => log.debug(`DELETE ${resource}: ${String(error)}`));
    }
    await pc?.close().catch((error: unknown) => log.debug(`closing: ${String(error)}`));
  }

  #request(method: string, url: string, init: { 'content-type'?: string; body?: string }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (init['content-type'] !== undefined) headers['content-type'] = init['content-type'];
    if (this.#options.token !== undefined) headers['authorization'] = `Bearer ${this.#options.token}`;
    return fetch(url, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(this.#options.connectTimeoutMs),
    });
  }

  #setState(state: WhipPushState, retryInMs?: number): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', retryInMs === undefined ? { state } : { state, retryInMs });
  }
}

/** The error for a non-201 answer to the offer. */
function refusal(url: string, status: number, body: string): FramewireError {
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { error?: string }).error;
  } catch {
    // not JSON: the status says enough
  }
  const message = `${url} answered ${status}${code === undefined ? '' : ` ${code}`}`;
  if (status === 401 || status === 403)
    return new FramewireError('FW_ERR_UNAUTHORIZED', `${message}: check --whip-push-token`, { stage: 'whip-push' });
  if (status >= 400 && status < 500 && status !== 409 && status !== 429)
    return new FramewireError('FW_ERR_SDP_INVALID', `${message}: the endpoint refused the offer`, {
      stage: 'whip-push',
    });
  return new FramewireError('FW_ERR_CONNECTION_FAILED', message, { stage: 'whip-push' });
}
