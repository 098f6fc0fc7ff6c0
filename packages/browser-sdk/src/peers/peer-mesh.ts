import { FramewireError, TypedEmitter } from '@framewire/core';
import type { PeerInfo, PeerRole, SignalPayload } from '@framewire/signaling/protocol';
import type { SignalingClient } from '../network/signaling-client.js';
import { PeerLink, type IceCandidateFilter, type PeerConnectionConstructor } from './peer-link.js';

/** Options of a {@link PeerMesh}: how its peer connections are made. */
export interface PeerMeshOptions {
  /** The RTCPeerConnection implementation. Required. */
  RTCPeerConnection: PeerConnectionConstructor;
  /** ICE servers added to the ones the signaling server hands out. Default: none. */
  iceServers?: RTCIceServer[];
  /** `relay` forces every connection through TURN. Default: `all`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Local ICE candidates that fail it are not sent. Default: every candidate is sent. */
  iceCandidateFilter?: IceCandidateFilter;
  /** Largest data message accepted from a peer, in bytes. Default: the PeerLink's. */
  maxMessageBytes?: number;
  /** ICE restarts tried before a peer connection fails. Default: the PeerLink's. */
  maxIceRestarts?: number;
}

/** Events of a {@link PeerMesh}. */
export type PeerMeshEvents = {
  /** A peer entered the room (before its link is made). */
  'peer-joined': { peer: PeerInfo };
  /** A link to a peer was made: subscribe to its events here (its tracks and messages follow). */
  link: { link: PeerLink };
  /** A peer left, or was dropped after a reconnect: its link is closed and gone. */
  'peer-left': { peerId: string; reason: string };
};

/**
 * The room's mesh: one {@link PeerLink} per peer the signaling server announces (viewers do not link to each other),
 * made on announcement or on a peer's first signal, dropped when the peer leaves, and rebuilt after a signaling
 * reconnect (resumed peers keep their links; with a new id every link starts over).
 */
export class PeerMesh {
  readonly #signaling: SignalingClient;
  readonly #options: PeerMeshOptions;
  readonly #events = new TypedEmitter<PeerMeshEvents>();
  readonly #links = new Map<string, PeerLink>();
  readonly #roles = new Map<string, PeerRole>();
  #closed = false;

  /** @param signaling the room's signaling connection; @param options how peer connections are made. */
  constructor(signaling: SignalingClient, options: PeerMeshOptions) {
    this.#signaling = signaling;
    this.#options = options;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof PeerMeshEvents>(event: E, listener: (payload: PeerMeshEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Links to the peers present and follows the signaling's announcements. Call once, after subscribing. */
  start(): void {
    const s = this.#signaling;
    for (const peer of s.peers) this.#roles.set(peer.peerId, peer.role);
    s.on('peer-joined', ({ peer }) => {
      this.#roles.set(peer.peerId, peer.role);
      this.#events.emit('peer-joined', { peer });
      this.#ensureLink(peer.peerId);
    });
    s.on('peer-left', ({ peerId, reason }) => this.#dropPeer(peerId, reason));
    s.on('signal', ({ from, payload }) => this.#onSignal(from, payload));
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

  /** The link to a peer, if any. */
  get(peerId: string): PeerLink | undefined {
    return this.#links.get(peerId);
  }

  /** Every link, open or not. */
  links(): PeerLink[] {
    return [...this.#links.values()];
  }

  /** The links whose data channel is open, only to the peers in `to` when given. */
  openLinks(to?: readonly string[]): PeerLink[] {
    return [...this.#links.values()].filter((l) => l.open && (!to || to.includes(l.remoteId)));
  }

  /** The link to `peerId`; throws `FW_ERR_PEER_NOT_FOUND` when there is none. */
  linkOrThrow(peerId: string): PeerLink {
    const link = this.#links.get(peerId);
    if (!link) throw new FramewireError('FW_ERR_PEER_NOT_FOUND', `no connection to peer ${peerId}`, { stage: 'data' });
    return link;
  }

  /** Closes every link; no link is made afterwards. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
  }

  #shouldLink(peerId: string): boolean {
    return !(this.#signaling.role === 'viewer' && this.#roles.get(peerId) === 'viewer');
  }

  #ensureLink(peerId: string): PeerLink | undefined {
    if (this.#closed) return undefined;
    const existing = this.#links.get(peerId);
    if (existing) return existing;
    if (!this.#shouldLink(peerId)) return undefined;
    const options = this.#options;
    const iceServers = [...this.#signaling.iceServers, ...(options.iceServers ?? [])] as RTCIceServer[];
    const configuration: RTCConfiguration = { iceServers };
    if (options.iceTransportPolicy) configuration.iceTransportPolicy = options.iceTransportPolicy;
    const link = new PeerLink({
      remoteId: peerId,
      polite: this.#signaling.peerId < peerId,
      sendSignal: (payload) => this.#signaling.signal(peerId, payload),
      configuration,
      RTCPeerConnection: options.RTCPeerConnection,
      ...(options.iceCandidateFilter ? { iceCandidateFilter: options.iceCandidateFilter } : {}),
      ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
      ...(options.maxIceRestarts !== undefined ? { maxIceRestarts: options.maxIceRestarts } : {}),
    });
    this.#links.set(peerId, link);
    link.on('close', () => {
      if (this.#links.get(peerId) === link) this.#links.delete(peerId);
    });
    this.#events.emit('link', { link });
    // After the room's listeners: the room reports the error first, then the link is gone.
    link.on('error', (event) => {
      if (event.fatal) this.#links.delete(peerId);
    });
    return link;
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
    this.#events.emit('peer-left', { peerId, reason });
  }
}
