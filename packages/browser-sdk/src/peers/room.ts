/*
 * The Room facade: what a user calls. Each role lives in its own file beside it: the mesh of peer links
 * (peer-mesh.ts), the typed data-channel messages (peer-message.ts), request/reply (request-reply.ts), the work
 * queue (work-queue.ts), the track and data publishers (track-publisher.ts, data-publisher.ts) and what the peers
 * publish, received (media-receiver.ts). The room wires them together and routes each parsed message to its part.
 */
import { FramewireError, TypedEmitter, assertOption } from '@framewire/core';
import type { PeerInfo, PeerRole } from '@framewire/signaling/protocol';
import type { FrameSource } from '../core/frame-source.js';
import {
  SignalingClient,
  type SignalingClientOptions,
  type TokenProvider,
  type WebSocketConstructor,
} from '../network/signaling-client.js';
import { DataPublisher } from './data-publisher.js';
import { MediaReceiver } from './media-receiver.js';
import { encodePeerMessage, fromPayload, parsePeerMessage, toPayload } from './peer-message.js';
import type { IceCandidateFilter, PeerConnectionConstructor, PeerLink, PeerLinkStats } from './peer-link.js';
import { PeerMesh } from './peer-mesh.js';
import type { Publication, PublishOptions } from './publication.js';
import { RequestReply } from './request-reply.js';
import type { RoomEvents } from './room-events.js';
import { TrackPublisher } from './track-publisher.js';
import { WorkQueue } from './work-queue.js';

/** Options of {@link Room.open}. */
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
  /** ICE restarts tried before a peer connection fails. Default: 5 (an outage of about 90 s). */
  maxIceRestarts?: number;
  /**
   * Turns a remote media track into a FrameSource. Default: a `TrackSource` (kind `peer`) stamping frames with their
   * capture time on the sender once known (see {@link Room.stampTrackFrame}), where
   * `MediaStreamTrackProcessor` exists, otherwise none (the `track` event still carries the raw track).
   */
  wrapTrack?: (track: MediaStreamTrack, peerId: string) => FrameSource | undefined;
}

