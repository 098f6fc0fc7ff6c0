import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { TypedEmitter, assertOption, createLogger, type FramewireError } from '@framewire/core';
import { HttpFailure, readRequestBody, sendError, sendFailure, sendJson } from '@framewire/core/node';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import type { EncodedFrame } from '../media/encoded-frame.js';
import type { RawFrame } from '../media/raw-frame.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import { SupervisedProcess } from '../process/supervised-process.js';
import { offeredVideoCodecs, type OfferedH264 } from '../webrtc/offer-video-codecs.js';
import { H264PublishReceivers, type H264PublishSession } from '../webrtc/h264-publish-receivers.js';
import { PassthroughViewers, type PassthroughCodec, type PassthroughSession } from '../webrtc/passthrough-viewers.js';
import { candidateAddress, parseSdpFrag, type SdpFrag } from '../webrtc/trickle-ice-sdpfrag.js';
import type { VideoSource } from '../sources/video-source.js';
import {
  IpcMessageReader,
  encodeIpcAccessUnitHeader,
  encodeIpcFrameHeader,
  encodeIpcJson,
  type IpcDelivery,
  type IpcFrame,
  type IpcFromWorker,
  type IpcToWorker,
} from '../webrtc/webrtc-ipc.js';

/** An ICE server for the bridge's peer connections (the `RTCIceServer` shape). */
export interface WebRtcIceServer {
  /** `stun:` or `turn:` URL(s). */
  urls: string | string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/** Options of {@link WebRtcOutput}. */
export interface WebRtcOutputOptions {
  /**
   * Keep only ICE candidates with these addresses, in offers received and answers sent (e.g. `['127.0.0.1']`
   * to stay on loopback, or the LAN address the viewers can reach). Default: `[]`, every candidate.
   */
  iceAddresses?: string[];
  /** STUN/TURN servers of the bridge's peer connections. Default: none (host candidates only). */
  iceServers?: WebRtcIceServer[];
  /** How long an offer waits for the worker's answer before `504 FW_ERR_TIMEOUT`, in ms. Default: 15000. */
  answerTimeoutMs?: number;
  /** Largest accepted offer body, in bytes (`413 FW_ERR_MESSAGE_TOO_LARGE` above). Default: 65536. */
  maxOfferBytes?: number;
  /** First restart delay of a crashed worker, in ms; doubles per crash in a row. Default: 250. */
  restartDelayMs?: number;
  /** Longest restart delay of the worker, in ms. Default: 5000. */
  maxRestartDelayMs?: number;
  /** Node executable that runs the worker. Default: the bridge's own (`process.execPath`). */
  nodePath?: string;
  /**
   * Most sessions in the wrtc worker (publishers, data-channel viewers, `per-viewer` VP8 viewers) open at once; an
   * offer beyond it is answered `503 FW_ERR_CAPACITY_REACHED` with `Retry-After`. Each such session costs a VP8
   * encoder (or decoder) or a copy of the source's H.264 in the worker. Default: 16. Media-track viewers served from
   * a shared track (H.264 passthrough, shared VP8) do not count (see `maxPassthroughViewers`).
   */
  maxSessions?: number;
  /**
   * Send a viewer whose offer accepts H.264 the source's shared H.264 as RTP (no per-viewer encode); false sends
   * every media-track viewer VP8 (see `vp8Encoder`). Default: true.
   */
  h264Passthrough?: boolean;
  /**
   * How VP8 viewers (offers without H.264, or every viewer with `h264Passthrough: false`) are served: `shared`
   * sends them all the source's one shared VP8 encode (ffmpeg libvpx, realtime) as RTP from the bridge process,
   * like H.264 passthrough (they count against `maxPassthroughViewers`); `per-viewer` gives each its own VP8 encode
   * in the wrtc worker process (the older path; they count against `maxSessions`). Default: `shared`.
   */
  vp8Encoder?: 'shared' | 'per-viewer';
  /**
   * Most media-track viewers served from a shared track (H.264 passthrough and shared VP8) at once; beyond it `503
   * FW_ERR_CAPACITY_REACHED`. Default: 500.
   */
  maxPassthroughViewers?: number;
  /** A passthrough viewer that sent no RTCP for this long is dropped (a closed tab), in ms. Default: 10000. */
  viewerTimeoutMs?: number;
}

/** Whether a session receives the bridge's video (`view`, WHEP) or sends video to the bridge (`publish`, WHIP). */
export type WebRtcSessionMode = 'view' | 'publish';

/** One WebRTC session of a {@link WebRtcOutput}. */
export interface WebRtcSession {
  /** Session id, the last segment of its resource URL. */
  id: string;
  /** `view` or `publish`. */
  mode: WebRtcSessionMode;
  /** The source viewed (empty for `publish`). */
  sourceId: string;
  /**
   * How a viewer receives video: `passthrough` (a media track fed from a shared track: the source's H.264 as RTP
   * when the offer accepts H.264, else the source's one shared VP8 encode), `track` (VP8 encoded for this viewer
   * in the worker, with `vp8Encoder: 'per-viewer'`) or `datachannel` (the source's shared H.264 access units on an
   * `fw.h264` data channel). For publishers: `track` (VP8, decoded to I420 in the worker) or `passthrough` (H.264
   * received as is, when the offer sends H.264 but not VP8).
   */
  delivery: IpcDelivery | 'passthrough';
  /** The peer connection state reported by the worker (`new`, `connecting`, `connected`, `disconnected`). */
  state: string;
}

/** Events of a {@link WebRtcOutput}. */
export type WebRtcOutputEvents = {
  /** An I420 frame a publishing client sent (`publish` sessions), stamped with its arrival time. */
  frame: { sessionId: string; frame: RawFrame };
  /**
   * An H.264 access unit (Annex B) a publisher sent whose offer had H.264 but no VP8 (e.g. another bridge's
   * `--whip-push`), passed on without decoding, stamped with its arrival time.
   */
  h264: { sessionId: string; frame: EncodedFrame };
  /** A session's state changed; `closed` and `failed` end it. */
  session: { session: WebRtcSession };
  /** The worker process failed (it restarts); every session ended with state `failed`. */
  error: { error: FramewireError; fatal: boolean };
};

/** Counters of a {@link WebRtcOutput}. */
export interface WebRtcOutputStats {
  /** Open sessions (viewers and publishers, both paths). */
  clients: number;
  /** Open sessions in the worker process (VP8 viewers, data-channel viewers, publishers). */
  workerSessions: number;
  /** Open H.264 passthrough viewers. */
  passthroughClients: number;
  /** Frames handed to the worker plus access units packetized for passthrough (once each, whatever the viewers). */
  framesSent: number;
  /** Frames skipped because the worker was behind or restarting, or unusable for passthrough. */
  framesDropped: number;
  /** Bytes handed to the worker plus RTP bytes handed to passthrough viewers' senders. */
  bytesSent: number;
  /** Worker restarts after crashes. */
  workerRestarts: number;
  /** ICE candidates clients added after their offers (`PATCH`, trickle ICE) and passed to the worker. */
  trickledCandidates: number;
}

/** What the output needs from the bridge: its sources and their shared feeds. */
export interface WebRtcFeedProvider {
  /** The bridge's sources. */
  readonly sources: readonly VideoSource[];
  /**
   * The shared feed of source `id` in `format`: `h264` for passthrough and data-channel viewers, `vp8` for shared
   * VP8 viewers, `I420` for per-viewer VP8 encodes in the worker.
   */
  feed(id: string, format: 'I420' | 'h264' | 'vp8'): FrameFeed;
}

interface Pending {
  resolve: (message: Extract<IpcFromWorker, { type: 'answer' }>) => void;
  reject: (error: FramewireError) => void;
}

const log = createLogger('webrtc');
const WORKER_PATH = fileURLToPath(new URL('./webrtc-worker.js', import.meta.url));

/**
 * WebRTC for browsers without signaling (WHEP/WHIP-style, like WebGear_RTC's `/offer`): `POST` an SDP offer, get
 * the answer and a session resource (`Location`) that `DELETE` ends. Media-track viewers receive the source's
 * H.264, or VP8 from one shared encoder when their browser takes no H.264, from a shared track in the bridge
 * process ({@link PassthroughViewers}), plus a `fw.meta` data channel, when the offer has one, carrying each
 * frame's capture time; publishers send their video to the bridge (`frame` events of I420 frames).
 *
 * Publishers, data-channel viewers and `per-viewer` VP8 viewers live in one worker process (`webrtc-worker.js`), because the native library can crash:
 * the bridge feeds it raw I420 frames over a pipe (length-prefixed binary messages) and restarts it with backoff
 * when it dies. A crash ends every session (state `failed`); clients make a new offer. Each source is read once
 * and shared by all its viewers; sessions that fail, close or never connect are cleaned up.
 */
export class WebRtcOutput {
  /** Labels under which the bridge reports this output in `/metrics`. */
  readonly metricsLabels = { source: '*', output: 'webrtc' };
  readonly #feeds: WebRtcFeedProvider;
  readonly #options: Required<WebRtcOutputOptions>;
  readonly #worker: SupervisedProcess;
  readonly #events = new TypedEmitter<WebRtcOutputEvents>();
  readonly #sessions = new Map<string, WebRtcSession>();
  readonly #pending = new Map<number, Pending>();
  /** Feed subscriptions by `<source id>:<format>`. */
  readonly #subscriptions = new Map<string, () => void>();
  /** Sources whose access units must restart at a keyframe (one was dropped on the way to the worker). */
  readonly #needKey = new Set<string>();
  readonly #reader: IpcMessageReader;
  readonly #passthrough: PassthroughViewers;
  readonly #h264Publishers: H264PublishReceivers;
  #ready = false;
  #nextRequest = 1;
  #framesSent = 0;
  #framesDropped = 0;
  #bytesSent = 0;
  #trickled = 0;
  #closed = false;

