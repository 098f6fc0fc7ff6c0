import { FramewireError, TypedEmitter, assertOption, createLogger, isErrorCode } from '@framewire/core';
import {
  SIGNALING_PATHS,
  SIGNALING_SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  errorCodeForClose,
  parseServerMessage,
  type ClientMessage,
  type IceServer,
  type PeerInfo,
  type PeerLeftMessage,
  type PeerRole,
  type ServerMessage,
  type SignalPayload,
  type WelcomeMessage,
} from '@framewire/signaling/protocol';

/** The WebSocket constructor the client uses: the browser's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocket;

/** A token, or a function that fetches a fresh one (called on every (re)connect). */
export type TokenProvider = string | (() => string | Promise<string>);

/** Options of {@link SignalingClient.open}. */
export interface SignalingClientOptions {
  /** `ws://` or `wss://` URL of the server's WebSocket endpoint (`/ws`). Required. */
  url: string;
  /** The room to join; must be the token's room. Required. */
  room: string;
  /** The signaling token, or a function returning one. Required. */
  token: TokenProvider;
  /** JSON shown to the other peers (≤ 1 KiB). Default: none. */
  meta?: Record<string, unknown>;
  /** WebSocket implementation. Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect (and resume the peer id) after a lost connection. Default: true. */
  reconnect?: boolean;
  /** Reconnect attempts in a row before giving up with `FW_ERR_SIGNALING_FAILED`. Default: 10. */
  maxReconnectAttempts?: number;
  /** First reconnect delay, doubled on each failure up to 5 s, in ms. Default: 250. */
  reconnectDelayMs?: number;
  /** Time allowed to open and join, in ms. Default: 10000. */
  connectTimeoutMs?: number;
}

/** Connection state of a {@link SignalingClient}. */
export type SignalingState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Events of a {@link SignalingClient}. */
export type SignalingClientEvents = {
  /** Joined (first time, or again after a reconnect; `resumed` says whether the peer id was kept). */
  welcome: { welcome: WelcomeMessage };
  /** A peer entered the room. */
  'peer-joined': { peer: PeerInfo };
  /** A peer left the room. */
  'peer-left': { peerId: string; reason: PeerLeftMessage['reason'] };
  /** A relayed offer, answer, candidate or bye. */
  signal: { from: string; payload: SignalPayload };
  /** A relayed JSON message. */
  relay: { from: string; data: unknown };
  /** The connection state changed. */
  state: { state: SignalingState };
  /** A rejected request (not fatal) or a lost connection that could not be re-established (fatal). */
  error: { error: FramewireError; fatal: boolean };
};

type ResolvedOptions = Required<Omit<SignalingClientOptions, 'meta'>> & { meta?: Record<string, unknown> };

const log = createLogger('signaling-client');
/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES = new Set([4000, 4003, 4009, 4010, 4011]);

/**
 * A connection to the framewire signaling server: joins a room, keeps the peer list, relays signals, answers the
 * server's heartbeat, and reconnects with backoff after a lost connection, resuming its peer id (so peer
 * connections survive a signaling outage). Runs in browsers and, with `WebSocket` from `ws`, in Node.
 */
export class SignalingClient {
  readonly #options: ResolvedOptions;
  readonly #events = new TypedEmitter<SignalingClientEvents>();
  readonly #peers = new Map<string, PeerInfo>();
  #ws: WebSocket | undefined;
  #welcome: WelcomeMessage | undefined;
  #state: SignalingState = 'connecting';
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pingId = 0;
  #pingSentMs = new Map<number, number>();
  #lastPongMs = 0;
  #attempts = 0;
  #clockOffsetMs = 0;
  #rttMs: number | undefined;
  #closed = false;

  private constructor(options: ResolvedOptions) {
    this.#options = options;
  }

