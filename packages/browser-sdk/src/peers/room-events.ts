import type { FramewireError } from '@framewire/core';
import type { PeerInfo } from '@framewire/signaling/protocol';
import type { FrameSource } from '../core/frame-source.js';
import type { SignalingState } from '../network/signaling-client.js';
import type { Delivery } from './publication.js';

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