/** Options of {@link Room.pull}. */
export interface PullOptions {
  /** Items in flight to this consumer at once. Default: 1. */
  prefetch?: number;
}

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
  readonly #events = new TypedEmitter<RoomEvents>();
  readonly #mesh: PeerMesh;
  readonly #requests: RequestReply;
  readonly #work: WorkQueue;
  readonly #tracks: TrackPublisher;
  readonly #data: DataPublisher;
  readonly #receiver: MediaReceiver;
  /** One id counter for requests, push items and publications (publication ids are unique in the room). */
  #nextId = 1;
  #closed = false;

  private constructor(signaling: SignalingClient, options: RoomOptions, Rtc: PeerConnectionConstructor) {
    this.signaling = signaling;
    this.#options = options;
    const mesh = new PeerMesh(signaling, {
      RTCPeerConnection: Rtc,
      ...(options.iceServers ? { iceServers: options.iceServers } : {}),
      ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
      ...(options.iceCandidateFilter ? { iceCandidateFilter: options.iceCandidateFilter } : {}),
      ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
      ...(options.maxIceRestarts !== undefined ? { maxIceRestarts: options.maxIceRestarts } : {}),
    });
    const nextId = (): number => this.#nextId++;
    const clockOffsetMs = (): number => signaling.clockOffsetMs;
    this.#mesh = mesh;
    this.#requests = new RequestReply(mesh, nextId);
    this.#work = new WorkQueue(mesh, nextId);
    this.#tracks = new TrackPublisher(mesh, nextId, clockOffsetMs, this.#events);
    this.#data = new DataPublisher(mesh, nextId, clockOffsetMs, this.#events);
    this.#receiver = new MediaReceiver(mesh, clockOffsetMs, this.#events, options.wrapTrack);
  }

  /**
   * Joins the room and connects to its peers. Rejects with `FW_ERR_INVALID_OPTION`, `FW_ERR_NOT_SUPPORTED` (no
   * RTCPeerConnection), or a signaling failure (`FW_ERR_SIGNALING_FAILED`, `FW_ERR_UNAUTHORIZED`,
   * `FW_ERR_FORBIDDEN`, `FW_ERR_ROOM_FULL`).
   */
  static async open(options: RoomOptions): Promise<Room> {
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
  /**
   * The same as {@link Room.open}.
   * @deprecated Use `Room.open()` (one construction verb: `open` for everything that connects; docs/guides/names.md).
   * Kept for one release.
   */
  static join(options: RoomOptions): Promise<Room> {
    return Room.open(options);
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
    return this.#mesh.openLinks().map((l) => l.remoteId);
  }

  /** The connection to a peer (for advanced use: `pc`, stats), if any. */
  link(peerId: string): PeerLink | undefined {
    return this.#mesh.get(peerId);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof RoomEvents>(event: E, listener: (payload: RoomEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves once the data channel to `peerId` (or to any peer, when omitted) is open. */
  waitForPeer(peerId?: string, timeoutMs = 20_000): Promise<string> {
    const ready = this.#mesh.openLinks().find((l) => peerId === undefined || l.remoteId === peerId);
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
    const message = encodePeerMessage({ type: 'message', topic, payload: toPayload(data) });
    if (options.to !== undefined) {
      await this.#mesh.linkOrThrow(options.to).send(message);
      return;
    }
    await Promise.all(this.#mesh.openLinks().map((l) => l.send(message)));
  }

  /**
   * Sends a request to peer `to` and resolves with its reply (the value its `handle()` handler returned). Rejects
   * with `FW_ERR_TIMEOUT` after `timeoutMs` (default `requestTimeoutMs`), with the handler's error code when it
   * threw, `FW_ERR_PEER_NOT_FOUND` for an unknown peer.
   */
  async request(to: string, topic: string, data: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    this.#assertTopic(topic);
    return this.#requests.request(to, topic, data, options.timeoutMs ?? this.#requestTimeoutMs());
  }

  /** Answers requests on `topic` with what `handler` returns (or resolves to). Returns the unsubscribe function. */
  handle(topic: string, handler: (data: unknown, from: string) => unknown): () => void {
    this.#assertTopic(topic);
    return this.#requests.handle(topic, handler);
  }

  /**
   * Hands `data` to exactly one consumer that `pull()`s `topic` (round robin over those with credit). Resolves once
   * the consumer's handler finished; an item whose consumer leaves first goes to another one. Rejects with
   * `FW_ERR_TIMEOUT` when no consumer took it within `timeoutMs` (default `requestTimeoutMs`).
   */
  push(topic: string, data: unknown, options: { timeoutMs?: number } = {}): Promise<void> {
    this.#assertTopic(topic);
    return this.#work.push(topic, data, options.timeoutMs ?? this.#requestTimeoutMs());
  }

  /**
   * Consumes `topic`: every pushing peer hands this peer items, at most `prefetch` at a time; `handler` runs once
   * per item. Returns the function that stops consuming.
   */
  pull(topic: string, handler: (data: unknown, from: string) => unknown, options: PullOptions = {}): () => void {
    this.#assertTopic(topic);
    return this.#work.pull(topic, handler, options.prefetch ?? 1);
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
    return delivery === 'track' ? this.#tracks.publishSource(source, options) : this.#data.publish(source, options);
  }

  /**
   * Publishes a ready `MediaStreamTrack`: video (a camera track, or wrtc's `RTCVideoSource` track in Node) or audio
   * (a microphone, wrtc's `RTCAudioSource` track). Tracks published with the same `stream` reach the receivers in
   * one media stream, played in sync. Throws `FW_ERR_INVALID_OPTION` for a track that has ended.
   */
  publishTrack(track: MediaStreamTrack, options: { to?: string[]; stream?: MediaStream } = {}): Publication {
    return this.#tracks.publishTrack(track, options);
  }

  /** Per-peer transport and latency statistics. */
  async stats(): Promise<PeerStats[]> {
    return Promise.all(
      this.#mesh.links().map(async (link) => {
        const s = await link.stats();
        const track =
          s.rttMs !== undefined && s.jitterBufferMs !== undefined ? s.rttMs / 2 + s.jitterBufferMs : undefined;
        return {
          ...s,
          peerId: link.remoteId,
          dataFrameLatencyMs: this.#receiver.dataFrameLatencyMs(link.remoteId),
          trackLatencyEstimateMs: track,
          trackLatencyMs: this.#receiver.trackLatencyMs(link.remoteId),
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
    this.#tracks.stampTrackFrame(publicationId, captureTimeMs, fedAtMs);
  }

  /** Leaves the room: closes every connection, publication and remote source, then the signaling. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#mesh.close();
    await this.#receiver.close();
    this.#work.close();
    this.#requests.close();
    await this.signaling.close();
    this.#events.removeAllListeners();
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────────────────

  #requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs ?? 10_000;
  }

  #assertTopic(topic: string): void {
    assertOption(
      typeof topic === 'string' && topic.length > 0 && !topic.startsWith('fw.'),
      'topic must be a non-empty string not starting with "fw."',
    );
    if (this.#closed) throw new FramewireError('FW_ERR_CLOSED', 'the room was closed');
  }

  /** Wires the parts together: the mesh's peers and links feed the publishers, the receiver and the queues. */
  #start(): void {
    const mesh = this.#mesh;
    mesh.on('peer-joined', ({ peer }) => this.#events.emit('peer-joined', { peer }));
    mesh.on('peer-left', ({ peerId, reason }) => {
      this.#work.forgetConsumer(peerId);
      this.#receiver.forgetPeer(peerId);
      this.#tracks.forgetPeer(peerId);
      this.#events.emit('peer-left', { peerId, reason });
    });
    mesh.on('link', ({ link }) => this.#wireLink(link));
    this.signaling.on('state', ({ state }) => this.#events.emit('signaling', { state }));
    this.signaling.on('error', (event) => this.#events.emit('error', event));
    mesh.start();
  }

  #wireLink(link: PeerLink): void {
    const peerId = link.remoteId;
    link.on('state', ({ state }) => this.#events.emit('peer-state', { peerId, state }));
    link.on('open', () => {
      this.#work.announceTo(link);
      this.#data.onPeerOpen(peerId);
      this.#events.emit('peer-open', { peerId });
    });
    link.on('message', ({ bytes }) => void this.#onMessage(peerId, bytes));
    link.on('track', ({ track, streams }) => this.#receiver.onTrack(peerId, track, streams));
    link.on('error', (event) => this.#events.emit('error', { error: event.error, fatal: false }));
    link.on('close', () => this.#work.forgetConsumer(peerId));
    this.#tracks.attachTo(link);
  }

  /** Routes one message of a peer to the part it is for; a malformed one is a non-fatal `FW_ERR_BAD_MESSAGE`. */
  async #onMessage(from: string, bytes: Uint8Array): Promise<void> {
    try {
      const message = parsePeerMessage(bytes);
      switch (message.type) {
        case 'frame':
          this.#receiver.onFrame(from, message);
          return;
        case 'frame-end':
          await this.#receiver.onFrameEnd(from, message.pub);
          return;
        case 'track-meta':
          this.#receiver.onTrackMeta(from, message);
          return;
        case 'keyframe-request':
          this.#data.requestKeyFrame(message.pub);
          return;
        case 'pull':
          this.#work.onPull(from, message);
          return;
        case 'push':
          await this.#work.onPush(from, message);
          return;
        case 'ack':
          this.#work.onAck(message);
          return;
        case 'reply':
          this.#requests.onReply(message);
          return;
        case 'request':
          await this.#requests.onRequest(from, message);
          return;
        case 'message':
          this.#events.emit('message', { from, topic: message.topic, data: fromPayload(message.payload) });
          return;
      }
    } catch (error) {
      const wrapped =
        error instanceof FramewireError
          ? error
          : new FramewireError('FW_ERR_BAD_MESSAGE', 'a peer message could not be handled', {
              cause: error,
              stage: 'data',
            });
      this.#events.emit('error', { error: wrapped, fatal: false });
    }
  }
}
