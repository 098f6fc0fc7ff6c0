import { createSocket, type Socket } from 'node:dgram';
import { FramewireError, JanusHttpSession, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import { findSps } from '../media/h264.js';
import { isRawFrame } from '../media/source-frame.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import type { OutputStats } from './output-stats.js';
import type { JanusMountpointHealth, JanusMountpointState } from '../protocol.js';
import { OpusFanout } from '../webrtc/opus-fanout.js';
import { RtpFanout } from '../webrtc/rtp-fanout.js';

/** Options of {@link JanusOutput}. */
export interface JanusOutputOptions {
  /** Janus's HTTP API (`--janus-url`), e.g. `http://127.0.0.1:8088/janus`. Required. */
  url: string;
  /** Janus's API secret (`api_secret` in `janus.jcfg`; `--janus-secret`). Default: none. */
  apiSecret?: string;
  /** The mountpoint's id. Default: a number derived from the source id (the same at every start). */
  mountpointId?: number;
  /**
   * How often the mountpoint is checked (Janus's `info` request, which also keeps the API session alive), in ms: a
   * check that fails (Janus restarted or stopped) re-creates the mountpoint. Default: 2000.
   */
  checkIntervalMs?: number;
  /** First delay before creating the mountpoint again after a failure, in ms; doubles per failure in a row. Default: 1000. */
  retryDelayMs?: number;
  /** Longest delay between two attempts, in ms. Default: 30000. */
  maxRetryDelayMs?: number;
}

/** Events of a {@link JanusOutput}. */
export type JanusOutputEvents = {
  /** The mountpoint changed state (`ready` once Janus has it and RTP flows to it). */
  state: { state: JanusMountpointState };
  /**
   * An attempt or a check failed (never fatal: the output tries again with backoff): `FW_ERR_JANUS_REFUSED` (a wrong
   * API secret, no streaming plugin, a mountpoint Janus would not create), `FW_ERR_CONNECTION_FAILED` (Janus
   * unreachable, or restarted: its session is gone).
   */
  error: { error: FramewireError; fatal: boolean };
};

/** Counters of a {@link JanusOutput}, reported in `/metrics` as the `janus` output (see {@link JanusOutput.stats}). */
export type JanusOutputStats = OutputStats;

const log = createLogger('janus');
const STREAMING_PLUGIN = 'janus.plugin.streaming';
const VIDEO_PT = 96;
const AUDIO_PT = 111;
/** The streaming plugin's error for an id that is taken (`JANUS_STREAMING_ERROR_MOUNTPOINT_EXISTS`). */
const MOUNTPOINT_EXISTS = 456;

/** A mountpoint id for `sourceId` that stays the same from one start to the next (FNV-1a, 31 bits, never 0). */
export function janusMountpointId(sourceId: string): number {
  let hash = 0x811c9dc5;
  for (const char of sourceId) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fff_ffff || 1;
}

/**
 * Serves a source's WebRTC viewers through Janus (its streaming plugin as the SFU): creates an RTP mountpoint for the
 * source over Janus's HTTP API (H.264 with the profile of the source's SPS, plus Opus when the source has audio,
 * described by the source's id) and sends it the source's RTP over UDP to the ports Janus chose, from the bridge's
 * shared packetization ({@link RtpFanout}, {@link OpusFanout}: nothing is encoded for Janus, and SPS/PPS go before
 * every IDR). Janus relays it to every viewer without transcoding.
 *
 * It checks the mountpoint every `checkIntervalMs`; when Janus restarted (its session is gone) or cannot be reached,
 * it creates the mountpoint again, with a delay that doubles from `retryDelayMs` up to `maxRetryDelayMs`. Every
 * failure is an `error` event and shows in {@link health} (in the bridge's `/health`); the bridge's other outputs
 * are not affected.
 */
export class JanusOutput {
  /** Labels under which the bridge reports this output in `/metrics`. */
  readonly metricsLabels: { source: string; output: string };
  /** The mountpoint's id. */
  readonly mountpointId: number;
  readonly #options: Required<Omit<JanusOutputOptions, 'apiSecret' | 'mountpointId'>> & {
    apiSecret: string | undefined;
  };
  readonly #feed: FrameFeed;
  readonly #video: RtpFanout;
  readonly #audio: OpusFanout | undefined;
  readonly #events = new TypedEmitter<JanusOutputEvents>();
  readonly #host: string;
  #socket: Socket | undefined;
  #session: JanusHttpSession | undefined;
  #handle: number | undefined;
  #ports: { video: number; audio: number | undefined } | undefined;
  #state: JanusMountpointState = 'waiting';
  #lastError: FramewireError | undefined;
  #failures = 0;
  #creations = 0;
  #viewers = 0;
  #videoAgeMs: number | undefined;
  #framesSent = 0;
  #framesDropped = 0;
  #bytesSent = 0;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void)[] = [];
  #attempting = false;
  #closed = false;

  /** Validates the options; `feed` is the H.264 feed of the source. Nothing is created or sent before {@link start}. */
  constructor(feed: FrameFeed, options: JanusOutputOptions) {
    assertOption(typeof options === 'object', 'janus options must be an object');
    assertOption(
      typeof options.url === 'string' && URL.canParse(options.url) && /^https?:$/.test(new URL(options.url).protocol),
      `--janus-url must be the http(s) URL of Janus's HTTP API, e.g. http://127.0.0.1:8088/janus; got ${JSON.stringify(options.url)}`,
    );
    assertOption(
      options.apiSecret === undefined || (typeof options.apiSecret === 'string' && options.apiSecret !== ''),
      '--janus-secret must not be empty',
    );
    assertOption(feed.format === 'h264', 'JanusOutput needs an H.264 feed');
    this.#options = {
      checkIntervalMs: 2000,
      retryDelayMs: 1000,
      maxRetryDelayMs: 30_000,
      ...options,
      apiSecret: options.apiSecret,
    };
    const o = this.#options;
    assertOption(o.checkIntervalMs >= 100, `checkIntervalMs must be >= 100; got ${o.checkIntervalMs}`);
    assertOption(o.retryDelayMs > 0, `retryDelayMs must be > 0; got ${o.retryDelayMs}`);
    assertOption(o.maxRetryDelayMs >= o.retryDelayMs, 'maxRetryDelayMs must be >= retryDelayMs');
    this.mountpointId = options.mountpointId ?? janusMountpointId(feed.source.id);
    assertOption(
      Number.isSafeInteger(this.mountpointId) && this.mountpointId > 0,
      `mountpointId must be a positive integer; got ${this.mountpointId}`,
    );
    this.#feed = feed;
    this.#host = new URL(o.url).hostname.replace(/^\[|\]$/g, '');
    this.#video = new RtpFanout(feed, 'h264');
    this.#audio = feed.source.audio ? new OpusFanout(feed.source) : undefined;
    this.metricsLabels = { source: feed.source.id, output: 'janus' };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof JanusOutputEvents>(event: E, listener: (payload: JanusOutputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The mountpoint's state. */
  get state(): JanusMountpointState {
    return this.#state;
  }

  /**
   * The counters: `clients` are the viewers Janus reports on the mountpoint (at the last check), `framesSent` the
   * access units sent to the mountpoint, `framesDropped` those packetized while it was not ready, `bytesSent` the RTP
   * bytes sent to it (video and audio).
   */
  get stats(): JanusOutputStats {
    return {
      clients: this.#viewers,
      framesSent: this.#framesSent,
      framesDropped: this.#framesDropped,
      bytesSent: this.#bytesSent,
    };
  }

  /** The mountpoint's health, as the bridge reports it in `/health`. */
  get health(): JanusMountpointHealth {
    return {
      source: this.metricsLabels.source,
      url: this.#options.url,
      mountpointId: this.mountpointId,
      state: this.#state,
      audio: this.#audio !== undefined,
      viewers: this.#viewers,
      creations: this.#creations,
      ...(this.#videoAgeMs === undefined ? {} : { videoAgeMs: this.#videoAgeMs }),
      ...(this.#ports === undefined ? {} : { videoPort: this.#ports.video }),
      ...(this.#ports?.audio === undefined ? {} : { audioPort: this.#ports.audio }),
      ...(this.#lastError === undefined
        ? {}
        : { error: { code: this.#lastError.code, message: this.#lastError.message } }),
    };
  }

  /**
   * Starts: reads the source's H.264 (and Opus) from now on, and creates the mountpoint once the first keyframe
   * tells the H.264 profile. Idempotent.
   */
  start(): void {
    if (this.#closed || this.#socket) return;
    const socket = createSocket(this.#host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (error) => log.debug(`RTP socket: ${error.message}`));
    this.#socket = socket;
    this.#unsubscribe.push(
      this.#video.onWrite(({ packets }) => {
        if (this.#state === 'waiting') void this.#attempt();
        if (!this.#send(packets, this.#ports?.video)) this.#framesDropped++;
        else this.#framesSent++;
      }),
    );
    if (this.#audio) {
      const audio = this.#audio;
      this.#unsubscribe.push(audio.onWrite(({ packet }) => this.#send([packet], this.#ports?.audio)));
      audio.start();
    }
    this.#video.start();
  }

  /** Destroys the mountpoint and the API session (best effort), stops reading the source. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#video.stop();
    this.#audio?.stop();
    this.#setState('closed');
    const session = this.#session;
    const handle = this.#handle;
    this.#session = undefined;
    if (session && handle !== undefined) {
      await session.message(handle, { request: 'destroy', id: this.mountpointId }).catch(() => undefined);
    }
    await session?.destroy();
    this.#socket?.close();
    this.#socket = undefined;
    this.#events.removeAllListeners();
  }

  /** Sends `packets` to `port`; false when there is nowhere to send them yet. */
  #send(packets: readonly Buffer[], port: number | undefined): boolean {
    if (this.#state !== 'ready' || port === undefined || !this.#socket) return false;
    for (const packet of packets) {
      this.#socket.send(packet, port, this.#host);
      this.#bytesSent += packet.length;
    }
    return true;
  }

  /** Creates the session and the mountpoint; on failure, schedules the next attempt. */
  async #attempt(): Promise<void> {
    if (this.#closed || this.#attempting) return;
    const key = this.#feed.latestKey;
    const sps = key && !isRawFrame(key) && key.codec === 'h264' ? findSps(key.data) : undefined;
    if (!sps) {
      // Waiting for a keyframe with its SPS: the next access unit tries again.
      this.#setState('waiting');
      return;
    }
    this.#attempting = true;
    this.#setState('creating');
    try {
      await this.#create(sps.codec.slice('avc1.'.length));
      this.#failures = 0;
      this.#creations++;
      this.#lastError = undefined;
      this.#setState('ready');
      log.info(`${this.metricsLabels.source}: Janus mountpoint ${this.mountpointId} ready at ${this.#options.url}`);
      this.#schedule(this.#options.checkIntervalMs, () => this.#check());
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#attempting = false;
    }
  }

  async #create(profileLevelId: string): Promise<void> {
    await this.#dropSession();
    const session = await JanusHttpSession.create(this.#options.url, {
      ...(this.#options.apiSecret === undefined ? {} : { apiSecret: this.#options.apiSecret }),
      stage: 'janus',
    });
    this.#session = session;
    const handle = await session.attach(STREAMING_PLUGIN);
    this.#handle = handle;
    const media: Record<string, unknown>[] = [
      {
        type: 'video',
        mid: 'v',
        label: 'video',
        port: 0,
        pt: VIDEO_PT,
        codec: 'h264',
        fmtp: `profile-level-id=${profileLevelId};packetization-mode=1`,
      },
    ];
    if (this.#audio) media.push({ type: 'audio', mid: 'a', label: 'audio', port: 0, pt: AUDIO_PT, codec: 'opus' });
    const request = {
      request: 'create',
      type: 'rtp',
      id: this.mountpointId,
      name: this.metricsLabels.source,
      description: this.metricsLabels.source,
      permanent: false,
      media,
    };
    let created: Record<string, unknown> | undefined;
    try {
      created = await session.message(handle, request);
    } catch (error) {
      // A mountpoint left by an earlier run of the bridge (Janus kept running): replace it.
      if (!(error instanceof FramewireError) || error.details['janusCode'] !== MOUNTPOINT_EXISTS) throw error;
      await session.message(handle, { request: 'destroy', id: this.mountpointId });
      created = await session.message(handle, request);
    }
    const ports = (created?.['stream'] as { ports?: { type: string; port: number }[] } | undefined)?.ports ?? [];
    const video = ports.find((p) => p.type === 'video')?.port;
    if (video === undefined) {
      throw new FramewireError(
        'FW_ERR_JANUS_REFUSED',
        `${this.#options.url} created no video port for the mountpoint`,
        {
          stage: 'janus',
        },
      );
    }
    this.#ports = { video, audio: ports.find((p) => p.type === 'audio')?.port };
  }

  /** Asks Janus about the mountpoint (keeps the session alive); a failure re-creates it. */
  async #check(): Promise<void> {
    const session = this.#session;
    const handle = this.#handle;
    if (this.#closed || !session || handle === undefined) return;
    try {
      const data = await session.message(handle, { request: 'info', id: this.mountpointId });
      const info = data?.['info'] as { viewers?: number; media?: { type: string; age_ms?: number }[] } | undefined;
      this.#viewers = info?.viewers ?? 0;
      this.#videoAgeMs = info?.media?.find((m) => m.type === 'video')?.age_ms;
      this.#schedule(this.#options.checkIntervalMs, () => this.#check());
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    const failure =
      error instanceof FramewireError
        ? error
        : new FramewireError('FW_ERR_CONNECTION_FAILED', String(error), { cause: error, stage: 'janus' });
    const delay = Math.min(this.#options.maxRetryDelayMs, this.#options.retryDelayMs * 2 ** this.#failures);
    this.#failures++;
    this.#lastError = failure;
    this.#ports = undefined;
    this.#viewers = 0;
    this.#videoAgeMs = undefined;
    this.#setState('retrying');
    log.warn(`${this.metricsLabels.source}: Janus ${failure.code}: ${failure.message}; trying again in ${delay} ms`);
    this.#events.emit('error', { error: failure, fatal: false });
    this.#schedule(delay, () => this.#attempt());
  }

  /** Forgets the current API session (destroyed best effort: after a restart Janus no longer knows it). */
  async #dropSession(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#handle = undefined;
    await session?.destroy();
  }

  #schedule(delayMs: number, run: () => Promise<void>): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    // unref: a pending check or retry does not keep the process alive.
    this.#timer = setTimeout(() => void run(), delayMs);
    this.#timer.unref();
  }

  #setState(state: JanusMountpointState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', { state });
  }
}
