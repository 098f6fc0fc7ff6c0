import type { FramewireError } from '@framewire/core';
import { peerFrameToRaw, type PeerFrame } from './peer-frame.js';
import { SourceBase } from './source-base.js';

/** How long a publisher may send nothing before an older one's frames are shown again, in ms. */
const QUIET_MS = 1000;

/**
 * The video of a framewire room's peers as one bridge source of raw I420 frames (stamped with their arrival
 * time): the frames of the newest publisher whose video is flowing. When it leaves or stops sending for a second,
 * the next newest takes over. When the last publisher leaves, the source is `waiting` (up, nothing to serve; its
 * outputs keep their viewers) and it runs again with the next publisher's first frame. A {@link BridgeRoomPeer}
 * feeds it; every bridge output (MJPEG `/video`, NetGear, shared memory) can serve it like any other source.
 */
export class RoomSource extends SourceBase {
  /** First and last frame time (ms since the epoch) of every peer that sends video. */
  readonly #peers = new Map<string, { firstMs: number; lastMs: number }>();
  #current: string | undefined;

  /** A source with id `id` (default `room`). Validated like every source id. */
  constructor(id = 'room') {
    super(id, 'room');
  }

  /** The peer whose frames the source passes on, if any. */
  get peerId(): string | undefined {
    return this.#current;
  }

  /** Nothing to start: frames arrive through {@link RoomSource.pushPeerFrame}. */
  start(): Promise<void> {
    if (!this.closed) this.setState('starting');
    return Promise.resolve();
  }

  /**
   * Offers one decoded frame of peer `peerId` (I420, `width × height × 1.5` bytes); it is passed on when that peer
   * is the newest one sending video, and dropped otherwise.
   */
  pushPeerFrame(peerId: string, frame: PeerFrame, receivedAtMs: number): void {
    const seen = this.#peers.get(peerId);
    if (seen) seen.lastMs = receivedAtMs;
    else this.#peers.set(peerId, { firstMs: receivedAtMs, lastMs: receivedAtMs });
    this.#current = this.#newest(receivedAtMs);
    if (this.#current !== peerId) return;
    const raw = peerFrameToRaw(frame, receivedAtMs);
    if (raw) this.emitFrame(raw);
    else this.countDrop();
  }

  /** Forgets peer `peerId` (it left the room); after the last one, the source is `waiting`. */
  removePeer(peerId: string): void {
    this.#peers.delete(peerId);
    if (this.#current === peerId) this.#current = undefined;
    if (this.#peers.size === 0) this.waitForPublisher();
  }

  /** Moves to `waiting` (joined, nobody publishes) unless closed. */
  waitForPublisher(): void {
    if (!this.closed) this.setState('waiting');
  }

  /**
   * Records a failure of the room peer (`lastError`, a restart, state `restarting`; `failed` when the error is
   * fatal) and forgets every peer: they are seen again after the room peer joins again.
   */
  fail(error: FramewireError): void {
    if (this.closed) return;
    this.#peers.clear();
    this.#current = undefined;
    this.reportError(error, !error.fatal);
  }

  /** Nothing to release. */
  protected release(): void {
    this.#peers.clear();
    this.#current = undefined;
  }

  #newest(nowMs: number): string | undefined {
    let best: string | undefined;
    let bestFirst = -Infinity;
    for (const [id, times] of this.#peers) {
      if (nowMs - times.lastMs > QUIET_MS) continue;
      if (times.firstMs > bestFirst) {
        best = id;
        bestFirst = times.firstMs;
      }
    }
    return best;
  }
}
