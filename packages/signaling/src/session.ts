import { WebSocket } from 'ws';
import type { PeerInfo, TokenClaims } from './protocol.js';
import { TokenBucket } from './token-bucket.js';

/** Messages queued for a peer whose socket is gone, at most. */
export const AWAY_QUEUE = 64;

/**
 * One client of the signaling server, from its accepted upgrade until it leaves for good. A class rather than an
 * object literal so that every field sits inside the object (at 10,000 peers a process, each byte per peer counts):
 * no timer array, no message queue until one is needed, no closure per socket.
 */
export class Session {
  /** The current socket; undefined while the peer is away (resumable). */
  ws: SessionSocket | undefined;
  /** The client's address (interned: sessions from one address share the string). */
  readonly ip: string;
  /** What the token granted, and when it expires (ms since the epoch). */
  readonly claims: TokenClaims & { expiresAtMs: number };
  /** The message rate limiter. */
  readonly bucket: TokenBucket;
  badMessages = 0;
  rateViolations = 0;
  lastMessageMs: number;
  /** Answered the last protocol ping. */
  alive = true;
  /** Set once joined. */
  peer: PeerInfo | undefined = undefined;
  resumeKey: string | undefined = undefined;
  /** Messages kept while the socket is away; allocated on the first one. */
  queue: string[] | undefined = undefined;
  /** The `join` deadline, cleared once joined (token expiry is checked by the server's sweep instead). */
  joinTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Set once the session is gone for good (left, kicked, timed out, replaced elsewhere). */
  done = false;

  constructor(
    ws: SessionSocket,
    ip: string,
    claims: TokenClaims & { expiresAtMs: number },
    bucket: TokenBucket,
    nowMs: number,
  ) {
    this.ws = ws;
    this.ip = ip;
    this.claims = claims;
    this.bucket = bucket;
    this.lastMessageMs = nowMs;
  }

  /** Keeps `text` for delivery after a resume (at most {@link AWAY_QUEUE} messages). */
  keep(text: string): void {
    this.queue ??= [];
    if (this.queue.length < AWAY_QUEUE) this.queue.push(text);
  }

  /** Hands over and forgets the kept messages. */
  takeQueue(): string[] {
    const queue = this.queue ?? [];
    this.queue = undefined;
    return queue;
  }

  /** Stops the join deadline. */
  clearTimer(): void {
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
  }
}

/**
 * The server's WebSocket class (`WebSocketServer`'s `WebSocket` option): the socket points to its session, so that
 * one set of listener functions serves every socket instead of a set of closures each.
 */
export class SessionSocket extends WebSocket {
  /** The session this socket belongs to, set when it is accepted. */
  session: Session | undefined = undefined;
}
