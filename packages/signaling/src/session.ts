import { WebSocket, type RawData } from 'ws';
import type { PeerInfo, TokenClaims } from './protocol.js';
import { TokenBucket } from './token-bucket.js';

/** Messages queued for a peer whose socket is gone, at most. */
export const AWAY_QUEUE = 64;

/**
 * One client of the signaling server, from its accepted upgrade until it leaves for good. A class rather than an
 * object literal so that every field sits inside the object (at 10,000 peers a process, each byte per peer counts):
 * no timer array, no message queue until one is needed, no closure per socket. It is its own message rate limiter
 * (it extends {@link TokenBucket} rather than holding one: one object less per peer).
 */
export class Session extends TokenBucket {
  /** The current socket; undefined while the peer is away (resumable). */
  ws: SessionSocket | undefined;
  /** The client's address (interned: sessions from one address share the string). */
  readonly ip: string;
  /** What the token granted, and when it expires (ms since the epoch). */
  readonly claims: TokenClaims & { expiresAtMs: number };
  badMessages = 0;
  rateViolations = 0;
  lastMessageMs: number;
  /** Answered the last protocol ping. */
  alive = true;
  /** Set once joined. */
  peer: PeerInfo | undefined = undefined;
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
    limits: { messagesPerSecond: number; messageBurst: number },
    nowMs: number,
  ) {
    super(limits.messagesPerSecond, limits.messageBurst);
    this.ws = ws;
    this.ip = ip;
    this.claims = claims;
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

/** What the server does with a socket's events; one object shared by every socket of a server. */
export interface SocketHandlers {
  /** A message arrived. */
  message(ws: SessionSocket, data: RawData, isBinary: boolean): void;
  /** The socket closed. */
  close(ws: SessionSocket): void;
  /** ws reports a protocol violation or a socket error; it closes the socket itself. */
  error(ws: SessionSocket, error: Error): void;
}

/**
 * The server's WebSocket class (`WebSocketServer`'s `WebSocket` option). It hands its own events to the server's
 * {@link SocketHandlers} instead of registering listeners: an EventEmitter's listener table is a dictionary of a few
 * hundred bytes, paid once per socket. A `pong` marks the session alive. Other events go to `EventEmitter` as usual.
 */
export class SessionSocket extends WebSocket {
  /** The session this socket belongs to, set when it is accepted. */
  session: Session | undefined = undefined;
  /** Set when it is accepted. */
  handlers: SocketHandlers | undefined = undefined;

  /** Dispatches `message`, `close`, `error` and `pong` to the handlers once accepted. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const handlers = this.handlers;
    if (handlers === undefined) return event === 'error' || super.emit(event, ...args);
    switch (event) {
      case 'message':
        handlers.message(this, args[0] as RawData, args[1] as boolean);
        return true;
      case 'close':
        handlers.close(this);
        return true;
      case 'error':
        handlers.error(this, args[0] as Error);
        return true;
      case 'pong':
        if (this.session) this.session.alive = true;
        return true;
      default:
        return super.emit(event, ...args);
    }
  }
}