  /** Validates the options and starts the worker process. */
  constructor(feeds: WebRtcFeedProvider, options: WebRtcOutputOptions = {}) {
    this.#options = {
      iceAddresses: [],
      iceServers: [],
      answerTimeoutMs: 15_000,
      maxOfferBytes: 64 * 1024,
      restartDelayMs: 250,
      maxRestartDelayMs: 5000,
      nodePath: process.execPath,
      maxSessions: 16,
      h264Passthrough: true,
      vp8Encoder: 'shared',
      maxPassthroughViewers: 500,
      viewerTimeoutMs: 10_000,
      ...options,
    };
    const o = this.#options;
    assertOption(
      Array.isArray(o.iceAddresses) && o.iceAddresses.every((a) => typeof a === 'string' && a !== ''),
      'webrtc.iceAddresses must be an array of IP addresses',
    );
    assertOption(Array.isArray(o.iceServers), 'webrtc.iceServers must be an array of RTCIceServer objects');
    assertOption(o.answerTimeoutMs > 0, `webrtc.answerTimeoutMs must be > 0; got ${o.answerTimeoutMs}`);
    assertOption(o.maxOfferBytes >= 1024, `webrtc.maxOfferBytes must be >= 1024; got ${o.maxOfferBytes}`);
    assertOption(
      Number.isInteger(o.maxSessions) && o.maxSessions >= 1,
      `webrtc.maxSessions must be an integer >= 1; got ${o.maxSessions}`,
    );
    // Checked at run time: JavaScript callers and JSON configs can pass anything.
    const vp8Encoder: unknown = o.vp8Encoder;
    assertOption(
      vp8Encoder === 'shared' || vp8Encoder === 'per-viewer',
      `webrtc.vp8Encoder must be shared or per-viewer; got ${String(vp8Encoder)}`,
    );
    this.#feeds = feeds;
    this.#passthrough = new PassthroughViewers((id, codec) => feeds.feed(id, codec), {
      iceAddresses: o.iceAddresses,
      iceServers: o.iceServers,
      maxViewers: o.maxPassthroughViewers,
      viewerTimeoutMs: o.viewerTimeoutMs,
    });
    this.#passthrough.on('session', ({ session }) => this.#events.emit('session', { session: asSession(session) }));
    this.#h264Publishers = new H264PublishReceivers({
      iceAddresses: o.iceAddresses,
      iceServers: o.iceServers,
      maxSessions: o.maxSessions,
    });
    this.#h264Publishers.on('session', ({ session }) =>
      this.#events.emit('session', { session: asPublishSession(session) }),
    );
    this.#h264Publishers.on('accessUnit', (payload) => this.#events.emit('h264', payload));
    this.#reader = new IpcMessageReader(
      (message) => this.#onWorkerMessage(message as IpcFromWorker),
      (frame) => this.#onPublishedFrame(frame),
    );
    this.#worker = new SupervisedProcess({
      name: 'webrtc worker',
      command: o.nodePath,
      args: [WORKER_PATH],
      stdin: true,
      restartDelayMs: o.restartDelayMs,
      maxRestartDelayMs: o.maxRestartDelayMs,
    });
    this.#worker.on('spawn', () => {
      this.#reader.reset();
      this.#ready = false;
    });
    this.#worker.on('stdout', ({ chunk }) => {
      try {
        this.#reader.push(chunk);
      } catch (error) {
        log.warn(`bad message from the worker: ${(error as Error).message}; restarting it`);
        this.#worker.kill();
      }
    });
    this.#worker.on('error', ({ error }) => this.#onWorkerExit(error));
    this.#worker.start();
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof WebRtcOutputEvents>(event: E, listener: (payload: WebRtcOutputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The worker's process id (for diagnostics and tests); `undefined` while it restarts. */
  get workerPid(): number | undefined {
    return this.#worker.pid;
  }

  /** True once the worker has started and can answer offers. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The open sessions (worker sessions, then H.264 passthrough viewers). */
  get sessions(): WebRtcSession[] {
    return [...this.#sessions.values()]
      .map((s) => ({ ...s }))
      .concat(this.#passthrough.sessions.map(asSession), this.#h264Publishers.sessions.map(asPublishSession));
  }

  /** The H.264 passthrough viewers with their per-session counters (bytes, NACKs, PLIs, FIRs). */
  get passthroughSessions(): PassthroughSession[] {
    return this.#passthrough.sessions;
  }

  /** The counters. */
  get stats(): WebRtcOutputStats {
    const passthrough = this.#passthrough.stats;
    return {
      clients: this.#sessions.size + passthrough.clients + this.#h264Publishers.sessions.length,
      workerSessions: this.#sessions.size,
      passthroughClients: passthrough.clients,
      framesSent: this.#framesSent + passthrough.framesSent,
      framesDropped: this.#framesDropped + passthrough.framesDropped,
      bytesSent: this.#bytesSent + passthrough.bytesSent,
      workerRestarts: this.#worker.restarts,
      trickledCandidates: this.#trickled,
    };
  }

  /**
   * Answers `POST` of an offer for source `sourceId` (`view`) or of a client's video (`publish`). The body is
   * `application/sdp` or JSON `{ type: 'offer', sdp }`; the answer comes back in the same form, with status 201
   * and the session resource in `Location` (`<request path>/<session id>`). A viewer's `?delivery=datachannel`
   * asks for the source's H.264 access units on the offer's `fw.h264` data channel instead of a media track. A
   * track viewer whose offer accepts H.264 (packetization-mode 1) gets the source's shared H.264 as RTP; one that
   * accepts only VP8 gets the source's one shared VP8 encode as RTP (its own VP8 encode from the worker with
   * `vp8Encoder: 'per-viewer'`). Errors: 400 `FW_ERR_INVALID_OPTION` (unknown
   * delivery), 400 `FW_ERR_SDP_INVALID`, 400 `FW_ERR_CODEC_UNSUPPORTED` (neither H.264 nor VP8), 413
   * `FW_ERR_MESSAGE_TOO_LARGE`, 503 `FW_ERR_PROCESS_FAILED` (worker restarting), 503 `FW_ERR_CAPACITY_REACHED`
   * (`maxSessions` or `maxPassthroughViewers` open), 504 `FW_ERR_TIMEOUT`.
   */
  async handleOffer(
    request: IncomingMessage,
    response: ServerResponse,
    sourceId: string,
    mode: WebRtcSessionMode,
  ): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://bridge');
    const path = url.pathname;
    try {
      const delivery = url.searchParams.get('delivery') ?? 'track';
      if (mode === 'view' && delivery !== 'track' && delivery !== 'datachannel')
        throw new HttpFailure(400, 'FW_ERR_INVALID_OPTION', `delivery must be track or datachannel; got ${delivery}`);
      const viewerDelivery: IpcDelivery = mode === 'view' && delivery === 'datachannel' ? 'datachannel' : 'track';
      const { sdp, json } = await this.#readOffer(request);
      const answer = await this.answerOffer(sourceId, mode, viewerDelivery, sdp);
      const location = `${path.replace(/\/$/, '')}/${answer.sessionId}`;
      response.setHeader('location', location);
      response.setHeader('access-control-expose-headers', 'location');
      if (json) {
        sendJson(response, 201, { type: 'answer', sdp: answer.sdp });
      } else {
        response.writeHead(201, {
          'cache-control': 'no-store',
          'content-type': 'application/sdp',
          'content-length': Buffer.byteLength(answer.sdp),
        });
        response.end(answer.sdp);
      }
    } catch (error) {
      const failure =
        error instanceof HttpFailure
          ? error
          : new HttpFailure(500, 'FW_ERR_PROCESS_FAILED', (error as Error).message, { cause: error });
      log.warn(`${request.method ?? 'POST'} ${path}: ${failure.code}: ${failure.message}`);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (failure.status === 503) {
        response.setHeader('retry-after', '1');
        response.setHeader('access-control-expose-headers', 'retry-after');
      }
      // The rest of a refused body is not read: the connection cannot carry another request.
      if (failure.status === 413) response.setHeader('connection', 'close');
      sendFailure(response, failure);
    }
  }

  /**
   * Answers a request on a session resource: `DELETE` ends the session (204); `PATCH` with an
   * `application/trickle-ice-sdpfrag` body (RFC 8840, as WHIP/WHEP use it) adds the client's ICE candidates that
   * it found after its offer (204; kept to `iceAddresses` like the offer's); other methods get 405. Errors: 404 (no
   * such session), 415 `FW_ERR_UNSUPPORTED_MEDIA_TYPE` (another content type), 413 `FW_ERR_MESSAGE_TOO_LARGE`.
   */
  async handleSession(request: IncomingMessage, response: ServerResponse, sessionId: string): Promise<void> {
    if (request.method === 'PATCH') {
      await this.#trickle(request, response, sessionId);
      return;
    }
    if (request.method !== 'DELETE') {
      response.setHeader('allow', 'PATCH, DELETE');
      sendError(
        response,
        405,
        'FW_ERR_PROTOCOL_VIOLATION',
        'method not allowed: PATCH adds ICE candidates, DELETE ends a session',
      );
      return;
    }
    if (!this.endSession(sessionId)) {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', `no session ${sessionId}`);
      return;
    }
    response.writeHead(204, { 'cache-control': 'no-store' });
    response.end();
  }

  /** True when `sessionId` is an open session (any path). */
  hasSession(sessionId: string): boolean {
    return this.#sessions.has(sessionId) || this.#passthrough.has(sessionId) || this.#h264Publishers.has(sessionId);
  }

  /** Ends session `sessionId` (the `DELETE` of its resource); false when there is no such session. */
  endSession(sessionId: string): boolean {
    if (this.#passthrough.end(sessionId) || this.#h264Publishers.end(sessionId)) return true;
    if (!this.#sessions.has(sessionId)) return false;
    this.#end(sessionId, 'closed');
    this.#send({ type: 'close', sessionId });
    return true;
  }

  /**
   * Adds the ICE candidates of a trickle-ice-sdpfrag `frag` that a client found after its offer, kept to
   * `iceAddresses` like the offer's (mDNS candidates are dropped). False when there is no such session.
   */
  async addCandidates(sessionId: string, frag: SdpFrag): Promise<boolean> {
    if (!this.hasSession(sessionId)) return false;
    const addresses = this.#options.iceAddresses;
    const candidates = frag.candidates.filter(
      (c) => addresses.length === 0 || addresses.includes(candidateAddress(c.candidate)),
    );
    if (candidates.length === 0) return true;
    this.#trickled += candidates.length;
    if (this.#sessions.has(sessionId)) this.#send({ type: 'candidates', sessionId, candidates });
    else if (this.#passthrough.has(sessionId)) await this.#passthrough.addCandidates(sessionId, candidates);
    else await this.#h264Publishers.addCandidates(sessionId, candidates);
    return true;
  }

  /**
   * Restarts ICE for session `sessionId` with the client's new credentials and candidates (`frag`, an ICE restart
   * `PATCH`); resolves with the bridge's trickle-ice-sdpfrag (its new credentials and candidates). The werift
   * sessions (H.264 passthrough viewers, H.264 publishers) restart; the worker's sessions (VP8 viewers, VP8
   * publishers, data-channel viewers) cannot: 422 `FW_ERR_NOT_SUPPORTED`, the session keeps running. Other errors:
   * 404 `FW_ERR_NOT_FOUND`, 400 `FW_ERR_SDP_INVALID` (no credentials, or refused; the session keeps running).
   */
  async restartIce(sessionId: string, frag: SdpFrag): Promise<string> {
    if (this.#sessions.has(sessionId))
      throw new HttpFailure(
        422,
        'FW_ERR_NOT_SUPPORTED',
        'ICE restarts are supported for H.264 sessions only; this session runs in the VP8 worker: make a new offer',
        { stage: 'webrtc' },
      );
    try {
      const answer =
        (await this.#passthrough.restartIce(sessionId, frag)) ??
        (await this.#h264Publishers.restartIce(sessionId, frag));
      if (answer === undefined)
        throw new HttpFailure(404, 'FW_ERR_NOT_FOUND', `no session ${sessionId}`, { stage: 'webrtc' });
      return answer;
    } catch (error) {
      if (error instanceof HttpFailure) throw error;
      const failure = error as FramewireError;
      throw new HttpFailure(400, failure.code, failure.message, { cause: error, stage: 'webrtc' });
    }
  }

  async #trickle(request: IncomingMessage, response: ServerResponse, sessionId: string): Promise<void> {
    if (!this.hasSession(sessionId)) {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', `no session ${sessionId}`);
      return;
    }
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (type !== 'application/trickle-ice-sdpfrag') {
      response.setHeader('connection', 'close');
      sendError(
        response,
        415,
        'FW_ERR_UNSUPPORTED_MEDIA_TYPE',
        'PATCH a session with an application/trickle-ice-sdpfrag body',
      );
      return;
    }
    let body: string;
    try {
      body = await readRequestBody(request, this.#options.maxOfferBytes);
    } catch (error) {
      response.setHeader('connection', 'close');
      sendFailure(response, error as HttpFailure);
      return;
    }
    await this.addCandidates(sessionId, parseSdpFrag(body));
    response.writeHead(204, { 'cache-control': 'no-store' });
    response.end();
  }

  /** Kills the worker (SIGKILL): it restarts and every session fails. For tests and recovery. */
  killWorker(): void {
    this.#worker.kill('SIGKILL');
  }

  /** Ends every session and stops the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#subscriptions.values()) unsubscribe();
    this.#subscriptions.clear();
    this.#rejectPending(new HttpFailure(503, 'FW_ERR_CLOSED', 'the bridge is shutting down'));
    for (const id of [...this.#sessions.keys()]) this.#end(id, 'closed');
    await Promise.all([this.#worker.close(), this.#passthrough.close(), this.#h264Publishers.close()]);
    this.#events.removeAllListeners();
  }

  /**
   * Opens a session for an SDP offer (the core of {@link handleOffer}, shared with the WHIP/WHEP endpoints): checks
   * the offer, then answers it as a `view` of `sourceId` (H.264 passthrough, a VP8 encode, or the H.264 data
   * channel for `delivery: 'datachannel'`) or as a `publish` session (VP8 through the worker; an offer that sends
   * H.264 but not VP8 is received as H.264 without decoding). Resolves with the session id and the answer SDP;
   * rejects with an {@link HttpFailure} carrying the status and `FW_ERR_…` code listed on {@link handleOffer}.
   */
  async answerOffer(
    sourceId: string,
    mode: WebRtcSessionMode,
    delivery: IpcDelivery,
    sdp: string,
  ): Promise<{ sessionId: string; sdp: string }> {
    checkOffer(sdp, mode, delivery);
    if (mode === 'view' && delivery === 'track') return this.#offerTrack(sourceId, sdp);
    if (mode === 'publish') {
      const codecs = offeredVideoCodecs(sdp);
      if (!codecs.vp8 && codecs.h264) return this.#publishH264(sdp, codecs.h264);
      if (!codecs.vp8) throw new HttpFailure(400, 'FW_ERR_CODEC_UNSUPPORTED', 'the offer sends neither H.264 nor VP8');
    }
    return this.#offer(sourceId, mode, delivery, sdp);
  }

  async #readOffer(request: IncomingMessage): Promise<{ sdp: string; json: boolean }> {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const json = type !== 'application/sdp';
    const body = await readRequestBody(request, this.#options.maxOfferBytes);
    let sdp: unknown = body;
    if (json) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw invalid('the body is neither application/sdp nor JSON { "type": "offer", "sdp": "…" }');
      }
      const message = parsed as { type?: unknown; sdp?: unknown } | null;
      if (message?.type !== 'offer') throw invalid('the JSON body must be { "type": "offer", "sdp": "…" }');
      sdp = message.sdp;
    }
    if (typeof sdp !== 'string') throw invalid('the offer is not an SDP (must start v=0)');
    return { sdp, json };
  }

  /** A publisher that sends H.264 but not VP8: received as H.264 by werift (the worker has no H.264). */
  async #publishH264(sdp: string, h264: OfferedH264): Promise<{ sessionId: string; sdp: string }> {
    try {
      return await this.#h264Publishers.answer(sdp, h264);
    } catch (error) {
      const failure = error as FramewireError;
      const status = failure.code === 'FW_ERR_SDP_INVALID' ? 400 : 503;
      throw new HttpFailure(status, failure.code, failure.message, { cause: error, stage: 'webrtc' });
    }
  }

  /**
   * A media-track viewer: H.264 passthrough when the offer takes H.264, else VP8 from the source's shared VP8
   * encode (or, with `vp8Encoder: 'per-viewer'`, its own VP8 encode in the worker).
   */
  async #offerTrack(sourceId: string, sdp: string): Promise<{ sessionId: string; sdp: string }> {
    const codecs = offeredVideoCodecs(sdp);
    const shared: PassthroughCodec | undefined =
      this.#options.h264Passthrough && codecs.h264
        ? { codec: 'h264', payloadType: codecs.h264.payloadType, fmtp: codecs.h264.fmtp }
        : this.#options.vp8Encoder === 'shared' && codecs.vp8PayloadType !== undefined
          ? { codec: 'vp8', payloadType: codecs.vp8PayloadType, fmtp: '' }
          : undefined;
    if (shared) {
      try {
        return await this.#passthrough.answer(sourceId, sdp, shared);
      } catch (error) {
        const failure = error as FramewireError;
        const status = failure.code === 'FW_ERR_SDP_INVALID' ? 400 : 503;
        throw new HttpFailure(status, failure.code, failure.message, { cause: error, stage: 'webrtc' });
      }
    }
    if (!codecs.vp8)
      throw new HttpFailure(
        400,
        'FW_ERR_CODEC_UNSUPPORTED',
        this.#options.h264Passthrough
          ? 'the offer accepts neither H.264 (packetization-mode=1) nor VP8'
          : 'the offer does not accept VP8 (webrtc.h264Passthrough is off)',
        { stage: 'webrtc' },
      );
    return this.#offer(sourceId, 'view', 'track', sdp);
  }

  #offer(
    sourceId: string,
    mode: WebRtcSessionMode,
    delivery: IpcDelivery,
    sdp: string,
  ): Promise<Extract<IpcFromWorker, { type: 'answer' }>> {
    if (this.#closed) throw new HttpFailure(503, 'FW_ERR_CLOSED', 'the bridge is shutting down');
    if (!this.#ready)
      throw new HttpFailure(503, 'FW_ERR_PROCESS_FAILED', 'the WebRTC worker is restarting; offer again shortly', {
        stage: 'webrtc',
      });
    if (this.#sessions.size >= this.#options.maxSessions)
      throw new HttpFailure(
        503,
        'FW_ERR_CAPACITY_REACHED',
        `the bridge already has ${this.#options.maxSessions} WebRTC sessions (webrtc.maxSessions); try again later`,
        { stage: 'webrtc' },
      );
    const requestId = this.#nextRequest++;
    const sessionId = randomUUID();
    const session: WebRtcSession = {
      id: sessionId,
      mode,
      sourceId: mode === 'view' ? sourceId : '',
      delivery,
      state: 'new',
    };
    this.#sessions.set(sessionId, session);
    if (mode === 'view') this.#watch(sourceId, delivery);
    const message: IpcToWorker = {
      type: 'offer',
      requestId,
      sessionId,
      mode,
      delivery,
      sourceId,
      sdp,
      iceAddresses: this.#options.iceAddresses,
      iceServers: this.#options.iceServers,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        this.#end(sessionId, 'failed');
        this.#send({ type: 'close', sessionId });
        reject(new HttpFailure(504, 'FW_ERR_TIMEOUT', `no answer within ${this.#options.answerTimeoutMs} ms`));
      }, this.#options.answerTimeoutMs);
      this.#pending.set(requestId, {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          this.#end(sessionId, 'failed');
          reject(error);
        },
      });
      this.#send(message);
    });
  }

  #send(message: IpcToWorker): void {
    this.#worker.write(encodeIpcJson(message), true);
  }

  /**
   * Reads source `sourceId` while it has viewers: its I420 feed for VP8 tracks, its H.264 feed for data-channel
   * viewers (the feeds themselves are shared with the other outputs; each is read once, whatever the viewers).
   */
  #watch(sourceId: string, delivery: IpcDelivery): void {
    const format = delivery === 'datachannel' ? 'h264' : 'I420';
    const key = `${sourceId}:${format}`;
    if (this.#subscriptions.has(key)) return;
    const feed = this.#feeds.feed(sourceId, format);
    if (format === 'h264') this.#needKey.add(sourceId);
    this.#subscriptions.set(
      key,
      feed.subscribe((frame) =>
        format === 'h264' ? this.#forwardAccessUnit(sourceId, frame) : this.#forward(sourceId, frame),
      ),
    );
  }

  #unwatchIdle(): void {
    for (const [key, unsubscribe] of this.#subscriptions) {
      const viewed = [...this.#sessions.values()].some(
        (s) => s.mode === 'view' && key === `${s.sourceId}:${s.delivery === 'datachannel' ? 'h264' : 'I420'}`,
      );
      if (viewed) continue;
      unsubscribe();
      this.#subscriptions.delete(key);
    }
  }

  /** Hands an H.264 access unit to the worker; after a drop, waits for the next keyframe (the decoders need it). */
  #forwardAccessUnit(sourceId: string, frame: SourceFrame): void {
    if (isRawFrame(frame) || frame.codec !== 'h264') return;
    if (this.#needKey.has(sourceId) && !frame.key) return;
    const header = encodeIpcAccessUnitHeader({ ...frame, id: sourceId });
    if (!this.#ready || !this.#worker.write(header)) {
      this.#needKey.add(sourceId);
      this.#framesDropped++;
      return;
    }
    this.#needKey.delete(sourceId);
    this.#worker.write(frame.data, true);
    this.#framesSent++;
    this.#bytesSent += header.length + frame.data.length;
  }

  #forward(sourceId: string, frame: SourceFrame): void {
    if (!isRawFrame(frame) || frame.format !== 'I420') return;
    const header = encodeIpcFrameHeader({ ...frame, id: sourceId });
    // The header goes only when the pipe has room; then the pixels must follow it.
    if (!this.#ready || !this.#worker.write(header)) {
      this.#framesDropped++;
      return;
    }
    this.#worker.write(frame.data, true);
    this.#framesSent++;
    this.#bytesSent += header.length + frame.data.length;
  }

  #onWorkerMessage(message: IpcFromWorker): void {
    switch (message.type) {
      case 'ready':
        this.#ready = true;
        log.debug(`worker ${this.#worker.pid ?? '?'} ready`);
        return;
      case 'answer': {
        const pending = this.#pending.get(message.requestId);
        this.#pending.delete(message.requestId);
        pending?.resolve(message);
        return;
      }
      case 'refused': {
        const pending = this.#pending.get(message.requestId);
        this.#pending.delete(message.requestId);
        pending?.reject(
          new HttpFailure(400, 'FW_ERR_SDP_INVALID', `the offer was refused: ${message.message}`, { stage: 'webrtc' }),
        );
        return;
      }
      case 'state': {
        const session = this.#sessions.get(message.sessionId);
        if (!session) return;
        if (message.state === 'closed' || message.state === 'failed') {
          this.#end(message.sessionId, message.state);
          return;
        }
        session.state = message.state;
        this.#events.emit('session', { session: { ...session } });
        return;
      }
    }
  }

  #onPublishedFrame(frame: IpcFrame): void {
    if (!this.#sessions.has(frame.id)) return;
    this.#events.emit('frame', {
      sessionId: frame.id,
      frame: {
        width: frame.width,
        height: frame.height,
        format: 'I420',
        // The reader's buffer is reused: the frame gets its own copy.
        data: Buffer.from(frame.data),
        captureTimeMs: frame.captureTimeMs,
      },
    });
  }

  #onWorkerExit(error: FramewireError): void {
    this.#ready = false;
    this.#rejectPending(
      new HttpFailure(503, 'FW_ERR_PROCESS_FAILED', 'the WebRTC worker failed; offer again shortly', {
        cause: error,
        stage: 'webrtc',
      }),
    );
    for (const id of [...this.#sessions.keys()]) this.#end(id, 'failed');
    this.#events.emit('error', { error, fatal: false });
  }

  #rejectPending(error: FramewireError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }

  #end(sessionId: string, state: 'closed' | 'failed'): void {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    this.#sessions.delete(sessionId);
    session.state = state;
    this.#unwatchIdle();
    this.#events.emit('session', { session: { ...session } });
  }
}

