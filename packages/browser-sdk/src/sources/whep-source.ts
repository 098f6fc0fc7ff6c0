/// <reference path="../types/globals.d.ts" />
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import {
  DataChannelMessageAssembler,
  H264_DATA_CHANNEL_LABEL,
  decodeWsFrame,
  parseWsServerMessage,
} from '@framewire/core/bridge-protocol';
import type { ReconnectBackoffOptions } from '../core/reconnect-backoff.js';
import { LiveLink } from './live-link.js';
import { LatencyWindow, type BridgeLatency } from './latency-window.js';
import { RtpCaptureClock, type FrameMeta } from '../network/rtp-capture-clock.js';
import { H264AccessUnitDecoder } from './h264-access-unit-decoder.js';
import { filterSdp, iceGathered, parseHttpUrl, trickleIceFragment, whepRefusal } from '../network/whep-http.js';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import { TrackFrameReader, setJitterBufferTarget } from './track-frame-reader.js';
import type { FrameSourceStats, SourceQueueOptions } from '../core/frame-source.js';
import { assertSecureContext } from '../core/secure-context.js';

const log = createLogger('whep-source');

/** Options of {@link WhepSource.open}. */
export interface WhepSourceOptions {
  /**
   * The bridge's base URL (`http://pi.local:8090/`) or a full WHEP endpoint URL (`http://pi.local:8090/sources/cam/whep`,
   * the bridge's older `/offer` alias, or any WHEP server). Required.
   */
  url: string | URL;
  /** The bridge source to show, when `url` is the bridge's base URL. Default: the bridge's first source (`/whep`). */
  sourceId?: string;
  /** Access token, sent as `Authorization: Bearer <token>`. Default: none. */
  token?: string;
  /**
   * Makes a new offer after the connection fails or stalls (the bridge or its WebRTC worker restarted), with
   * exponential backoff. Default: `{ initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 10 }`; `false` turns it off.
   */
  reconnect?: boolean | ReconnectBackoffOptions;
  /** A connection that delivers no frame for this long is reported stalled and replaced, in ms. Default: 5000. */
  stallTimeoutMs?: number;
  /** How long `open()` waits for the first frame, in ms. Default: 15000. */
  openTimeoutMs?: number;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 1 }`. */
  queue?: SourceQueueOptions;
  /** STUN/TURN servers. Default: none (host candidates, fine on a LAN). */
  iceServers?: RTCIceServer[];
  /** Keeps only the ICE candidates (`candidate:…` lines) it returns true for, in the offer and the answer. Default: all. */
  candidateFilter?: (candidate: string) => boolean;
  /**
   * How long the browser's receiver may hold frames to smooth network jitter, in ms (0–4000), set as the video
   * receiver's `jitterBufferTarget` where the browser has it. A live view wants the smallest: the browser still
   * keeps the minimum its jitter estimate needs. Default: 0 (lowest latency); `null` leaves the browser's default.
   */
  jitterBufferTargetMs?: number | null;
  /**
   * How the bridge sends the video: `track` (a VP8 track the bridge's WebRTC worker encodes for this viewer) or
   * `datachannel` (the source's shared H.264 access units on an ordered, reliable `fw.h264` data channel, decoded
   * here with `VideoDecoder`: encoded once for every viewer, like the WebSocket output, and each frame carries its
   * capture time). Other WHEP servers only know `track`. Default: `track`.
   */
  delivery?: 'track' | 'datachannel';
  /**
   * Also receive the source's audio (`delivery: 'track'`): the offer gets a recvonly audio section, and when the
   * server sends audio (the bridge does for a source with `--audio`: Opus, in the same media stream as the video,
   * played in sync by the browser) it is {@link WhepSource.audioTrack}. Default: false.
   */
  audio?: boolean;
  /**
   * Trickle ICE: POST the offer at once, without waiting for ICE gathering, and send the candidates found later with
   * `PATCH` (`application/trickle-ice-sdpfrag`, RFC 8840, as WHEP does). Saves the gathering time (STUN/TURN
   * servers can take seconds); the bridge supports it, other WHEP servers may not. Default: false.
   */
  trickleIce?: boolean;
}

/** The counters of a {@link WhepSource}. */
export interface WhepSourceStats extends FrameSourceStats {
  /** Offers made after the first (the connection failed or stalled). */
  reconnects: number;
  /** Median glass-to-glass latency in ms; `undefined` until capture times are known. */
  latencyP50Ms: number | undefined;
  /** 95th percentile glass-to-glass latency in ms; `undefined` until capture times are known. */
  latencyP95Ms: number | undefined;
}

const DEFAULT_BACKOFF: ReconnectBackoffOptions = { initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 10 };

/**
 * Receives a WebRTC video without signaling: POSTs an SDP offer to a WHEP endpoint such as the Node bridge's
 * `/whep` (started with `--webrtc`) and reads the answered track as a live frame source (the newest frame wins).
 * With the bridge, a `fw.meta` data channel carries each frame's capture time, matched to frames through their
 * RTP timestamps, so `stats` reports glass-to-glass latency (after about ten frames). With `delivery:
 * 'datachannel'` the bridge sends its shared H.264 instead (encoded once for every viewer, each access unit with
 * its capture time) on an `fw.h264` data channel, decoded here with `VideoDecoder`.
 *
 * `open()` resolves with the first frame. It rejects with `FW_ERR_UNAUTHORIZED` (401), `FW_ERR_CAPACITY_REACHED`
 * (503: the bridge has its maximum of WebRTC sessions), `FW_ERR_NETWORK_FAILED` (404 or another refusal), `FW_ERR_CONNECTION_FAILED` (unreachable), `FW_ERR_STREAM_STALLED` (no frame within
 * `openTimeoutMs`), `FW_ERR_NOT_SUPPORTED` (no RTCPeerConnection or MediaStreamTrackProcessor). Later, a failed
 * or stalled connection is replaced by a new offer with backoff (non-fatal errors; fatal once retries are used
 * up); the session is ended with `DELETE` on close.
 *
 * @example
 * ```ts
 * const video = await Framewire.openSource({ bridge: { url: 'http://pi.local:8090/', transport: 'webrtc' } });
 * for await (const frame of video) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * ```
 */
export class WhepSource extends QueuedFrameSource {
  /** The offer URL. */
  readonly url: string;
  readonly #options: WhepSourceOptions;
  readonly #link: LiveLink;
  readonly #latencies = new LatencyWindow();
  #pc: RTCPeerConnection | undefined;
  #reader: TrackFrameReader | undefined;
  #session: string | undefined;
  /** The H.264 decoder of `delivery: 'datachannel'`. */
  readonly #decoder: H264AccessUnitDecoder;
  #audioTrack: MediaStreamTrack | undefined;

  private constructor(url: string, options: WhepSourceOptions) {
    super('whep', { capacity: 1, ...options.queue }, 'latest');
    this.url = url;
    this.#options = options;
    this.#link = new LiveLink(
      {
        label: url,
        stage: 'network',
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
    this.#decoder = new H264AccessUnitDecoder(
      {
        frame: (frame, captured) => {
          if (this.#link.stopped) {
            frame.close();
            return;
          }
          this.#link.frameArrived();
          void this.deliver(frame, captured);
        },
        error: (error) => {
          if (this.#link.stopped) return;
          if (error.fatal) this.#failAll(error);
          else this.fail(error);
        },
      },
      url,
    );
  }

  /** Makes the offer and resolves once the first frame arrived; rejects as described on the class. */
  static async open(options: string | URL | WhepSourceOptions): Promise<WhepSource> {
    const resolved: WhepSourceOptions =
      typeof options === 'string' || options instanceof URL ? { url: options } : options;
    const url = offerUrl(resolved);
    assertSecureContext('WhepSource', 'network');
    const datachannel = resolved.delivery === 'datachannel';
    const decodes = datachannel ? typeof VideoDecoder === 'function' : typeof MediaStreamTrackProcessor === 'function';
    if (typeof RTCPeerConnection === 'undefined' || !decodes) {
      throw new FramewireError(
        'FW_ERR_NOT_SUPPORTED',
        `WhepSource needs RTCPeerConnection and ${datachannel ? 'VideoDecoder' : 'MediaStreamTrackProcessor'}`,
        { fatal: true, stage: 'network' },
      );
    }
    const source = new WhepSource(url, resolved);
    try {
      await source.#link.open(resolved.openTimeoutMs ?? 15_000);
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  /**
   * The source's audio track of the current connection (with `audio: true`, when the server sends audio; set when
   * `open()` resolves, replaced after a reconnection), ready to play or record. `undefined` without audio.
   */
  get audioTrack(): MediaStreamTrack | undefined {
    return this.#audioTrack;
  }

  /** The session resource of the current connection (from the answer's `Location`), if any. */
  get sessionUrl(): string | undefined {
    return this.#session;
  }

  /** Glass-to-glass latency of the newest delivered frames; `undefined` before capture times are known. */
  get latency(): BridgeLatency | undefined {
    return this.#latencies.summary;
  }

  /** The counters, with reconnects and the latency percentiles. */
  override get stats(): WhepSourceStats {
    const latency = this.latency;
    return {
      ...super.stats,
      reconnects: this.#link.reconnects,
      latencyP50Ms: latency?.p50Ms,
      latencyP95Ms: latency?.p95Ms,
    };
  }

  /** The next frame (stamped with its capture time once known), measuring its glass-to-glass latency. */
  override async read(): Promise<VideoFrame | null> {
    const frame = await super.read();
    this.#latencies.measure(frame);
    return frame;
  }

  async #connect(generation: number): Promise<void> {
    const filter = this.#options.candidateFilter;
    const pc = new RTCPeerConnection({ iceServers: this.#options.iceServers ?? [] });
    this.#pc = pc;
    if (this.#options.delivery === 'datachannel') this.#receiveAccessUnits(pc, generation);
    else this.#receiveTrack(pc, generation);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState !== 'failed') return;
      this.#link.lost(
        generation,
        new FramewireError('FW_ERR_CONNECTION_FAILED', `The WebRTC connection to ${this.url} failed`, {
          fatal: false,
          stage: 'network',
        }),
      );
    };
    const trickle = this.#options.trickleIce === true ? this.#trickle(pc, generation) : undefined;
    await pc.setLocalDescription(await pc.createOffer());
    if (!trickle) await iceGathered(pc);
    const offer = filterSdp(pc.localDescription?.sdp ?? '', filter);
    const headers: Record<string, string> = { 'content-type': 'application/sdp' };
    if (this.#options.token) headers['authorization'] = `Bearer ${this.#options.token}`;
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers, body: offer, cache: 'no-store' });
    } catch (cause) {
      throw new FramewireError('FW_ERR_CONNECTION_FAILED', `Cannot reach ${this.url}`, {
        cause,
        fatal: false,
        stage: 'network',
      });
    }
    const text = await response.text();
    if (!response.ok) throw whepRefusal(response.status, text, this.url);
    if (!this.#link.isCurrent(generation)) return;
    const location = response.headers.get('location');
    this.#session = location ? new URL(location, this.url).href : undefined;
    await pc.setRemoteDescription({ type: 'answer', sdp: filterSdp(text, filter) });
    if (this.#session) trickle?.(this.#session);
  }

  /**
   * Collects `pc`'s ICE candidates (the ones `candidateFilter` keeps) and, once the session URL is known (the
   * returned function), `PATCH`es them to it in order, with `a=end-of-candidates` at the end of gathering.
   */
  #trickle(pc: RTCPeerConnection, generation: number): (sessionUrl: string) => void {
    const filter = this.#options.candidateFilter;
    const pending: RTCIceCandidate[] = [];
    let ended = false;
    let sessionUrl: string | undefined;
    let chain = Promise.resolve();
    const flush = (): void => {
      if (sessionUrl === undefined || !this.#link.isCurrent(generation) || (pending.length === 0 && !ended)) return;
      const body = trickleIceFragment(pc.localDescription?.sdp ?? '', pending.splice(0), ended);
      const target = sessionUrl;
      const headers: Record<string, string> = { 'content-type': 'application/trickle-ice-sdpfrag' };
      if (this.#options.token) headers['authorization'] = `Bearer ${this.#options.token}`;
      ended = false;
      chain = chain
        .then(() => fetch(target, { method: 'PATCH', headers, body, cache: 'no-store' }))
        .then((response) => {
          if (!response.ok) log.warn(`PATCH ${target} (trickle ICE) answered ${response.status}`);
        })
        .catch((error: unknown) => log.debug(`PATCH ${target}: ${String(error)}`));
    };
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (!candidate || candidate.candidate === '') ended = true;
      else if (!filter || filter(candidate.candidate)) pending.push(candidate);
      flush();
    });
    return (url) => {
      sessionUrl = url;
      flush();
    };
  }

  /** `delivery: 'track'`: a recvonly video track, with capture times from the `fw.meta` channel. */
  #receiveTrack(pc: RTCPeerConnection, generation: number): void {
    const clock = new RtpCaptureClock();
    pc.addTransceiver('video', { direction: 'recvonly' });
    if (this.#options.audio === true) pc.addTransceiver('audio', { direction: 'recvonly' });
    const meta = pc.createDataChannel('fw.meta', { ordered: false, maxRetransmits: 0 });
    meta.onmessage = (event: MessageEvent<string>) => {
      try {
        clock.addMeta(JSON.parse(event.data) as FrameMeta);
      } catch {
        log.debug('ignored a malformed fw.meta message');
      }
    };
    const jitterBufferTargetMs =
      this.#options.jitterBufferTargetMs ?? (this.#options.jitterBufferTargetMs === null ? null : 0);
    pc.ontrack = ({ track, receiver }) => {
      if (!this.#link.isCurrent(generation)) return;
      if (track.kind === 'audio') {
        this.#audioTrack = track;
        return;
      }
      if (track.kind !== 'video') return;
      setJitterBufferTarget(receiver, jitterBufferTargetMs);
      this.#pump(track, clock, generation);
    };
  }

  /**
   * `delivery: 'datachannel'`: the bridge's H.264 access units (the WebSocket's messages, in chunks) on an ordered,
   * reliable `fw.h264` channel, decoded with the shared {@link H264AccessUnitDecoder}.
   */
  #receiveAccessUnits(pc: RTCPeerConnection, generation: number): void {
    this.#decoder.reset();
    const channel = pc.createDataChannel(H264_DATA_CHANNEL_LABEL, { ordered: true });
    channel.binaryType = 'arraybuffer';
    const assembler = new DataChannelMessageAssembler();
    channel.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (!this.#link.isCurrent(generation)) return;
      if (typeof event.data === 'string') {
        const message = parseWsServerMessage(event.data);
        if (message?.type === 'config') this.#decoder.setConfig(message);
        return;
      }
      let message: Uint8Array | undefined;
      try {
        message = assembler.push(new Uint8Array(event.data));
      } catch (error) {
        log.debug(`dropped a data channel message: ${String(error)}`);
        return;
      }
      const frame = message && decodeWsFrame(message);
      if (frame) this.#decoder.decode(frame.header, frame.payload);
    };
  }

  #pump(track: MediaStreamTrack, clock: RtpCaptureClock, generation: number): void {
    this.#reader = new TrackFrameReader(track, async ({ frame, rtpTimestamp }) => {
      if (!this.#link.isCurrent(generation)) {
        frame.close();
        return false;
      }
      const captured = rtpTimestamp === undefined ? undefined : clock.captureTimeOf(rtpTimestamp);
      this.#link.frameArrived();
      return this.deliver(frame, captured);
    });
  }

  /** Ends the current session (best effort `DELETE`) and peer connection. */
  #teardown(): void {
    const session = this.#session;
    this.#session = undefined;
    if (session) {
      const headers: Record<string, string> = {};
      if (this.#options.token) headers['authorization'] = `Bearer ${this.#options.token}`;
      void fetch(session, { method: 'DELETE', headers }).catch(() => undefined);
    }
    this.#reader?.cancel();
    this.#reader = undefined;
    this.#decoder.reset();
    this.#pc?.close();
    this.#pc = undefined;
  }

  #failAll(error: FramewireError): void {
    this.#link.stop();
    this.fail(error);
  }

  /** Ends the session and closes the connection. */
  protected release(): void {
    this.#link.stop();
  }
}