  /**
   * Connects and joins; resolves once the server's `welcome` arrives. Rejects with `FW_ERR_INVALID_OPTION`,
   * `FW_ERR_SIGNALING_FAILED` (cannot connect, or a browser whose upgrade was refused), `FW_ERR_UNAUTHORIZED`,
   * `FW_ERR_FORBIDDEN` or `FW_ERR_ROOM_FULL`.
   */
  static async open(options: SignalingClientOptions): Promise<SignalingClient> {
    assertOption(
      typeof options.url === 'string' && /^wss?:\/\//.test(options.url),
      'options.url must be ws:// or wss://',
    );
    assertOption(typeof options.room === 'string' && options.room.length > 0, 'options.room is required');
    assertOption(
      typeof options.token === 'string' || typeof options.token === 'function',
      'options.token must be a string or a function',
    );
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'No WebSocket: pass options.WebSocket (e.g. from ws)', {
        fatal: true,
        stage: 'options',
      });
    }
    const client = new SignalingClient({
      reconnect: true,
      maxReconnectAttempts: 10,
      reconnectDelayMs: 250,
      connectTimeoutMs: 10_000,
      ...options,
      WebSocket: WebSocketImpl,
    });
    await client.#open();
    return client;
  }
  /**
   * The same as {@link SignalingClient.open}.
   * @deprecated Use `SignalingClient.open()` (one construction verb: `open` for everything that connects or starts
   * asynchronously). Kept for one release.
   */
  static connect(options: SignalingClientOptions): Promise<SignalingClient> {
    return SignalingClient.open(options);
  }

  /** This peer's id (stable across resumed reconnects). */
  get peerId(): string {
    return this.#welcomeOrThrow().peerId;
  }

  /** This peer's role, from its token. */
  get role(): PeerRole {
    return this.#welcomeOrThrow().role;
  }

  /** The room joined. */
  get room(): string {
    return this.#options.room;
  }

  /** The other peers of the room now. */
  get peers(): PeerInfo[] {
    return [...this.#peers.values()];
  }

  /** STUN/TURN servers from the last `welcome` or {@link refreshIceServers}. */
  get iceServers(): IceServer[] {
    return this.#welcome?.iceServers ?? [];
  }

  /** The connection state. */
  get state(): SignalingState {
    return this.#state;
  }

  /** Server clock minus local clock, in ms (from the heartbeat; 0 until the first pong). */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /** Round-trip time to the server, in ms (from the heartbeat). */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof SignalingClientEvents>(
    event: E,
    listener: (payload: SignalingClientEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** Sends an offer, answer, candidate or bye to peer `to` of the room. */
  signal(to: string, payload: SignalPayload): void {
    this.#send({ type: 'signal', to, payload });
  }

  /** Sends a small JSON message through the server to peer `to` (counts against the server's rate limit). */
  relay(to: string, data: unknown): void {
    this.#send({ type: 'relay', to, data });
  }

  /** Admin only: removes peer `peerId` from the room (others get `peer-left` with reason `kicked`). */
  kick(peerId: string): void {
    this.#send({ type: 'kick', peerId });
  }

  /** Asks the server for fresh ICE servers (new TURN credentials); resolves with them. */
  async refreshIceServers(timeoutMs = 5000): Promise<IceServer[]> {
    const ws = this.#ws;
    if (!ws || this.#state !== 'open') throw new FramewireError('FW_ERR_CLOSED', 'signaling is not connected');
    const answer = new Promise<IceServer[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new FramewireError('FW_ERR_TIMEOUT', 'no ice-servers answer', { stage: 'signaling' })),
        timeoutMs,
      );
      const onMessage = (event: MessageEvent): void => {
        const parsed = parseServerMessage(String(event.data));
        if (parsed.ok && parsed.message.type === 'ice-servers') {
          clearTimeout(timer);
          ws.removeEventListener('message', onMessage);
          if (this.#welcome) this.#welcome.iceServers = parsed.message.iceServers;
          resolve(parsed.message.iceServers);
        }
      };
      ws.addEventListener('message', onMessage);
    });
    this.#send({ type: 'ice-request' });
    return answer;
  }

  /** Leaves the room for good (no resume) and closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearInterval(this.#pingTimer);
    const ws = this.#ws;
    if (ws?.readyState === 1) {
      ws.send(JSON.stringify({ type: 'leave' } satisfies ClientMessage));
      ws.close(1000, 'leave');
    } else {
      ws?.close();
    }
    this.#setState('closed');
    this.#events.removeAllListeners();
    return Promise.resolve();
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────────────────

  #welcomeOrThrow(): WelcomeMessage {
    if (!this.#welcome) throw new FramewireError('FW_ERR_CLOSED', 'not joined yet');
    return this.#welcome;
  }

  #setState(state: SignalingState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', { state });
  }

  #send(message: ClientMessage): void {
    if (this.#ws?.readyState === 1) this.#ws.send(JSON.stringify(message));
    else log.debug(`dropped ${message.type}: not connected`);
  }

  /** Opens a socket and joins; resolves on `welcome`, rejects on failure (no retry here). */
  async #open(): Promise<void> {
    const { token } = this.#options;
    const jwt = typeof token === 'string' ? token : await token();
    const ws = new this.#options.WebSocket(this.#options.url, [
      SIGNALING_SUBPROTOCOL,
      `${TOKEN_SUBPROTOCOL_PREFIX}${jwt}`,
    ]);
    this.#ws = ws;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: FramewireError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          reject(error);
          ws.close();
        } else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new FramewireError('FW_ERR_TIMEOUT', 'joining the room timed out', { fatal: true, stage: 'signaling' }),
          ),
        this.#options.connectTimeoutMs,
      );
      ws.addEventListener('open', () => {
        const join: ClientMessage = { type: 'join', room: this.#options.room };
        if (this.#options.meta) join.meta = this.#options.meta;
        if (this.#welcome) join.resume = { peerId: this.#welcome.peerId, resumeKey: this.#welcome.resumeKey };
        ws.send(JSON.stringify(join));
      });
      ws.addEventListener('message', (event: MessageEvent) => {
        const parsed = parseServerMessage(String(event.data));
        if (!parsed.ok) {
          log.warn(`ignored a malformed server message: ${parsed.reason}`);
          return;
        }
        const message = parsed.message;
        if (message.type === 'error' && message.fatal && !settled) {
          settle(toError(message.code, message.message, true));
          return;
        }
        this.#onMessage(message);
        if (message.type === 'welcome') settle();
      });
      ws.addEventListener('close', (event: CloseEvent) => {
        if (!settled) {
          const code = errorCodeForClose(event.code);
          if (code) {
            settle(toError(code, `signaling closed: ${event.reason || event.code}`, true));
            return;
          }
          // The upgrade failed: a browser cannot read why, so ask the server (a refused token, origin, a full server).
          void diagnoseRefusal(this.#options.url, jwt).then((refusal) =>
            settle(
              refusal ??
                toError('FW_ERR_SIGNALING_FAILED', `cannot connect to ${this.#options.url} (is the server up?)`, true),
            ),
          );
          return;
        }
        this.#onClose(ws, event);
      });
      ws.addEventListener('error', () => {
        // The close event that follows carries what can be known.
      });
    });
    this.#attempts = 0;
    this.#setState('open');
    this.#startHeartbeat();
  }

  #onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome': {
        const previous = this.#welcome;
        this.#welcome = message;
        this.#peers.clear();
        for (const peer of message.peers) this.#peers.set(peer.peerId, peer);
        if (previous && !message.resumed) log.info('reconnected with a new peer id', { peerId: message.peerId });
        this.#events.emit('welcome', { welcome: message });
        return;
      }
      case 'peer-joined':
        this.#peers.set(message.peer.peerId, message.peer);
        this.#events.emit('peer-joined', { peer: message.peer });
        return;
      case 'peer-left':
        this.#peers.delete(message.peerId);
        this.#events.emit('peer-left', { peerId: message.peerId, reason: message.reason });
        return;
      case 'signal':
        this.#events.emit('signal', { from: message.from, payload: message.payload });
        return;
      case 'relay':
        this.#events.emit('relay', { from: message.from, data: message.data });
        return;
      case 'pong': {
        const now = Date.now();
        const sent = this.#pingSentMs.get(message.id);
        this.#pingSentMs.delete(message.id);
        this.#lastPongMs = now;
        if (sent !== undefined) {
          this.#rttMs = now - sent;
          this.#clockOffsetMs = message.serverTimeMs - (sent + this.#rttMs / 2);
        }
        return;
      }
      case 'error':
        this.#events.emit('error', { error: toError(message.code, message.message, message.fatal), fatal: false });
        return;
      case 'shutdown':
        log.info('the server is shutting down: reconnecting');
        return;
      case 'ice-servers':
        return;
    }
  }

  #startHeartbeat(): void {
    clearInterval(this.#pingTimer);
    const intervalMs = Math.max(1000, this.#welcome?.pingIntervalMs ?? 15_000);
    this.#lastPongMs = Date.now();
    const ping = (): void => {
      if (Date.now() - this.#lastPongMs > intervalMs * 2.5) {
        log.warn('no pong from the server: reconnecting');
        this.#ws?.close(4008, 'heartbeat');
        return;
      }
      const id = ++this.#pingId;
      this.#pingSentMs.set(id, Date.now());
      if (this.#pingSentMs.size > 8) this.#pingSentMs.delete(this.#pingSentMs.keys().next().value ?? id);
      this.#send({ type: 'ping', id });
    };
    ping();
    this.#pingTimer = setInterval(ping, intervalMs);
  }

  #onClose(ws: WebSocket, event: CloseEvent): void {
    if (ws !== this.#ws || this.#closed) return;
    clearInterval(this.#pingTimer);
    const code = errorCodeForClose(event.code);
    if (!this.#options.reconnect || FINAL_CLOSE_CODES.has(event.code)) {
      this.#fail(toError(code ?? 'FW_ERR_SIGNALING_FAILED', `signaling closed (${event.code} ${event.reason})`, true));
      return;
    }
    this.#setState('reconnecting');
    void this.#reconnect(event.code === 1012 ? 0 : undefined);
  }

  async #reconnect(firstDelayMs?: number): Promise<void> {
    while (!this.#closed) {
      const delay =
        this.#attempts === 0 && firstDelayMs !== undefined
          ? firstDelayMs
          : Math.min(5000, this.#options.reconnectDelayMs * 2 ** this.#attempts);
      this.#attempts++;
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#isClosed()) return;
      try {
        await this.#open();
        return;
      } catch (error) {
        const failure = error as FramewireError;
        log.debug(`reconnect attempt ${this.#attempts} failed: ${failure.message}`);
        const final = ['FW_ERR_FORBIDDEN', 'FW_ERR_ROOM_FULL'].includes(failure.code);
        if (final || this.#attempts >= this.#options.maxReconnectAttempts) {
          this.#fail(
            new FramewireError('FW_ERR_SIGNALING_FAILED', `reconnecting failed after ${this.#attempts} attempts`, {
              cause: error,
              fatal: true,
              stage: 'signaling',
            }),
          );
          return;
        }
      }
    }
  }

  /** Read through a method: `close()` may run while a reconnect awaits, which narrowing cannot see. */
  #isClosed(): boolean {
    return this.#closed;
  }

  #fail(error: FramewireError): void {
    if (this.#closed) return;
    this.#events.emit('error', { error, fatal: true });
    this.#closed = true;
    this.#setState('closed');
  }
}

/**
 * Asks the signaling server's `/ws/check` why an upgrade with `jwt` is refused; resolves with that refusal as a
 * fatal error, or `undefined` when the server is unreachable or would accept (the failure was something else).
 */
async function diagnoseRefusal(wsUrl: string, jwt: string): Promise<FramewireError | undefined> {
  try {
    const url = new URL(SIGNALING_PATHS.check, wsUrl.replace(/^ws/i, 'http'));
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
      signal: AbortSignal.timeout(3000),
    });
    if (response.ok) return undefined;
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body.error?.code === 'string' ? body.error.code : 'FW_ERR_SIGNALING_FAILED';
    const message = typeof body.error?.message === 'string' ? body.error.message : `HTTP ${String(response.status)}`;
    return toError(code, `the signaling server refused the connection: ${message}`, true);
  } catch {
    return undefined;
  }
}

function toError(code: string, message: string, fatal: boolean): FramewireError {
  return new FramewireError(isErrorCode(code) ? code : 'FW_ERR_SIGNALING_FAILED', message, {
    fatal,
    stage: 'signaling',
  });
}
