import { peerFrameToRaw, type PeerFrame } from './peer-frame.js';
import { SourceBase } from './source-base.js';

/**
 * The video of one remote peer of a framewire room as a bridge source of raw I420 frames (stamped with their
 * arrival time). A {@link BridgeRoomPeer} creates one per publishing peer (id `room-<label>` or
 * `room-<peer id>`), adds it to the bridge when the peer's video arrives, and ends it (state `ended`) and removes
 * it from the bridge when the peer leaves.
 */
export class RoomPeerSource extends SourceBase {
  /** The remote peer whose video this is. */
  readonly peerId: string;

  /** A source with id `id` for peer `peerId`. The id is validated like every source id. */
  constructor(id: string, peerId: string) {
    super(id, 'room-peer');
    this.peerId = peerId;
  }

  /** Nothing to start: frames arrive through {@link RoomPeerSource.pushFrame}. */
  start(): Promise<void> {
    if (!this.closed) this.setState('starting');
    return Promise.resolve();
  }

  /** Passes on one decoded frame of the peer (I420, `width × height × 1.5` bytes); a malformed one is dropped. */
  pushFrame(frame: PeerFrame, receivedAtMs: number): void {
    if (this.state === 'ended') return;
    const raw = peerFrameToRaw(frame, receivedAtMs);
    if (raw) this.emitFrame(raw);
    else this.countDrop();
  }

  /** Marks the source `ended` (its peer left): it delivers nothing more. */
  end(): void {
    if (!this.closed) this.setState('ended');
  }

  /** Nothing to release: the room peer owns the connection. */
  protected release(): Promise<void> {
    return Promise.resolve();
  }
}
