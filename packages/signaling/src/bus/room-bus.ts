import type { PeerInfo, PeerLeftMessage, ServerMessage } from '../protocol.js';

/** A room member as the bus stores it: the public info plus where it lives and how to resume it. */
export interface PeerRecord {
  /** What the other peers see. */
  info: PeerInfo;
  /** The id of the signaling process that holds the peer's socket. */
  node: string;
  /** SHA-256 (hex) of the peer's resume key. */
  resumeKeyHash: string;
  /** Set while the peer's socket is gone: the id can be resumed until then (ms since the epoch). */
  awayUntilMs?: number;
}

/** What signaling processes tell each other about a room. */
export type BusEvent =
  | { kind: 'joined'; peer: PeerInfo }
  | { kind: 'left'; peerId: string; reason: PeerLeftMessage['reason'] }
  /** Deliver `message` to the local socket of peer `to`. */
  | { kind: 'deliver'; to: string; message: ServerMessage }
  /** An admin removed peer `peerId`: the process that holds it closes it. */
  | { kind: 'kick'; peerId: string }
  /** Peer `peerId` resumed on process `node`: any other process drops its copy. */
  | { kind: 'takeover'; peerId: string; node: string };

/** Receives every event of every room the process subscribed to. */
export type BusHandler = (room: string, event: BusEvent) => void;

/**
 * Room membership and messaging shared by the signaling processes: in memory for one process
 * (`MemoryRoomBus`), or through Redis for several (`RedisRoomBus`).
 */
export interface RoomBus {
  /** Adds or replaces `record` unless the room already holds `maxPeers` others; resolves false when full. */
  addPeer(room: string, record: PeerRecord, maxPeers: number): Promise<boolean>;
  /** Replaces an existing record (no-op when absent). */
  updatePeer(room: string, record: PeerRecord): Promise<void>;
  /** Removes a member; resolves true when it was there. */
  removePeer(room: string, peerId: string): Promise<boolean>;
  /** One member, or undefined. */
  getPeer(room: string, peerId: string): Promise<PeerRecord | undefined>;
  /** Every member. */
  listPeers(room: string): Promise<PeerRecord[]>;
  /** Sends `event` to every process subscribed to `room` (this one included). */
  publish(room: string, event: BusEvent): Promise<void>;
  /** Starts receiving `room`'s events. */
  subscribe(room: string): Promise<void>;
  /** Stops receiving `room`'s events. */
  unsubscribe(room: string): Promise<void>;
  /**
   * Announces that process `node` is alive, now and every `ttlMs / 3` until {@link RoomBus.unregisterNode}: other
   * processes treat the peers of a process whose announcement is older than `ttlMs` as gone (it crashed).
   */
  registerNode(node: string, ttlMs: number): Promise<void>;
  /** Stops announcing `node` and withdraws its announcement (a graceful shutdown). */
  unregisterNode(node: string): Promise<void>;
  /**
   * Cleans `room` up, as seen from process `self` at `nowMs`: removes members whose resume grace ended
   * (`awayUntilMs` ≤ `nowMs`), and marks away until `nowMs + graceMs` the members of processes that are no longer
   * alive (removing them at once when `graceMs` is 0). Resolves with the ids removed (each by one caller only).
   */
  reap(room: string, self: string, nowMs: number, graceMs: number): Promise<string[]>;
  /**
   * The rooms that still hold members of processes that are no longer alive (they crashed), as seen from process
   * `self`, so that a survivor can {@link RoomBus.reap} them even when none of its own peers is in them. Forgets a
   * dead process once none of its members is left anywhere.
   */
  roomsOfDeadNodes(self: string): Promise<string[]>;
  /** Sets the one handler of received events. */
  onEvent(handler: BusHandler): void;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
