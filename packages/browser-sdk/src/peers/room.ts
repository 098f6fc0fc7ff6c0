/// <reference path="../types/globals.d.ts" />
import { FramewireError, TypedEmitter, assertOption, isErrorCode } from '@framewire/core';
import type { PeerInfo, PeerRole, SignalPayload } from '@framewire/signaling/protocol';
import { getCaptureTime } from '../core/capture-time.js';
import type { FrameSource } from '../core/frame-source.js';
import { decodeMessage, encodeMessage, jsonBody, toJsonBody, type Envelope } from '../network/data-framing.js';
import { PeerLink, type IceCandidateFilter, type PeerConnectionConstructor, type PeerLinkStats } from './peer-link.js';
import { RemoteFrameSource, type EncodedFrameMeta } from './remote-frame-source.js';
import { RemoteTrackSource } from './remote-track-source.js';
import {
  SignalingClient,
  type SignalingClientOptions,
  type SignalingState,
  type TokenProvider,
  type WebSocketConstructor,
} from '../network/signaling-client.js';

/** Options of {@link Room.join}. */
export interface RoomOptions {
  /** `ws://` or `wss://` URL of the signaling server's `/ws` endpoint. Required. */
  url: string;
  /** The room to join (the token's room). Required. */
  room: string;
  /** The signaling token, or a function that returns a fresh one on every (re)connect. Required. */
  token: TokenProvider;
  /** JSON shown to the other peers (≤ 1 KiB). Default: none. */
  meta?: Record<string, unknown>;
  /** WebSocket implementation (`ws` in Node). Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** RTCPeerConnection implementation (`wrtc.RTCPeerConnection` in Node). Default: `globalThis.RTCPeerConnection`. */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** Local ICE candidates that fail it are not sent (tests keep loopback only). Default: every candidate is sent. */
  iceCandidateFilter?: IceCandidateFilter;
  /** ICE servers added to the ones the signaling server hands out. Default: none. */
  iceServers?: RTCIceServer[];
  /** `relay` forces every connection through TURN. Default: `all`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Reconnect to the signaling server (resuming the peer id) after a lost connection. Default: true. */
  reconnect?: boolean;
  /** Default timeout of {@link Room.request} and {@link Room.push}, in ms. Default: 10000. */
  requestTimeoutMs?: number;
  /** Largest data message accepted from a peer, in bytes. Default: 64 MiB. */
  maxMessageBytes?: number;
  /** ICE restarts tried before a peer connection fails. Default: 3. */
  maxIceRestarts?: number;
  /**
   * Turns a remote media track into a FrameSource. Default: a `TrackSource` (kind `peer`) stamping frames with their
   * capture time on the sender once known (see {@link Room.stampTrackFrame}), where
   * `MediaStreamTrackProcessor` exists, otherwise none (the `track` event still carries the raw track).
   */
  wrapTrack?: (track: MediaStreamTrack, peerId: string) => FrameSource | undefined;
}

/** How a published source travels. */
export type Delivery = 'track' | 'data';

/** Options of {@link Room.publish}. */
export interface PublishOptions {
  /**
   * `track`: a WebRTC media track (real-time, congestion-controlled, frames may be dropped or scaled).
   * `data`: WebCodecs-encoded frames over the reliable data channel (every frame, exact; capture times travel with
   * them). Default: `track`.
   */
  delivery?: Delivery;
  /** Only these peers receive it. Default: every connected peer, present and future. */
  to?: string[];
  /**
   * `track` only: also send the source's `audioTrack` (a `CameraSource` opened with `audio`, a `BridgeSource` or
   * `WhepSource` with `audio: true`, a room peer's source), in the same media stream as the video so that receivers
   * play the two in sync; `false` sends the video alone. A source without audio sends video alone either way.
   * `data` delivery carries video only. Default: true.
   */
  audio?: boolean;
  /** `data` only: WebCodecs codec string. Default: `vp8`. */
  codec?: string;
  /** `data` only: target bitrate, in bits per second. Default: 1000000. */
  bitrateBps?: number;
  /** `data` only: a key frame every this many frames. Default: 60. */
  keyFrameIntervalFrames?: number;
}

