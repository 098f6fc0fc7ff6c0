/// <reference path="../types/globals.d.ts" />
import {
  FramewireError,
  assertOption,
  createLogger,
  type JanusCandidate,
  type JanusEvent,
  type JanusHttpSession,
} from '@framewire/core';
import type { ReconnectBackoffOptions } from '../core/reconnect-backoff.js';
import { LiveLink } from './live-link.js';
import type { FrameSourceStats, SourceQueueOptions } from '../core/frame-source.js';
import { attachJanusHandle, type JanusHandleLease } from './janus-shared-session.js';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import { TrackFrameReader, setJitterBufferTarget } from './track-frame-reader.js';
import { filterSdp, iceGathered, parseHttpUrl } from '../network/whep-http.js';
import { assertSecureContext } from '../core/secure-context.js';

const log = createLogger('janus-source');

/** Options of {@link JanusSource.open}. */
export interface JanusSourceOptions {
  /** Janus's HTTP API, e.g. `http://127.0.0.1:8088/janus` (its REST transport). Required. */
  url: string | URL;
  /**
   * The streaming mountpoint to watch: its numeric id, or its description (the Node bridge's `--janus-url`
   * mountpoints are described by their source id, e.g. `'cam'`). Required.
   */
  mountpoint: number | string;
  /** Janus's API secret (`api_secret` in `janus.jcfg`). Default: none. */
  apiSecret?: string;
  /**
   * Watches again after the connection fails, stalls or Janus restarts, with exponential backoff. Default:
   * `{ initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 30 }`; `false` turns it off.
   */
  reconnect?: boolean | ReconnectBackoffOptions;
  /** A connection that delivers no frame for this long is reported stalled and replaced, in ms. Default: 5000. */
  stallTimeoutMs?: number;
  /** How long `open()` waits for the first frame, in ms. Default: 15000. */
  openTimeoutMs?: number;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 1 }`. */
  queue?: SourceQueueOptions;
  /** STUN/TURN servers. Default: none (host candidates). */
  iceServers?: RTCIceServer[];
  /** Keeps only the ICE candidates (`candidate:…` lines) it returns true for, in Janus's offer and the answer. Default: all. */
  candidateFilter?: (candidate: string) => boolean;
  /** The video receiver's `jitterBufferTarget`, in ms (0–4000). Default: 0 (lowest latency); `null` leaves the browser's. */
  jitterBufferTargetMs?: number | null;
}

/** The counters of a {@link JanusSource}. */
export interface JanusSourceStats extends FrameSourceStats {
  /** Times it watched again after the first (the connection failed or stalled, or Janus restarted). */
  reconnects: number;
}

const DEFAULT_BACKOFF: ReconnectBackoffOptions = { initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 30 };
const STREAMING_PLUGIN = 'janus.plugin.streaming';

/**
 * Views a Janus streaming mountpoint (such as the ones the Node bridge creates with `--janus-url`, Janus relaying
 * the source's H.264 and Opus to every viewer) as a live frame source: the newest frame wins. It speaks Janus's
 * plain HTTP API itself (session, attach `janus.plugin.streaming`, `watch`, the answer with `start`, a long poll
 * and keepalives), without Meetecho's janus.js; the JanusSources of a page share one session per Janus (one long
 * poll, whatever the number of viewers). The mountpoint's audio, when it has some, is {@link audioTrack}.
 *
 * `open()` resolves with the first frame. It rejects with `FW_ERR_JANUS_REFUSED` (a wrong API secret, no streaming
 * plugin, or Janus refused to serve the mountpoint), `FW_ERR_NOT_FOUND` (no mountpoint with that description),
 * `FW_ERR_CONNECTION_FAILED` (Janus unreachable), `FW_ERR_STREAM_STALLED` (no frame within `openTimeoutMs`),
 * `FW_ERR_NOT_SUPPORTED` (no RTCPeerConnection or MediaStreamTrackProcessor). Later, a failed or stalled
 * connection, or a Janus restart (its session is gone), is replaced by a new session that watches again with
 * backoff (non-fatal errors; fatal once retries are used up).
 *
 * @example
 * ```ts
 * const video = await JanusSource.open({ url: 'http://127.0.0.1:8088/janus', mountpoint: 'cam', apiSecret });
 * for await (const frame of video) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * ```
 */
export class JanusSource extends QueuedFrameSource {
  /** Janus's HTTP API URL. */
  readonly url: string;
  readonly #options: JanusSourceOptions;
  readonly #link: LiveLink;
  #lease: JanusHandleLease | undefined;
  #pc: RTCPeerConnection | undefined;
  #reader: TrackFrameReader | undefined;
  #audioTrack: MediaStreamTrack | undefined;

  private constructor(url: string, options: JanusSourceOptions) {
    super('janus', { capacity: 1, ...options.queue }, 'latest');
    this.url = url;
    this.#options = options;
    this.#link = new LiveLink(
      {
        label: url,
        stage: 'janus-source',
        reconnect: options.reconnect,
        defaultBackoff: DEFAULT_BACKOFF,
        stallTimeoutMs: options.stallTimeoutMs,
      },
      {
        connect: (generation) => this.#connect(generation),
        teardown: () => this.#teardown(),
        fail: (e) => this.fail(e),
      },
    );
  }

  /** Watches the mountpoint and resolves once the first frame arrived; rejects as described on the class. */
  static async open(options: JanusSourceOptions): Promise<JanusSource> {
    const url = validate(options);
    assertSecureContext('JanusSource', 'network');
    if (typeof RTCPeerConnection === 'undefined' || typeof MediaStreamTrackProcessor !== 'function') {
      throw new FramewireError(
        'FW_ERR_NOT_SUPPORTED',
        'JanusSource needs RTCPeerConnection and MediaStreamTrackProcessor',
        {
          fatal: true,
          stage: 'network',
        },
      );
    }
    const source = new JanusSource(url, options);
    try {
      await source.#link.open(options.openTimeoutMs ?? 15_000);
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  /**
   * The mountpoint's audio track of the current connection (when it has audio; set when `open()` resolves,
   * replaced after a reconnection), ready to play or record. `undefined` without audio.
   */
  get audioTrack(): MediaStreamTrack | undefined {
    return this.#audioTrack;
  }

  /** The counters, with reconnects. */
  override get stats(): JanusSourceStats {
    return { ...super.stats, reconnects: this.#link.reconnects };
  }

  /** Attaches a handle (to this page's shared session), finds the mountpoint, watches; the offer comes as an event. */
  async #connect(generation: number): Promise<void> {
    let events = Promise.resolve();
    const lease = await attachJanusHandle(this.url, this.#options.apiSecret, STREAMING_PLUGIN, {
      event: (event) => {
        if (!this.#link.isCurrent(generation)) return;
        // One at a time: Janus trickles its candidates while the offer is being answered.
        events = events
          .then(() => this.#onEvent(lease.session, lease.handle, generation, event))
          .catch((error: unknown) => this.#link.lost(generation, asError(error)));
      },
      lost: (error) => this.#link.lost(generation, error),
    });
    if (!this.#link.isCurrent(generation)) {
      lease.release();
      return;
    }
    this.#lease = lease;
    const id = await this.#mountpointId(lease.session, lease.handle);
    await lease.session.message(lease.handle, { request: 'watch', id });
  }

  /** The numeric id of the mountpoint option (a description is looked up with `list`). */
  async #mountpointId(session: JanusHttpSession, handle: number): Promise<number> {
    const wanted = this.#options.mountpoint;
    if (typeof wanted === 'number') return wanted;
    const data = await session.message(handle, { request: 'list' });
    const list = (data?.['list'] ?? []) as { id: number; description?: string }[];
    const found = list.find((mountpoint) => mountpoint.description === wanted);
    if (!found) {
      throw new FramewireError(
        'FW_ERR_NOT_FOUND',
        `${this.url} has no mountpoint described as ${JSON.stringify(wanted)}`,
        { stage: 'janus-source' },
      );
    }
    return found.id;
  }

  async #onEvent(session: JanusHttpSession, handle: number, generation: number, event: JanusEvent): Promise<void> {
    if (event.janus === 'hangup' || event.janus === 'detached') {
      throw new FramewireError('FW_ERR_CONNECTION_FAILED', `${this.url} hung up (${event.janus})`, {
        stage: 'janus-source',
      });
    }
    if (event.janus === 'trickle') {
      await this.#addJanusCandidate(event.candidate);
      return;
    }
    if (event.janus !== 'event') return;
    const data = event.plugindata?.data;
    const code = data?.['error_code'];
    if (typeof code === 'number') {
      throw new FramewireError(
        'FW_ERR_JANUS_REFUSED',
        `${this.url} refused to serve the mountpoint: ${code} ${String(data?.['error'])}`,
        {
          stage: 'janus-source',
          details: { janusCode: code },
        },
      );
    }
    const status = (data?.['result'] as { status?: string } | undefined)?.status;
    if (status === 'stopped') {
      throw new FramewireError('FW_ERR_CONNECTION_FAILED', `${this.url} stopped the stream`, { stage: 'janus-source' });
    }
    if (event.jsep?.type !== 'offer') return;
    const answer = await this.#answer(event.jsep.sdp, generation);
    if (answer === undefined || !this.#link.isCurrent(generation)) return;
    await session.message(handle, { request: 'start' }, { type: 'answer', sdp: answer });
    // The answer holds every candidate we keep: tell Janus, which otherwise waits for more.
    await session.trickle(handle, { completed: true });
  }

  /** Adds a candidate Janus trickled after its offer (the ones `candidateFilter` keeps). */
  async #addJanusCandidate(candidate: JanusCandidate | undefined): Promise<void> {
    const pc = this.#pc;
    const filter = this.#options.candidateFilter;
    if (!pc || candidate?.candidate === undefined || candidate.completed === true) return;
    if (filter && !filter(candidate.candidate)) return;
    await pc
      .addIceCandidate({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      })
      .catch((error: unknown) => log.debug(`ignored a candidate from Janus: ${String(error)}`));
  }

  /** A peer connection for Janus's offer; resolves with the answer to send (candidates gathered and filtered). */
  async #answer(offer: string, generation: number): Promise<string | undefined> {
    const filter = this.#options.candidateFilter;
    this.#pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.#options.iceServers ?? [] });
    this.#pc = pc;
    const jitterBufferTargetMs =
      this.#options.jitterBufferTargetMs ?? (this.#options.jitterBufferTargetMs === null ? null : 0);
    pc.ontrack = ({ track, receiver }) => {
      if (!this.#link.isCurrent(generation)) return;
      if (track.kind === 'audio') {
        this.#audioTrack = track;
        return;
      }
      setJitterBufferTarget(receiver, jitterBufferTargetMs);
      this.#reader = new TrackFrameReader(track, async ({ frame }) => {
        if (!this.#link.isCurrent(generation)) {
          frame.close();
          return false;
        }
        this.#link.frameArrived();
        return this.deliver(frame);
      });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState !== 'failed') return;
      this.#link.lost(
        generation,
        new FramewireError('FW_ERR_CONNECTION_FAILED', `The WebRTC connection to ${this.url} failed`, {
          stage: 'janus-source',
        }),
      );
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: filterSdp(offer, filter) });
    await pc.setLocalDescription(await pc.createAnswer());
    await iceGathered(pc);
    if (!this.#link.isCurrent(generation)) return undefined;
    return filterSdp(pc.localDescription?.sdp ?? '', filter);
  }

  /** Ends the current session (best effort), its long poll and peer connection. */
  #teardown(): void {
    this.#lease?.release();
    this.#lease = undefined;
    this.#reader?.cancel();
    this.#reader = undefined;
    this.#pc?.close();
    this.#pc = undefined;
  }

  /** Ends the session and closes the connection. */
  protected release(): void {
    this.#link.stop();
  }
}

/** Validates `options`; returns the API URL. Throws `FW_ERR_INVALID_OPTION`. */
function validate(options: JanusSourceOptions): string {
  assertOption(typeof options === 'object', 'options must be { url, mountpoint, … }');
  const url = parseHttpUrl(options.url).href.replace(/\/+$/, '');
  const { mountpoint } = options;
  assertOption(
    (typeof mountpoint === 'number' && Number.isSafeInteger(mountpoint) && mountpoint > 0) ||
      (typeof mountpoint === 'string' && mountpoint.length > 0),
    `options.mountpoint must be a mountpoint id (a positive integer) or description; got ${JSON.stringify(mountpoint)}`,
  );
  assertOption(
    options.apiSecret === undefined || (typeof options.apiSecret === 'string' && options.apiSecret !== ''),
    'options.apiSecret must be a non-empty string',
  );
  assertOption(
    options.candidateFilter === undefined || typeof options.candidateFilter === 'function',
    'candidateFilter must be a function',
  );
  const jitter = options.jitterBufferTargetMs;
  assertOption(
    jitter === undefined || jitter === null || (typeof jitter === 'number' && jitter >= 0 && jitter <= 4000),
    `jitterBufferTargetMs must be a number of ms in 0..4000 or null; got ${String(jitter)}`,
  );
  return url;
}

function asError(error: unknown): FramewireError {
  return error instanceof FramewireError
    ? error
    : new FramewireError('FW_ERR_CONNECTION_FAILED', String(error), { cause: error, stage: 'janus-source' });
}