/** An H.264 publisher in the shape of the worker's sessions. */
function asPublishSession(session: H264PublishSession): WebRtcSession {
  return { id: session.id, mode: 'publish', sourceId: '', delivery: 'passthrough', state: session.state };
}

/** A passthrough session in the shape of the worker's sessions. */
function asSession(session: PassthroughSession): WebRtcSession {
  return { id: session.id, mode: 'view', sourceId: session.sourceId, delivery: 'passthrough', state: session.state };
}

/** Refuses (400 `FW_ERR_SDP_INVALID`) an offer that is not an SDP or cannot serve `mode` and `delivery`. */
function checkOffer(sdp: string, mode: WebRtcSessionMode, delivery: IpcDelivery): void {
  if (!sdp.startsWith('v=0')) throw invalid('the offer is not an SDP (must start v=0)');
  if (mode === 'view' && delivery === 'datachannel') {
    if (!/^m=application /m.test(sdp))
      throw invalid('a data-channel viewer offer must have a data channel (m=application)');
    return;
  }
  const video = /^m=video .*$/m.exec(sdp);
  if (!video) throw invalid('the offer has no video media section (m=video)');
  if (!/^m=video \d+ [\w/]+( \d+)+\s*$/m.test(sdp)) throw invalid('the offer’s m=video line is malformed');
  const media = sdp.slice(video.index).split(/\r?\nm=/)[0] ?? '';
  const sends = !/^a=(recvonly|inactive)\s*$/m.test(media);
  const receives = !/^a=(sendonly|inactive)\s*$/m.test(media);
  if (mode === 'view' && !receives) throw invalid('a viewer offer must receive video (recvonly or sendrecv)');
  if (mode === 'publish' && !sends) throw invalid('a publisher offer must send video (sendonly or sendrecv)');
}

function invalid(message: string): HttpFailure {
  return new HttpFailure(400, 'FW_ERR_SDP_INVALID', message, { stage: 'webrtc' });
}