/** A source being published; `close()` stops publishing (the source itself stays open: it is the caller's). */
export interface Publication {
  /** Publication id, unique in this room object. */
  readonly id: number;
  /** How it travels. */
  readonly delivery: Delivery;
  /** Frames sent so far. */
  readonly framesSent: number;
  /** Stops publishing. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link Room.pull}. */
export interface PullOptions {
  /** Items in flight to this consumer at once. Default: 1. */
  prefetch?: number;
}

/** Events of a {@link Room}. */
export type RoomEvents = {
  /** A peer entered the room. */
  'peer-joined': { peer: PeerInfo };
  /** A peer left (its connection is closed and its remote sources end). */
  'peer-left': { peerId: string; reason: string };
  /** A peer connection changed state. */
  'peer-state': { peerId: string; state: RTCPeerConnectionState };
  /** The data channel to a peer opened: messages can flow. */
  'peer-open': { peerId: string };
  /**
   * A remote video arrived: `source` delivers its frames (when it could be wrapped), `track` is the raw track, and
   * `audioTrack` the audio the peer sends in the same media stream (its `publish()` of a source with audio), when it
   * came with the video; the default `source` exposes it as `source.audioTrack` too, also when it comes later.
   */
  track: {
    peerId: string;
    delivery: Delivery;
    source: FrameSource | undefined;
    track: MediaStreamTrack | undefined;
    audioTrack: MediaStreamTrack | undefined;
  };
  /**
   * A remote audio track arrived (beside a video of the same stream, or alone from `publishTrack()` of an audio
   * track). `streamId` is its media stream's id. Play it (`audio.srcObject = new MediaStream([track])`) or record it.
   */
  audio: { peerId: string; track: MediaStreamTrack; streamId: string | undefined };
  /** A data message that is neither a request nor a push. */
  message: { from: string; topic: string; data: unknown };
  /** The signaling connection changed state. */
  signaling: { state: SignalingState };
  /** A failure; `fatal` means the room cannot continue (signaling lost for good). */
  error: { error: FramewireError; fatal: boolean };
};

/** Per-peer statistics of {@link Room.stats}. */
export interface PeerStats extends PeerLinkStats {
  /** The peer. */
  peerId: string;
  /** Glass-to-glass latency of the last frame received over the data channel from this peer, in ms. */
  dataFrameLatencyMs: number | undefined;
  /**
   * Estimated glass-to-glass latency of the peer's media track, in ms: half the round trip plus the jitter buffer
   * (the encode and capture share is not visible in the stats).
   */
  trackLatencyEstimateMs: number | undefined;
  /**
   * Measured glass-to-glass latency of the newest frame of the peer's media tracks (the largest when several), in
   * ms: from its capture on the sender to its arrival here. `undefined` until the capture times sent beside the
   * track are matched to frames (about ten frames), and where frames cannot be read (Node).
   */
  trackLatencyMs: number | undefined;
}

type Handler = (data: unknown, from: string) => unknown;
interface PushItem {
  id: number;
  topic: string;
  body: Uint8Array;
  kind: 'j' | 'b';
  resolve: () => void;
  reject: (error: FramewireError) => void;
  timer: ReturnType<typeof setTimeout>;
  consumer?: string;
}

function encodeData(data: unknown): { kind: 'j' | 'b'; body: Uint8Array } {
  if (data instanceof Uint8Array) return { kind: 'b', body: data };
  if (data instanceof ArrayBuffer) return { kind: 'b', body: new Uint8Array(data) };
  if (ArrayBuffer.isView(data))
    return { kind: 'b', body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  return { kind: 'j', body: toJsonBody(data) };
}

function decodeData(envelope: Envelope, body: Uint8Array): unknown {
  return envelope.k === 'b' ? body.slice() : jsonBody(body);
}

/**
 * A room of peers: joins through the signaling server, keeps one WebRTC connection per peer (mesh; viewers do not
 * connect to each other), and carries NetGear's patterns over it —
 *
 * - **pair** and **bidirectional**: two peers `publish()` and `send()` both ways;
 * - **publish/subscribe**, **multi-client**: one publisher, many viewers; every viewer gets a `track` event;
 * - **multi-server**: several publishers, one viewer gets one `track` per publisher (`peerId` tells them apart);
 * - **request/reply**: `request()` with a timeout, answered by `handle()`;
 * - **push/pull**: `push()` hands each item to exactly one `pull()` consumer (credit-based, re-sent to another
 *   consumer when one leaves before acknowledging).
 *
 * Data messages (JSON or bytes, any size up to `maxMessageBytes`, chunked) travel on the peers' data channel.
 * Runs in browsers, and in Node with `WebSocket` from `ws` and `RTCPeerConnection` from `@roamhq/wrtc`.
 */
export class Room {
  /** The signaling connection. */
  readonly signaling: SignalingClient;
  readonly #options: RoomOptions;
  readonly #Rtc: PeerConnectionConstructor;
  readonly #events = new TypedEmitter<RoomEvents>();
  readonly #links = new Map<string, PeerLink>();
  readonly #roles = new Map<string, PeerRole>();
  readonly #handlers = new Map<string, Handler>();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: FramewireError) => void }>();
  readonly #pullers = new Map<string, { handler: Handler; prefetch: number }>();
  /** Per topic: the consumers' credits by peer id. */
  readonly #consumers = new Map<string, Map<string, number>>();
  readonly #pushQueue: PushItem[] = [];
  readonly #inFlight = new Map<number, PushItem>();
  readonly #tracks = new Map<
    number,
    { track: MediaStreamTrack; stream: MediaStream | undefined; to?: string[]; senders: Map<string, RTCRtpSender> }
  >();
  readonly #dataPubs = new Map<number, { to?: string[]; keyFrame: () => void }>();
  /** Remote `data` publications by `<peer>/<publication>`; `undefined` when they cannot be decoded here. */
  readonly #remoteSources = new Map<string, RemoteFrameSource | undefined>();
  readonly #latency = new Map<string, number>();
  /** Remote media tracks by `<peer>/<stream id>`, to match the capture times their senders announce. */
  readonly #remoteTracks = new Map<string, RemoteTrackSource>();
  #nextId = 1;
  #closed = false;

  private constructor(signaling: SignalingClient, options: RoomOptions, Rtc: PeerConnectionConstructor) {
    this.signaling = signaling;
    this.#options = options;
    this.#Rtc = Rtc;
  }

  /**
   * Joins the room and connects to its peers. Rejects with `FW_ERR_INVALID_OPTION`, `FW_ERR_NOT_SUPPORTED` (no
   * RTCPeerConnection), or a signaling failure (`FW_ERR_SIGNALING_FAILED`, `FW_ERR_UNAUTHORIZED`,
   * `FW_ERR_FORBIDDEN`, `FW_ERR_ROOM_FULL`).
   */
  static async join(options: RoomOptions): Promise<Room> {
    assertOption(typeof options === 'object', 'options must be an object');
    const Rtc =
      options.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection;
    if (!Rtc) {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'No RTCPeerConnection: pass options.RTCPeerConnection (wrtc)', {
        fatal: true,
        stage: 'options',
      });
    }
    assertOption(
      options.requestTimeoutMs === undefined || options.requestTimeoutMs > 0,
      'options.requestTimeoutMs must be > 0',
    );
    const clientOptions: SignalingClientOptions = { url: options.url, room: options.room, token: options.token };
    if (options.meta) clientOptions.meta = options.meta;
    if (options.WebSocket) clientOptions.WebSocket = options.WebSocket;
    if (options.reconnect !== undefined) clientOptions.reconnect = options.reconnect;
    const signaling = await SignalingClient.open(clientOptions);
    const room = new Room(signaling, options, Rtc);
    room.#start();
    return room;
  }

  /** This peer's id. */
  get peerId(): string {
    return this.signaling.peerId;
  }

  /** This peer's role. */
  get role(): PeerRole {
    return this.signaling.role;
  }

  /** The other peers of the room. */
  get peers(): PeerInfo[] {
    return this.signaling.peers;
  }

  /** Ids of the peers whose data channel is open now. */
  get connectedPeers(): string[] {
    return [...this.#links.values()].filter((l) => l.open).map((l) => l.remoteId);
  }

  /** The connection to a peer (for advanced use: `pc`, stats), if any. */
  link(peerId: string): PeerLink | undefined {
    return this.#links.get(peerId);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof RoomEvents>(event: E, listener: (payload: RoomEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves once the data channel to `peerId` (or to any peer, when omitted) is open. */
  waitForPeer(peerId?: string, timeoutMs = 20_000): Promise<string> {
    const ready = [...this.#links.values()].find((l) => l.open && (peerId === undefined || l.remoteId === peerId));
    if (ready) return Promise.resolve(ready.remoteId);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new FramewireError('FW_ERR_TIMEOUT', `no connection to ${peerId ?? 'any peer'} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.#events.on('peer-open', (event) => {
        if (peerId !== undefined && event.peerId !== peerId) return;
        clearTimeout(timer);
        off();
        resolve(event.peerId);
      });
    });
  }

  // ── data ──────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends `data` (JSON, or bytes as `Uint8Array`/`ArrayBuffer`) on `topic` to one peer or, without `to`, to every
   * connected peer. Resolves when handed to the data channel(s). Rejects with `FW_ERR_PEER_NOT_FOUND` or
   * `FW_ERR_CLOSED`.
   */
  async send(topic: string, data: unknown, options: { to?: string } = {}): Promise<void> {
    this.#assertTopic(topic);
    const { kind, body } = encodeData(data);
    const message = encodeMessage({ t: topic, k: kind }, body);
    if (options.to !== undefined) {
      await this.#linkOrThrow(options.to).send(message);
      return;
    }
    await Promise.all([...this.#links.values()].filter((l) => l.open).map((l) => l.send(message)));
  }

  /**
   * Sends a request to peer `to` and resolves with its reply (the value its `handle()` handler returned). Rejects
   * with `FW_ERR_TIMEOUT` after `timeoutMs` (default `requestTimeoutMs`), with the handler's error code when it
   * threw, `FW_ERR_PEER_NOT_FOUND` for an unknown peer.
   */
  async request(to: string, topic: string, data: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    this.#assertTopic(topic);
    const link = this.#linkOrThrow(to);
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? 10_000;
    const { kind, body } = encodeData(data);
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new FramewireError('FW_ERR_TIMEOUT', `no reply to ${topic} from ${to} within ${timeoutMs} ms`, {
            stage: 'request',
          }),
        );
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
    try {
      await link.send(encodeMessage({ t: topic, k: kind, id }, body));
    } catch (error) {
      this.#pending.get(id)?.reject(error as FramewireError);
      this.#pending.delete(id);
    }
    return reply;
  }

  /** Answers requests on `topic` with what `handler` returns (or resolves to). Returns the unsubscribe function. */
  handle(topic: string, handler: (data: unknown, from: string) => unknown): () => void {
    this.#assertTopic(topic);
    this.#handlers.set(topic, handler);
    return () => {
      if (this.#handlers.get(topic) === handler) this.#handlers.delete(topic);
    };
  }

  /**
   * Hands `data` to exactly one consumer that `pull()`s `topic` (round robin over those with credit). Resolves once
   * the consumer's handler finished; an item whose consumer leaves first goes to another one. Rejects with
   * `FW_ERR_TIMEOUT` when no consumer took it within `timeoutMs` (default `requestTimeoutMs`).
   */
  push(topic: string, data: unknown, options: { timeoutMs?: number } = {}): Promise<void> {
    this.#assertTopic(topic);
    const { kind, body } = encodeData(data);
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const item: PushItem = {
        id: this.#nextId++,
        topic,
        body,
        kind,
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.#pushQueue.indexOf(item);
          if (index >= 0) this.#pushQueue.splice(index, 1);
          this.#inFlight.delete(item.id);
          reject(
            new FramewireError('FW_ERR_TIMEOUT', `no consumer finished ${topic} within ${timeoutMs} ms`, {
              stage: 'push',
            }),
          );
        }, timeoutMs),
      };
      this.#pushQueue.push(item);
      this.#dispatch();
    });
  }

  /**
   * Consumes `topic`: every pushing peer hands this peer items, at most `prefetch` at a time; `handler` runs once
   * per item. Returns the function that stops consuming.
   */
  pull(topic: string, handler: (data: unknown, from: string) => unknown, options: PullOptions = {}): () => void {
    this.#assertTopic(topic);
    const prefetch = options.prefetch ?? 1;
    assertOption(Number.isInteger(prefetch) && prefetch > 0, 'options.prefetch must be an integer > 0');
    this.#pullers.set(topic, { handler, prefetch });
    for (const link of this.#links.values()) if (link.open) this.#announcePull(link, topic, prefetch);
    return () => {
      this.#pullers.delete(topic);
      for (const link of this.#links.values()) if (link.open) this.#announcePull(link, topic, 0);
    };
  }

  // ── media ─────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Publishes a FrameSource to the room's peers (see {@link PublishOptions}); with `track` delivery its
   * `audioTrack`, when it has one, goes too (unless `audio: false`). The room reads the source until it ends or the
   * publication closes; frames are handed on and closed by the room (the audio track stays the source's). Throws
   * `FW_ERR_NOT_SUPPORTED` when this browser lacks `MediaStreamTrackGenerator` (`track`) or `VideoEncoder`
   * (`data`), `FW_ERR_INVALID_OPTION` when the source's audio track has ended (publish with `audio: false`).
   */
  publish(source: FrameSource, options: PublishOptions = {}): Publication {
    const delivery = options.delivery ?? 'track';
    assertOption(['track', 'data'].includes(delivery), "options.delivery must be 'track' or 'data'");
    assertOption(options.audio === undefined || typeof options.audio === 'boolean', 'options.audio must be a boolean');
    return delivery === 'track' ? this.#publishTrack(source, options) : this.#publishData(source, options);
  }

  /**
   * Publishes a ready `MediaStreamTrack`: video (a camera track, or wrtc's `RTCVideoSource` track in Node) or audio
   * (a microphone, wrtc's `RTCAudioSource` track). Tracks published with the same `stream` reach the receivers in
   * one media stream, played in sync. Throws `FW_ERR_INVALID_OPTION` for a track that has ended.
   */
  publishTrack(track: MediaStreamTrack, options: { to?: string[]; stream?: MediaStream } = {}): Publication {
    assertLiveTrack(track, 'track');
    const id = this.#nextId++;
    const entry: {
      track: MediaStreamTrack;
      stream: MediaStream | undefined;
      to?: string[];
      senders: Map<string, RTCRtpSender>;
    } = {
      track,
      stream: options.stream ?? (typeof MediaStream === 'function' ? new MediaStream([track]) : undefined),
      senders: new Map(),
    };
    if (options.to) entry.to = options.to;
    this.#tracks.set(id, entry);
    for (const link of this.#links.values()) this.#attachTrack(link, entry);
    let closed = false;
    return {
      id,
      delivery: 'track',
      framesSent: 0,
      close: () => {
        if (closed) return Promise.resolve();
        closed = true;
        this.#tracks.delete(id);
        for (const [peerId, sender] of entry.senders) this.#links.get(peerId)?.removeTrack(sender);
        return Promise.resolve();
      },
    };
  }

  /** Per-peer transport and latency statistics. */
  async stats(): Promise<PeerStats[]> {
    return Promise.all(
      [...this.#links.values()].map(async (link) => {
        const s = await link.stats();
        const track =
          s.rttMs !== undefined && s.jitterBufferMs !== undefined ? s.rttMs / 2 + s.jitterBufferMs : undefined;
        return {
          ...s,
          peerId: link.remoteId,
          dataFrameLatencyMs: this.#latency.get(link.remoteId),
          trackLatencyEstimateMs: track,
          trackLatencyMs: this.#trackLatencyOf(link.remoteId),
        };
      }),
    );
  }

  /**
   * Tells the receivers of track publication `publicationId` when the frame just fed to its track was captured
   * (`captureTimeMs`) and fed (`fedAtMs`), both in ms since the epoch on this machine's clock. Receivers match these
   * to frames by RTP timestamp and stamp each frame with its capture time, so `latencySinceCaptureMs(frame)` and
   * `stats()`' `trackLatencyMs` measure glass-to-glass latency. `publish()` calls it for every frame of a
   * FrameSource and `NodePeer`'s `pushFrame` for its frames; call it when feeding a track given to `publishTrack`.
   */
  stampTrackFrame(publicationId: number, captureTimeMs: number, fedAtMs: number = Date.now()): void {
    const entry = this.#tracks.get(publicationId);
    const streamId = entry?.stream?.id;
    if (!entry || streamId === undefined || entry.senders.size === 0) return;
    const x = { s: streamId, c: captureTimeMs + this.signaling.clockOffsetMs, f: fedAtMs };
    const message = encodeMessage({ t: 'fw.tmeta', k: 'j', x }, new Uint8Array(0));
    for (const peerId of entry.senders.keys()) {
      const link = this.#links.get(peerId);
      if (link?.open) void link.send(message).catch(() => undefined);
    }
  }

  /** Leaves the room: closes every connection, publication and remote source, then the signaling. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    for (const source of this.#remoteSources.values()) await source?.close();
    this.#remoteTracks.clear();
    for (const item of [...this.#pushQueue, ...this.#inFlight.values()]) {
      clearTimeout(item.timer);
      item.reject(new FramewireError('FW_ERR_CLOSED', 'the room was closed'));
    }
    for (const pending of this.#pending.values())
      pending.reject(new FramewireError('FW_ERR_CLOSED', 'the room was closed'));
    this.#pending.clear();
    await this.signaling.close();
    this.#events.removeAllListeners();
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────────────────

  #assertTopic(topic: string): void {
    assertOption(
      typeof topic === 'string' && topic.length > 0 && !topic.startsWith('fw.'),
      'topic must be a non-empty string not starting with "fw."',
    );
    if (this.#closed) throw new FramewireError('FW_ERR_CLOSED', 'the room was closed');
  }

  #linkOrThrow(peerId: string): PeerLink {
    const link = this.#links.get(peerId);
    if (!link) throw new FramewireError('FW_ERR_PEER_NOT_FOUND', `no connection to peer ${peerId}`, { stage: 'data' });
    return link;
  }

  #start(): void {
    const s = this.signaling;
    for (const peer of s.peers) this.#roles.set(peer.peerId, peer.role);
    s.on('peer-joined', ({ peer }) => {
      this.#roles.set(peer.peerId, peer.role);
      this.#events.emit('peer-joined', { peer });
      this.#ensureLink(peer.peerId);
    });
    s.on('peer-left', ({ peerId, reason }) => this.#dropPeer(peerId, reason));
    s.on('signal', ({ from, payload }) => this.#onSignal(from, payload));
    s.on('state', ({ state }) => this.#events.emit('signaling', { state }));
    s.on('error', (event) => this.#events.emit('error', event));
    s.on('welcome', ({ welcome }) => {
      // After a reconnect: peers that left meanwhile are gone; with a new id every connection starts over.
      const present = new Set(welcome.peers.map((p) => p.peerId));
      for (const peerId of [...this.#links.keys()]) {
        if (!welcome.resumed || !present.has(peerId)) this.#dropPeer(peerId, 'left');
      }
      for (const peer of welcome.peers) {
        this.#roles.set(peer.peerId, peer.role);
        this.#ensureLink(peer.peerId);
      }
    });
    for (const peer of s.peers) this.#ensureLink(peer.peerId);
  }

  #shouldLink(peerId: string): boolean {
    return !(this.role === 'viewer' && this.#roles.get(peerId) === 'viewer');
  }

  #ensureLink(peerId: string): PeerLink | undefined {
    if (this.#closed) return undefined;
    const existing = this.#links.get(peerId);
    if (existing) return existing;
    if (!this.#shouldLink(peerId)) return undefined;
    const iceServers = [...this.signaling.iceServers, ...(this.#options.iceServers ?? [])] as RTCIceServer[];
    const configuration: RTCConfiguration = { iceServers };
    if (this.#options.iceTransportPolicy) configuration.iceTransportPolicy = this.#options.iceTransportPolicy;
    const link = new PeerLink({
      remoteId: peerId,
      polite: this.peerId < peerId,
      sendSignal: (payload) => this.signaling.signal(peerId, payload),
      configuration,
      RTCPeerConnection: this.#Rtc,
      ...(this.#options.iceCandidateFilter ? { iceCandidateFilter: this.#options.iceCandidateFilter } : {}),
      ...(this.#options.maxMessageBytes ? { maxMessageBytes: this.#options.maxMessageBytes } : {}),
      ...(this.#options.maxIceRestarts !== undefined ? { maxIceRestarts: this.#options.maxIceRestarts } : {}),
    });
    this.#links.set(peerId, link);
    link.on('state', ({ state }) => this.#events.emit('peer-state', { peerId, state }));
    link.on('open', () => {
      for (const [topic, { prefetch }] of this.#pullers) this.#announcePull(link, topic, prefetch);
      for (const pub of this.#dataPubs.values()) if (!pub.to || pub.to.includes(peerId)) pub.keyFrame();
      this.#events.emit('peer-open', { peerId });
    });
    link.on('message', ({ bytes }) => void this.#onData(peerId, bytes));
    link.on('track', ({ track, streams }) => {
      const stream = streams[0];
      if (track.kind === 'audio') {
        this.#events.emit('audio', { peerId, track, streamId: stream?.id });
        return;
      }
      let source: FrameSource | undefined;
      if (this.#options.wrapTrack) source = this.#options.wrapTrack(track, peerId);
      else if (typeof MediaStreamTrackProcessor === 'function') {
        const remote = new RemoteTrackSource(track, stream);
        if (stream !== undefined) this.#remoteTracks.set(`${peerId}/${stream.id}`, remote);
        source = remote;
      }
      // The tracks of one offer join their streams before the first track event: the audio is there already.
      const audioTrack = stream?.getAudioTracks()[0];
      this.#events.emit('track', { peerId, delivery: 'track', track, source, audioTrack });
    });
    link.on('error', (event) => {
      this.#events.emit('error', { error: event.error, fatal: false });
      if (event.fatal) this.#links.delete(peerId);
    });
    link.on('close', () => {
      if (this.#links.get(peerId) === link) this.#links.delete(peerId);
      this.#forgetConsumer(peerId);
    });
    for (const entry of this.#tracks.values()) this.#attachTrack(link, entry);
    return link;
  }

  #attachTrack(
    link: PeerLink,
    entry: {
      track: MediaStreamTrack;
      stream: MediaStream | undefined;
      to?: string[];
      senders: Map<string, RTCRtpSender>;
    },
  ): void {
    if (entry.to && !entry.to.includes(link.remoteId)) return;
    if (entry.senders.has(link.remoteId)) return;
    entry.senders.set(link.remoteId, link.addTrack(entry.track, entry.stream));
  }

  #onSignal(from: string, payload: SignalPayload): void {
    // A signal can overtake the peer-joined announcement (another process, a reconnect): link on demand.
    if (!this.#roles.has(from)) this.#roles.set(from, 'publisher');
    const link = this.#links.get(from) ?? (payload.kind === 'bye' ? undefined : this.#ensureLink(from));
    link?.handleSignal(payload);
  }

  #dropPeer(peerId: string, reason: string): void {
    const link = this.#links.get(peerId);
    this.#links.delete(peerId);
    link?.close(true);
    this.#roles.delete(peerId);
    this.#forgetConsumer(peerId);
    for (const [key, source] of this.#remoteSources) {
      if (key.startsWith(`${peerId}/`)) {
        this.#remoteSources.delete(key);
        void source?.end();
      }
    }
    for (const entry of this.#tracks.values()) entry.senders.delete(peerId);
    for (const key of this.#remoteTracks.keys()) if (key.startsWith(`${peerId}/`)) this.#remoteTracks.delete(key);
    this.#events.emit('peer-left', { peerId, reason });
  }

  /** The largest measured latency of `peerId`'s media tracks, or `undefined`. */
  #trackLatencyOf(peerId: string): number | undefined {
    let latency: number | undefined;
    for (const [key, source] of this.#remoteTracks) {
      const ms = key.startsWith(`${peerId}/`) ? source.lastLatencyMs : undefined;
      if (ms !== undefined && (latency === undefined || ms > latency)) latency = ms;
    }
    return latency;
  }

  async #onData(from: string, bytes: Uint8Array): Promise<void> {
    let envelope: Envelope;
    let body: Uint8Array;
    try {
      ({ envelope, body } = decodeMessage(bytes));
    } catch (error) {
      this.#events.emit('error', { error: error as FramewireError, fatal: false });
      return;
    }
    const link = this.#links.get(from);
    switch (envelope.t) {
      case 'fw.frame':
        this.#onFrame(from, envelope, body);
        return;
      case 'fw.frame-end': {
        const key = `${from}/${String(envelope.x?.['pub'])}`;
        const source = this.#remoteSources.get(key);
        this.#remoteSources.delete(key);
        await source?.end();
        return;
      }
      case 'fw.tmeta': {
        const [streamId, c, f] = [envelope.x?.['s'], envelope.x?.['c'], envelope.x?.['f']];
        // The sender stated the capture time on the signaling server's clock: bring it to this one.
        if (typeof c === 'number' && typeof f === 'number') {
          this.#remoteTracks
            .get(`${from}/${String(streamId)}`)
            ?.clock.addMeta({ c: c - this.signaling.clockOffsetMs, f });
        }
        return;
      }
      case 'fw.keyframe':
        for (const [id, pub] of this.#dataPubs) if (id === envelope.x?.['pub']) pub.keyFrame();
        return;
      case 'fw.pull': {
        const topic = envelope.x?.['topic'];
        const credits = envelope.x?.['credits'];
        if (typeof topic !== 'string' || typeof credits !== 'number') return;
        let consumers = this.#consumers.get(topic);
        if (!consumers) {
          consumers = new Map();
          this.#consumers.set(topic, consumers);
        }
        if (credits > 0) consumers.set(from, credits);
        else consumers.delete(from);
        this.#dispatch();
        return;
      }
      case 'fw.push': {
        const topic = envelope.x?.['topic'];
        const puller = typeof topic === 'string' ? this.#pullers.get(topic) : undefined;
        let err: Envelope['err'];
        if (!puller) err = { code: 'FW_ERR_PEER_NOT_FOUND', message: `not consuming ${String(topic)}` };
        else {
          try {
            await puller.handler(decodeData(envelope, body), from);
          } catch (error) {
            err = errorReply(error);
          }
        }
        const ack: Envelope = { t: 'fw.ack', k: 'j', re: envelope.id ?? 0 };
        if (err) ack.err = err;
        await link?.send(encodeMessage(ack, new Uint8Array(0))).catch(() => undefined);
        return;
      }
      case 'fw.ack': {
        const item = this.#inFlight.get(envelope.re ?? -1);
        if (!item) return;
        this.#inFlight.delete(item.id);
        const consumers = this.#consumers.get(item.topic);
        if (item.consumer && consumers?.has(item.consumer))
          consumers.set(item.consumer, (consumers.get(item.consumer) ?? 0) + 1);
        if (envelope.err?.code === 'FW_ERR_PEER_NOT_FOUND') {
          // That consumer stopped pulling: give the item to someone else.
          if (item.consumer) consumers?.delete(item.consumer);
          this.#pushQueue.unshift(item);
        } else {
          clearTimeout(item.timer);
          if (envelope.err) item.reject(replyError(envelope.err));
          else item.resolve();
        }
        this.#dispatch();
        return;
      }
      default:
        break;
    }
    if (envelope.re !== undefined) {
      const pending = this.#pending.get(envelope.re);
      this.#pending.delete(envelope.re);
      if (envelope.err) pending?.reject(replyError(envelope.err));
      else pending?.resolve(decodeData(envelope, body));
      return;
    }
    if (envelope.id !== undefined) {
      const handler = this.#handlers.get(envelope.t);
      let reply: Envelope = { t: envelope.t, k: 'j', re: envelope.id };
      let replyBody: Uint8Array = new Uint8Array(0);
      if (!handler) reply.err = { code: 'FW_ERR_PEER_NOT_FOUND', message: `no handler for ${envelope.t}` };
      else {
        try {
          const encoded = encodeData(await handler(decodeData(envelope, body), from));
          reply = { ...reply, k: encoded.kind };
          replyBody = encoded.body;
        } catch (error) {
          reply.err = errorReply(error);
        }
      }
      await link?.send(encodeMessage(reply, replyBody)).catch(() => undefined);
      return;
    }
    this.#events.emit('message', { from, topic: envelope.t, data: decodeData(envelope, body) });
  }

  #announcePull(link: PeerLink, topic: string, credits: number): void {
    void link
      .send(encodeMessage({ t: 'fw.pull', k: 'j', x: { topic, credits } }, new Uint8Array(0)))
      .catch(() => undefined);
  }

  /** Sends queued push items to consumers with credit, round robin. */
  #dispatch(): void {
    for (let i = 0; i < this.#pushQueue.length;) {
      const item = this.#pushQueue[i];
      if (!item) break;
      const consumers = this.#consumers.get(item.topic);
      const choice =
        consumers && [...consumers].find(([peerId, credits]) => credits > 0 && this.#links.get(peerId)?.open);
      if (!consumers || !choice) {
        i++;
        continue;
      }
      const [peerId, credits] = choice;
      // Round robin: the chosen consumer moves to the back.
      consumers.delete(peerId);
      consumers.set(peerId, credits - 1);
      this.#pushQueue.splice(i, 1);
      item.consumer = peerId;
      this.#inFlight.set(item.id, item);
      const message = encodeMessage({ t: 'fw.push', k: item.kind, id: item.id, x: { topic: item.topic } }, item.body);
      this.#links
        .get(peerId)
        ?.send(message)
        .catch(() => {
          this.#inFlight.delete(item.id);
          this.#pushQueue.unshift(item);
        });
    }
  }

  /** A consumer went away: what it had not acknowledged goes back to the front of the queue. */
  #forgetConsumer(peerId: string): void {
    for (const consumers of this.#consumers.values()) consumers.delete(peerId);
    const orphans = [...this.#inFlight.values()].filter((item) => item.consumer === peerId);
    for (const item of orphans) {
      this.#inFlight.delete(item.id);
      delete item.consumer;
    }
    this.#pushQueue.unshift(...orphans);
    if (orphans.length > 0) this.#dispatch();
  }

  #onFrame(from: string, envelope: Envelope, body: Uint8Array): void {
    const meta = envelope.x as unknown as EncodedFrameMeta | undefined;
    if (!meta || typeof meta.pub !== 'number' || typeof meta.codec !== 'string') return;
    const key = `${from}/${meta.pub}`;
    if (this.#remoteSources.has(key) && !this.#remoteSources.get(key)) return;
    let source = this.#remoteSources.get(key);
    if (!source) {
      try {
        source = new RemoteFrameSource(from, () => this.signaling.clockOffsetMs);
      } catch (error) {
        // No WebCodecs here (Node): report once per publication and ignore its frames.
        this.#remoteSources.set(key, undefined);
        this.#events.emit('error', { error: error as FramewireError, fatal: false });
        return;
      }
      const created = source;
      this.#remoteSources.set(key, source);
      source.on('end', () => {
        if (this.#remoteSources.get(key) === created) this.#remoteSources.delete(key);
      });
      this.#events.emit('track', { peerId: from, delivery: 'data', source, track: undefined, audioTrack: undefined });
      if (!meta.key)
        void this.#links
          .get(from)
          ?.send(encodeMessage({ t: 'fw.keyframe', k: 'j', x: { pub: meta.pub } }, new Uint8Array(0)))
          .catch(() => undefined);
    }
    if (meta.captureServerMs !== undefined) {
      this.#latency.set(from, Date.now() - (meta.captureServerMs - this.signaling.clockOffsetMs));
    }
    source.push(meta, body.slice());
  }

  #publishTrack(source: FrameSource, options: PublishOptions): Publication {
    const Generator = globalThis.MediaStreamTrackGenerator;
    if (typeof Generator !== 'function') {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'MediaStreamTrackGenerator is not available in this browser', {
        fatal: true,
        stage: 'publish',
      });
    }
    const audioTrack = options.audio === false ? undefined : source.audioTrack;
    if (audioTrack) assertLiveTrack(audioTrack, 'source.audioTrack');
    const generator = new Generator({ kind: 'video' });
    const writer = generator.writable.getWriter();
    // One media stream for the video and its audio: one msid, so that receivers play them in sync.
    const stream =
      typeof MediaStream === 'function'
        ? new MediaStream(audioTrack ? [generator, audioTrack] : [generator])
        : undefined;
    const to = options.to ? { to: options.to } : {};
    const publication = this.publishTrack(generator, { ...to, ...(stream ? { stream } : {}) });
    const audioPublication = audioTrack
      ? this.publishTrack(audioTrack, { ...to, ...(stream ? { stream } : {}) })
      : undefined;
    let framesSent = 0;
    let stopped = false;
    const isStopped = (): boolean => stopped;
    const pump = (async () => {
      try {
        for (let frame = await source.read(); frame; frame = await source.read()) {
          if (isStopped()) {
            frame.close();
            break;
          }
          const capturedMs = getCaptureTime(frame) ?? Date.now();
          // Chromium derives the RTP timestamp from the frame's own timestamp (µs), not from when it is written.
          const fedMs = frame.timestamp / 1000;
          // The generator takes the frame and closes it once sent.
          await writer.write(frame);
          this.stampTrackFrame(publication.id, capturedMs, fedMs);
          framesSent++;
        }
      } catch (error) {
        if (!isStopped())
          this.#events.emit('error', {
            error: new FramewireError('FW_ERR_CLOSED', 'publishing a track failed', { cause: error, stage: 'publish' }),
            fatal: false,
          });
      }
    })();
    return {
      id: publication.id,
      delivery: 'track',
      get framesSent() {
        return framesSent;
      },
      close: async () => {
        if (stopped) return;
        stopped = true;
        await publication.close();
        await audioPublication?.close();
        await writer.close().catch(() => undefined);
        generator.stop();
        await pump;
      },
    };
  }

  #publishData(source: FrameSource, options: PublishOptions): Publication {
    if (typeof VideoEncoder !== 'function') {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'VideoEncoder is not available here', {
        fatal: true,
        stage: 'publish',
      });
    }
    const id = this.#nextId++;
    const codec = options.codec ?? 'vp8';
    const keyInterval = options.keyFrameIntervalFrames ?? 60;
    let needKey = true;
    let framesSent = 0;
    let stopped = false;
    let seq = 0;
    const isStopped = (): boolean => stopped;
    let size = { width: 0, height: 0 };
    const captures = new Map<number, number | undefined>();
    const targets = (): PeerLink[] =>
      [...this.#links.values()].filter((l) => l.open && (!options.to || options.to.includes(l.remoteId)));
    const encoder = new VideoEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        const capture = captures.get(chunk.timestamp);
        captures.delete(chunk.timestamp);
        const meta: EncodedFrameMeta = {
          pub: id,
          seq: seq++,
          codec,
          key: chunk.type === 'key',
          timestampUs: chunk.timestamp,
          width: size.width,
          height: size.height,
        };
        if (capture !== undefined) meta.captureServerMs = capture + this.signaling.clockOffsetMs;
        const message = encodeMessage({ t: 'fw.frame', k: 'b', x: meta as unknown as Record<string, unknown> }, data);
        framesSent++;
        for (const link of targets()) link.send(message).catch(() => undefined);
      },
      error: (error) =>
        this.#events.emit('error', {
          error: new FramewireError('FW_ERR_ENCODE_FAILED', 'encoding a published source failed', {
            cause: error,
            stage: 'publish',
          }),
          fatal: false,
        }),
    });
    this.#dataPubs.set(id, { ...(options.to ? { to: options.to } : {}), keyFrame: () => (needKey = true) });
    const pump = (async () => {
      let count = 0;
      for (let frame = await source.read(); frame; frame = await source.read()) {
        if (isStopped()) {
          frame.close();
          break;
        }
        if (encoder.state === 'unconfigured') {
          size = { width: frame.codedWidth, height: frame.codedHeight };
          encoder.configure({
            codec,
            width: size.width,
            height: size.height,
            bitrate: options.bitrateBps ?? 1_000_000,
            latencyMode: 'realtime',
          });
        }
        if (encoder.state !== 'configured') {
          frame.close();
          break;
        }
        captures.set(frame.timestamp, getCaptureTime(frame));
        const keyFrame = needKey || count % keyInterval === 0;
        needKey = false;
        count++;
        encoder.encode(frame, { keyFrame });
        frame.close();
        // Backpressure: the encoder and the slowest peer's channel bound what is in flight.
        while (encoder.encodeQueueSize > 2) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (encoder.state === 'configured') await encoder.flush().catch(() => undefined);
    })();
    return {
      id,
      delivery: 'data',
      get framesSent() {
        return framesSent;
      },
      close: async () => {
        if (stopped) return;
        stopped = true;
        this.#dataPubs.delete(id);
        await pump.catch(() => undefined);
        if (encoder.state !== 'closed') encoder.close();
        const end = encodeMessage({ t: 'fw.frame-end', k: 'j', x: { pub: id } }, new Uint8Array(0));
        await Promise.all(targets().map((l) => l.send(end).catch(() => undefined)));
      },
    };
  }
}

/** Throws `FW_ERR_INVALID_OPTION` naming `what` when `track` has ended: it would send nothing. */
function assertLiveTrack(track: MediaStreamTrack, what: string): void {
  assertOption(
    track.readyState !== 'ended',
    `${what} has ended (a stopped or unplugged ${track.kind} track): it cannot be published`,
  );
}

function errorReply(error: unknown): { code: string; message: string } {
  if (error instanceof FramewireError) return { code: error.code, message: error.message };
  return { code: 'FW_ERR_PROCESS_FAILED', message: error instanceof Error ? error.message : String(error) };
}

function replyError(err: { code: string; message: string }): FramewireError {
  return new FramewireError(isErrorCode(err.code) ? err.code : 'FW_ERR_PROCESS_FAILED', err.message, {
    stage: 'reply',
  });
}
