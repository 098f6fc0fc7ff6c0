/*
 * The SDK's peer networking, isomorphic: it runs in browsers, and in Node with `WebSocket` from `ws` and
 * `RTCPeerConnection` from `@roamhq/wrtc` injected (the bridge package's NodePeer does that).
 */
export {
  SignalingClient,
  type SignalingClientEvents,
  type SignalingClientOptions,
  type SignalingState,
  type TokenProvider,
  type WebSocketConstructor,
} from '../network/signaling-client.js';
export {
  PeerLink,
  type IceCandidateFilter,
  type PeerConnectionConstructor,
  type PeerLinkEvents,
  type PeerLinkOptions,
  type PeerLinkStats,
} from './peer-link.js';
export { RemoteFrameSource, type EncodedFrameMeta } from './remote-frame-source.js';
export { Room, type PeerStats, type PullOptions, type RoomOptions } from './room.js';
export type { Delivery, PublishOptions, Publication } from './publication.js';
export type { RoomEvents } from './room-events.js';
export { CHUNK_BYTES } from '../network/data-framing.js';