/** The offer URL for `options`; throws `FW_ERR_INVALID_OPTION`. */
function offerUrl(options: WhepSourceOptions): string {
  assertOption(typeof options === 'object', 'options must be a URL or { url, … }');
  const { url, sourceId } = options;
  const parsed = parseHttpUrl(url);
  assertOption(
    sourceId === undefined || (typeof sourceId === 'string' && /^[\w.-]+$/.test(sourceId)),
    'sourceId must be a source id such as "cam" (letters, digits, _ . -)',
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
  assertOption(
    [undefined, 'track', 'datachannel'].includes(options.delivery),
    `delivery must be track or datachannel; got ${String(options.delivery)}`,
  );
  assertOption(options.audio === undefined || typeof options.audio === 'boolean', 'options.audio must be a boolean');
  assertOption(
    options.audio !== true || options.delivery !== 'datachannel',
    "options.audio needs delivery 'track' (the data channel carries video only)",
  );
  const base = parsed.pathname.endsWith('/');
  assertOption(base || sourceId === undefined, 'give sourceId with the bridge base URL, not with a full offer URL');
  if (base) parsed.pathname += sourceId === undefined ? 'whep' : `sources/${sourceId}/whep`;
  if (options.delivery === 'datachannel') parsed.searchParams.set('delivery', 'datachannel');
  return parsed.href;
}
