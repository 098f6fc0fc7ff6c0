import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type Server as WsServer } from 'ws';
import { FramewireError, assertOption, createLogger, httpErrorBody, type ErrorCode } from '@framewire/core';
import {
  HttpFailure,
  assertTlsOptions,
  closeServer,
  formatPrometheus,
  listen,
  readRequestBody,
  sendError,
  sendFailure,
  sendJson,
  type MetricFamily,
} from '@framewire/core/node';
import {
  CLOSE_CODES,
  SIGNALING_PATHS,
  SIGNALING_SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  parseClientMessage,
  type ClientMessage,
  type IceServer,
  type JoinMessage,
  type Parsed,
  type PeerInfo,
  type ServerMessage,
  type SignalingHealth,
  type TokenClaims,
  type TokenRequest,
} from './protocol.js';
import { MemoryRoomBus } from './bus/memory-room-bus.js';
import { RedisRoomBus } from './bus/redis-room-bus.js';
import type { BusEvent, PeerRecord, RoomBus } from './bus/room-bus.js';
import { TokenAuthority } from './token-authority.js';
import { Session, SessionSocket, type SocketHandlers } from './session.js';
import { resolveLimits, type Limits, type SignalingServerOptions } from './signaling-options.js';
import { turnRestCredentials } from './turn-credentials.js';
import { VERSION } from './version.js';

/** The token of an `Authorization: Bearer …` header. */
function bearerToken(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization;
  return authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
}

const log = createLogger('signaling');

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Counters behind `/metrics`. */
interface Counters {
  connectionsAccepted: number;
  upgradesRejected: Record<string, number>;
  messagesReceived: number;
  messagesRelayed: number;
  errorsSent: Record<string, number>;
  resumes: number;
}

/**
 * The signaling server: an HTTP server with `/health`, `/metrics` and (optionally) `/dev/token`, and a WebSocket
 * endpoint (`/ws`) that introduces peers.
 *
 * Tokens are checked in the HTTP upgrade handler, before the socket is accepted (401 on a missing, forged or expired
 * token, 403 on a refused origin, 503 when draining or full). A joined peer can address only peers of its own room;
 * a viewer only publishers and admins. Rooms live in memory, or in Redis when `redisUrl` is set, so that peers on
 * different processes meet.
 */
export class SignalingServer {
  /** The bound port. */
  readonly port: number;
  /** The bound host. */
  readonly host: string;
  /** Mints and checks tokens with the server's secret. */
  readonly tokens: TokenAuthority;
  /** A random id of this process on the bus. */
  readonly nodeId = randomUUID();
  readonly #server: Server;
  readonly #wss: WsServer<typeof SessionSocket>;
  readonly #bus: RoomBus;
  readonly #ownsBus: boolean;
  readonly #limits: Limits;
  readonly #options: SignalingServerOptions;
  readonly #startedAtMs = Date.now();
  readonly #sessions = new Set<Session>();
  /** Joined (or away) local sessions by peer id. */
  readonly #peers = new Map<string, Session>();
  /** Local peer ids per room. */
  readonly #rooms = new Map<string, Set<string>>();
  /** Open sockets per address; the entry also holds the one copy of the address string its sessions share. */
  readonly #perIp = new Map<string, { ip: string; count: number }>();
  /** What every socket does with its events: one object for all, no closures or listeners per connection. */
  readonly #handlers: SocketHandlers;
  readonly #counters: Counters = {
    connectionsAccepted: 0,
    upgradesRejected: {},
    messagesReceived: 0,
    messagesRelayed: 0,
    errorsSent: {},
    resumes: 0,
  };
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closing: Promise<void> | undefined;
  #sweeping = false;

  private constructor(
    server: Server,
    host: string,
    port: number,
    bus: RoomBus,
    ownsBus: boolean,
    options: SignalingServerOptions,
    limits: Limits,
  ) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.#bus = bus;
    this.#ownsBus = ownsBus;
    this.#options = options;
    this.#limits = limits;
    this.tokens = new TokenAuthority(options.secret);
    this.#handlers = {
      message: (ws, data, isBinary) => {
        if (ws.session) void this.#onMessage(ws.session, data, isBinary);
      },
      close: (ws) => {
        if (ws.session) void this.#onClose(ws.session, ws);
      },
      error: (ws, error) => log.debug('socket error', { ip: ws.session?.ip, error: error.message }),
    };
    this.#wss = new WebSocketServer({
      noServer: true,
      WebSocket: SessionSocket,
      // The server's own session set tracks sockets; a second set in ws would cost memory for each.
      clientTracking: false,
      maxPayload: limits.maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SIGNALING_SUBPROTOCOL) ? SIGNALING_SUBPROTOCOL : false),
    });
    bus.onEvent((room, event) => this.#onBusEvent(room, event));
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void this.#onRequest(request, response);
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.#onUpgrade(request, socket, head);
    });
    this.#heartbeat = setInterval(() => this.#beat(), limits.heartbeatIntervalMs);
    this.#heartbeat.unref();
    this.#sweeper = setInterval(() => void this.#sweepOnce(), Math.max(100, Math.min(1000, limits.resumeGraceMs / 2)));
    this.#sweeper.unref();
  }

  /**
   * Validates `options`, connects the bus and starts listening. Rejects with `FW_ERR_INVALID_OPTION`,
   * `FW_ERR_LISTEN_FAILED` or `FW_ERR_SIGNALING_FAILED` (Redis unreachable).
   */
  static async start(options: SignalingServerOptions): Promise<SignalingServer> {
    assertOption(typeof options === 'object', 'options must be an object with a secret');
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 8443;
    assertOption(
      Number.isInteger(port) && port >= 0 && port <= 65535,
      `port must be an integer in 0..65535; got ${port}`,
    );
    // Validates the secret before anything is opened.
    new TokenAuthority(options.secret);
    const limits = resolveLimits(options);
    assertOption(
      options.allowedOrigins === undefined || Array.isArray(options.allowedOrigins),
      'options.allowedOrigins must be an array of origins',
    );
    assertOption(
      options.turn === undefined || (Array.isArray(options.turn.urls) && typeof options.turn.secret === 'string'),
      'options.turn must be { urls, secret, ttlS? }',
    );
    if (options.tls !== undefined) assertTlsOptions(options.tls);
    let bus = options.bus;
    const ownsBus = !bus;
    bus ??= options.redisUrl ? await RedisRoomBus.open({ url: options.redisUrl }) : new MemoryRoomBus();
    const server = options.tls
      ? (createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) as unknown as Server)
      : createServer();
    // Header floods (CVE-2024-37890 class): a modest header count.
    server.maxHeadersCount = 64;
    let bound: number;
    try {
      bound = await listen(server, host, port);
    } catch (error) {
      if (ownsBus) await bus.close();
      throw error;
    }
    const signaling = new SignalingServer(server, host, bound, bus, ownsBus, options, limits);
    try {
      await bus.registerNode(signaling.nodeId, limits.nodeTtlMs);
    } catch (error) {
      await signaling.close();
      throw new FramewireError('FW_ERR_SIGNALING_FAILED', 'Cannot register this process on the bus', {
        cause: error,
        fatal: true,
        stage: 'bus',
      });
    }
    log.info(`listening on ${options.tls ? 'https' : 'http'}://${host}:${bound}`, {
      bus: options.redisUrl ? 'redis' : 'memory',
    });
    return signaling;
  }

  /** The current health report. */
  get health(): SignalingHealth {
    return {
      status: this.#closing ? 'draining' : 'ok',
      service: 'framewire-signaling',
      version: VERSION,
      uptimeS: Math.round((Date.now() - this.#startedAtMs) / 1000),
    };
  }

  /** Open WebSockets on this process. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** The ICE servers for a client: the static ones plus fresh TURN credentials for `user`. */
  iceServersFor(user: string): IceServer[] {
    const servers = (this.#options.iceServers ?? []).map((s) => ({ ...s, urls: [...s.urls] }));
    if (this.#options.turn) servers.push(turnRestCredentials(this.#options.turn, user));
    return servers;
  }

  /** Prometheus text for `/metrics`. */
  metrics(): string {
    const c = this.#counters;
    const family = (
      name: string,
      type: MetricFamily['type'],
      help: string,
      values: number | Record<string, number>,
      label = '',
    ): MetricFamily => ({
      name,
      type,
      help,
      samples:
        typeof values === 'number'
          ? [{ value: values }]
          : Object.entries(values).map(([key, value]) => ({ labels: { [label]: key }, value })),
    });
    return formatPrometheus([
      family('framewire_signaling_connections', 'gauge', 'Open WebSocket connections.', this.#sessions.size),
      family('framewire_signaling_peers', 'gauge', 'Peers joined to a room.', this.#peers.size),
      family('framewire_signaling_rooms', 'gauge', 'Rooms with at least one peer.', this.#rooms.size),
      family(
        'framewire_signaling_connections_accepted_total',
        'counter',
        'WebSocket connections accepted.',
        c.connectionsAccepted,
      ),
      family('framewire_signaling_messages_received_total', 'counter', 'Messages received.', c.messagesReceived),
      family('framewire_signaling_messages_relayed_total', 'counter', 'Messages relayed to peers.', c.messagesRelayed),
      family('framewire_signaling_resumes_total', 'counter', 'Sessions resumed after a reconnect.', c.resumes),
      family(
        'framewire_signaling_upgrades_rejected_total',
        'counter',
        'WebSocket upgrades refused, by reason.',
        c.upgradesRejected,
        'reason',
      ),
      family('framewire_signaling_errors_sent_total', 'counter', 'Error messages sent, by code.', c.errorsSent, 'code'),
      family('process_resident_memory_bytes', 'gauge', 'Resident memory, in bytes.', process.memoryUsage().rss),
    ]);
  }

  /**
   * Graceful shutdown: refuses new sockets, sends every peer `shutdown` (reconnect after `reconnectAfterMs`, ids
   * resumable on another process sharing the bus), closes the sockets with 1012, then the HTTP server and the bus.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#heartbeat);
      clearInterval(this.#sweeper);
      const shutdown = JSON.stringify({ type: 'shutdown', reconnectAfterMs: this.#limits.reconnectAfterMs });
      const marks: Promise<void>[] = [];
      for (const session of [...this.#sessions]) {
        if (session.ws?.readyState === session.ws?.OPEN) session.ws?.send(shutdown);
        if (session.peer) marks.push(this.#markAway(session));
        session.ws?.close(CLOSE_CODES.serviceRestart, 'server shutting down');
      }
      const sockets = [...this.#sessions].flatMap((session) => session.ws ?? []);
      await Promise.allSettled(marks);
      for (const session of this.#sessions) session.clearTimer();
      for (const session of this.#peers.values()) session.clearTimer();
      this.#wss.close();
      // Sockets that do not finish the closing handshake in time are cut.
      const cut = setTimeout(() => {
        for (const ws of sockets) ws.terminate();
      }, 1000);
      cut.unref();
      await closeServer(this.#server);
      clearTimeout(cut);
      await this.#bus.unregisterNode(this.nodeId).catch((error: unknown) => log.warn('unregister failed', { error }));
      if (this.#ownsBus) await this.#bus.close();
      log.info('closed');
    })();
    return this.#closing;
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────────

  async #onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://signaling').pathname;
    if (path === SIGNALING_PATHS.health) {
      sendJson(response, this.#closing ? 503 : 200, this.health);
    } else if (path === SIGNALING_PATHS.metrics) {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'cache-control': 'no-store' });
      response.end(this.metrics());
    } else if (path === SIGNALING_PATHS.check) {
      await this.#check(request, response);
    } else if (path === SIGNALING_PATHS.devToken && this.#options.devTokens) {
      if (request.method !== 'POST') {
        sendError(response, 405, 'FW_ERR_INVALID_OPTION', 'use POST');
        return;
      }
      try {
        const body = await readRequestBody(request, 4096);
        const token = await this.tokens.issue(JSON.parse(body) as TokenRequest);
        sendJson(response, 200, { token });
      } catch (error) {
        if (error instanceof HttpFailure) {
          // The rest of the body is not read: the connection cannot carry another request.
          response.setHeader('connection', 'close');
          sendFailure(response, error);
          return;
        }
        sendError(response, 400, 'FW_ERR_INVALID_OPTION', error instanceof Error ? error.message : String(error));
      }
    } else {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', `not found: ${path}`);
    }
  }

  /**
   * The checks a WebSocket upgrade must pass, in order: draining, origin, capacity, per-address limit,
   * subprotocol, token. The same checks answer `POST /ws/check`, so that a browser (which cannot read a refused
   * upgrade's response) can learn why it was refused.
   */
  async #admit(
    request: IncomingMessage,
    token: string | undefined,
    subprotocolOffered: boolean,
  ): Promise<
    | { claims: TokenClaims & { expiresAtMs: number } }
    | { refusal: { status: number; code: ErrorCode; reason: string; message: string } }
  > {
    const refuse = (status: number, code: ErrorCode, reason: string, message: string) => ({
      refusal: { status, code, reason, message },
    });
    if (this.#closing) return refuse(503, 'FW_ERR_SIGNALING_FAILED', 'draining', 'the server is shutting down');
    const origin = request.headers.origin;
    if (!this.#originAllowed(origin))
      return refuse(403, 'FW_ERR_FORBIDDEN', 'origin', `origin ${String(origin)} is not allowed`);
    const ip = request.socket.remoteAddress ?? 'unknown';
    if (this.#sessions.size >= this.#limits.maxConnections) {
      return refuse(503, 'FW_ERR_RATE_LIMITED', 'capacity', 'the server is full');
    }
    if ((this.#perIp.get(ip)?.count ?? 0) >= this.#limits.maxConnectionsPerIp) {
      return refuse(429, 'FW_ERR_RATE_LIMITED', 'per-ip', 'too many connections from this address');
    }
    if (!subprotocolOffered) {
      return refuse(400, 'FW_ERR_BAD_MESSAGE', 'subprotocol', `offer the ${SIGNALING_SUBPROTOCOL} subprotocol`);
    }
    if (!token) return refuse(401, 'FW_ERR_UNAUTHORIZED', 'no-token', 'no token');
    try {
      return { claims: await this.tokens.verify(token) };
    } catch (error) {
      const reason =
        error instanceof FramewireError ? ((error.details['reason'] as string | undefined) ?? 'invalid') : 'invalid';
      return refuse(401, 'FW_ERR_UNAUTHORIZED', `token-${reason}`, (error as Error).message);
    }
  }

  /** True when requests from `origin` may connect (no Origin header: not a browser, allowed). */
  #originAllowed(origin: string | undefined): boolean {
    const allowed = this.#options.allowedOrigins ?? [];
    return origin === undefined || allowed.includes('*') || allowed.includes(origin);
  }

  /**
   * `POST /ws/check`: answers what an upgrade with this token would get, as JSON. Any origin may ask (CORS is open
   * here, without credentials): the answer tells a page only what it could not read from its refused upgrade.
   */
  async #check(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const origin = request.headers.origin;
    const cors: Record<string, string> =
      origin === undefined
        ? {}
        : {
            'access-control-allow-origin': origin,
            'access-control-allow-headers': 'authorization',
            'access-control-allow-methods': 'POST',
            vary: 'origin',
          };
    if (request.method === 'OPTIONS') {
      response.writeHead(204, cors);
      response.end();
      return;
    }
    if (request.method !== 'POST') {
      sendError(response, 405, 'FW_ERR_INVALID_OPTION', 'use POST');
      return;
    }
    const admission = await this.#admit(request, bearerToken(request), true);
    for (const [name, value] of Object.entries(cors)) response.setHeader(name, value);
    if ('refusal' in admission) {
      const { status, code, message } = admission.refusal;
      sendError(response, status, code, message);
    } else sendJson(response, 200, { ok: true, room: admission.claims.room, role: admission.claims.role });
  }

  async #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A socket error before the upgrade completes must not crash the process. A module-level listener: a closure
    // here would keep this call's scope (the request, its headers and the token) alive as long as the socket.
    socket.on('error', destroyOnError);
    const reject = (status: number, code: ErrorCode, reason: string, message: string): void => {
      this.#counters.upgradesRejected[reason] = (this.#counters.upgradesRejected[reason] ?? 0) + 1;
      log.debug(`upgrade refused: ${reason}`, { status, ip: request.socket.remoteAddress });
      const body = JSON.stringify(httpErrorBody(code, message));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${httpReason(status)}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    };
    const path = new URL(request.url ?? '/', 'http://signaling').pathname;
    if (path !== SIGNALING_PATHS.ws && path !== '/') {
      reject(404, 'FW_ERR_INVALID_OPTION', 'path', `no WebSocket endpoint at ${path}`);
      return;
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const fromProtocol = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
    const token = fromProtocol?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) ?? bearerToken(request);
    const admission = await this.#admit(request, token, offered.includes(SIGNALING_SUBPROTOCOL));
    if ('refusal' in admission) {
      const { status, code, reason, message } = admission.refusal;
      reject(status, code, reason, message);
      return;
    }
    const { claims } = admission;
    // The server may have started closing while the token was checked.
    if (this.#closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    const ip = request.socket.remoteAddress ?? 'unknown';
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      // ws listens for socket errors from now on. Node caches the peer's address in an object on the socket the
      // first time it is read; the session keeps the address string, so the cache would only cost memory per peer.
      socket.off('error', destroyOnError);
      // (Assigned, not deleted: a delete would turn the socket into a slower, bigger dictionary-mode object.)
      (socket as { _peername?: unknown })._peername = undefined;
      this.#accept(ws, ip, claims);
    });
  }

  // ── sockets ─────────────────────────────────────────────────────────────────────────────────────────────────

  #accept(ws: SessionSocket, ip: string, claims: TokenClaims & { expiresAtMs: number }): void {
    this.#counters.connectionsAccepted++;
    let address = this.#perIp.get(ip);
    if (!address) {
      address = { ip, count: 0 };
      this.#perIp.set(ip, address);
    }
    address.count++;
    const session = new Session(ws, address.ip, claims, this.#limits, Date.now());
    ws.session = session;
    // From here the socket hands its events (message, close, error, pong) to these handlers.
    ws.handlers = this.#handlers;
    this.#sessions.add(session);
    // The token's expiry is checked by the sweep (every second at most), which needs no timer per peer.
    session.joinTimer = setTimeout(() => {
      session.joinTimer = undefined;
      if (!session.peer)
        this.#fail(session, 'FW_ERR_TIMEOUT', `no join within ${this.#limits.joinTimeoutMs} ms`, CLOSE_CODES.timeout);
    }, this.#limits.joinTimeoutMs);
  }

  async #onMessage(session: Session, data: RawData, isBinary: boolean): Promise<void> {
    if (session.ws === undefined || session.done) return;
    this.#counters.messagesReceived++;
    session.lastMessageMs = Date.now();
    if (!session.take()) {
      session.rateViolations++;
      if (session.rateViolations > this.#limits.maxRateViolations) {
        this.#fail(session, 'FW_ERR_RATE_LIMITED', 'too many messages', CLOSE_CODES.rateLimited);
      } else if (session.rateViolations === 1 || session.rateViolations % 10 === 0) {
        this.#error(session, 'FW_ERR_RATE_LIMITED', 'message dropped: rate limit', false);
      }
      return;
    }
    const parsed: Parsed<ClientMessage> = isBinary
      ? { ok: false, reason: 'binary messages are not part of the protocol' }
      : parseClientMessage(rawText(data));
    if (!parsed.ok) {
      session.badMessages++;
      if (session.badMessages >= this.#limits.maxBadMessages) {
        this.#fail(
          session,
          'FW_ERR_BAD_MESSAGE',
          `too many malformed messages (${parsed.reason})`,
          CLOSE_CODES.badMessage,
        );
      } else {
        this.#error(session, 'FW_ERR_BAD_MESSAGE', parsed.reason, false, parsed.type);
      }
      return;
    }
    try {
      await this.#handle(session, parsed.message);
    } catch (error) {
      log.warn('handling a message failed', { error });
      this.#error(
        session,
        'FW_ERR_SIGNALING_FAILED',
        'the server could not handle the message',
        false,
        parsed.message.type,
      );
    }
  }

  async #handle(session: Session, message: ClientMessage): Promise<void> {
    if (message.type === 'join') {
      await this.#join(session, message);
      return;
    }
    if (message.type === 'ping') {
      this.#send(session, { type: 'pong', id: message.id, serverTimeMs: Date.now() });
      return;
    }
    const peer = session.peer;
    if (!peer) {
      this.#error(session, 'FW_ERR_BAD_MESSAGE', 'join first', false, message.type);
      return;
    }
    const room = session.claims.room;
    switch (message.type) {
      case 'ice-request':
        this.#send(session, { type: 'ice-servers', iceServers: this.iceServersFor(peer.peerId) });
        return;
      case 'leave':
        await this.#remove(session, 'left');
        session.ws?.close(CLOSE_CODES.normal, 'left');
        return;
      case 'kick': {
        if (peer.role !== 'admin') {
          this.#error(session, 'FW_ERR_FORBIDDEN', 'only admins may kick', false, 'kick');
          return;
        }
        if (!(await this.#bus.getPeer(room, message.peerId))) {
          this.#error(session, 'FW_ERR_PEER_NOT_FOUND', 'no such peer in this room', false, 'kick');
          return;
        }
        await this.#bus.publish(room, { kind: 'kick', peerId: message.peerId });
        return;
      }
      case 'signal':
      case 'relay': {
        if (message.to === peer.peerId) {
          this.#error(session, 'FW_ERR_BAD_MESSAGE', 'a peer cannot address itself', false, message.type);
          return;
        }
        const local = this.#peers.get(message.to);
        const target =
          local?.peer && local.claims.room === room ? local.peer : (await this.#bus.getPeer(room, message.to))?.info;
        if (!target) {
          // The same answer whether the id exists in another room or nowhere: ids do not leak across rooms.
          this.#error(session, 'FW_ERR_PEER_NOT_FOUND', 'no such peer in this room', false, message.type);
          return;
        }
        if (peer.role === 'viewer' && target.role === 'viewer') {
          this.#error(
            session,
            'FW_ERR_FORBIDDEN',
            'viewers may only address publishers and admins',
            false,
            message.type,
          );
          return;
        }
        const out: ServerMessage =
          message.type === 'signal'
            ? { type: 'signal', from: peer.peerId, payload: message.payload }
            : { type: 'relay', from: peer.peerId, data: message.data };
        this.#counters.messagesRelayed++;
        if (local?.claims.room === room) this.#deliver(local, JSON.stringify(out));
        else await this.#bus.publish(room, { kind: 'deliver', to: message.to, message: out });
        return;
      }
      default:
        return;
    }
  }

  async #join(session: Session, message: JoinMessage): Promise<void> {
    const { claims } = session;
    if (session.peer) {
      this.#error(session, 'FW_ERR_BAD_MESSAGE', 'already joined', false, 'join');
      return;
    }
    if (message.room !== claims.room) {
      this.#fail(session, 'FW_ERR_FORBIDDEN', 'the token does not grant this room', CLOSE_CODES.forbidden);
      return;
    }
    const room = claims.room;
    let peerId: string = randomUUID();
    let resumed = false;
    // Frees the places of peers whose grace ended or whose process crashed, whether or not this process sweeps the room.
    await this.#reap(room, Date.now());
    if (message.resume) {
      const record = await this.#bus.getPeer(room, message.resume.peerId);
      if (
        record?.resumeKeyHash === sha256(message.resume.resumeKey) &&
        record.info.role === claims.role &&
        record.info.user === claims.sub
      ) {
        peerId = record.info.peerId;
        resumed = true;
      }
    }
    if (resumed) {
      // Before subscribing: retiring the old copy must not drop the room subscription the new one needs.
      const old = this.#peers.get(peerId);
      if (old && old !== session) {
        session.queue = old.takeQueue();
        this.#retire(old, CLOSE_CODES.replaced, 'resumed on another socket');
      }
    }
    const resumeKey = randomBytes(24).toString('base64url');
    const info: PeerInfo = { peerId, role: claims.role };
    if (claims.sub !== undefined) info.user = claims.sub;
    if (message.meta !== undefined) info.meta = message.meta;
    const record: PeerRecord = { info, node: this.nodeId, resumeKeyHash: sha256(resumeKey) };
    await this.#subscribe(room, peerId);
    if (!(await this.#bus.addPeer(room, record, this.#limits.maxPeersPerRoom))) {
      this.#unsubscribe(room, peerId);
      this.#fail(session, 'FW_ERR_ROOM_FULL', `room ${room} is full`, CLOSE_CODES.roomFull);
      return;
    }
    if (session.ws === undefined || session.done) {
      // The socket went away while joining.
      await this.#bus.removePeer(room, peerId);
      this.#unsubscribe(room, peerId);
      return;
    }
    if (resumed) {
      this.#counters.resumes++;
      await this.#bus.publish(room, { kind: 'takeover', peerId, node: this.nodeId });
    }
    session.peer = info;
    session.clearTimer();
    this.#peers.set(peerId, session);
    const peers = (await this.#bus.listPeers(room)).map((r) => r.info).filter((p) => p.peerId !== peerId);
    this.#send(session, {
      type: 'welcome',
      peerId,
      resumeKey,
      room,
      role: claims.role,
      resumed,
      peers,
      iceServers: this.iceServersFor(peerId),
      pingIntervalMs: this.#limits.heartbeatIntervalMs,
      resumeGraceMs: this.#limits.resumeGraceMs,
    });
    for (const queued of session.takeQueue()) session.ws.send(queued);
    if (!resumed) await this.#bus.publish(room, { kind: 'joined', peer: info });
    log.debug('joined', { room, peerId, role: claims.role, resumed });
  }

  async #onClose(session: Session, ws: SessionSocket): Promise<void> {
    this.#sessions.delete(session);
    const address = this.#perIp.get(session.ip);
    if (address && --address.count <= 0) this.#perIp.delete(session.ip);
    if (session.ws !== ws) return;
    session.ws = undefined;
    session.clearTimer();
    if (!session.peer || session.done || this.#closing) return;
    if (this.#limits.resumeGraceMs === 0) await this.#remove(session, 'timeout');
    else await this.#markAway(session);
  }

  /** Keeps a vanished peer's id for `resumeGraceMs`; the sweeper removes it after that. */
  async #markAway(session: Session): Promise<void> {
    const peer = session.peer;
    if (!peer) return;
    // The record holds the resume key's hash: the session does not keep a copy of the key.
    const record = await this.#bus.getPeer(session.claims.room, peer.peerId);
    if (record?.node !== this.nodeId) return;
    await this.#bus.updatePeer(session.claims.room, {
      ...record,
      awayUntilMs: Date.now() + this.#limits.resumeGraceMs,
    });
  }

  /** Removes a session's peer from its room for good and tells the room. */
  async #remove(session: Session, reason: 'left' | 'timeout' | 'kicked'): Promise<void> {
    const peer = session.peer;
    if (!peer || session.done) return;
    session.done = true;
    const room = session.claims.room;
    this.#peers.delete(peer.peerId);
    if (await this.#bus.removePeer(room, peer.peerId)) {
      await this.#bus.publish(room, { kind: 'left', peerId: peer.peerId, reason });
    }
    this.#unsubscribe(room, peer.peerId);
  }

  /** Drops a local session without announcing anything (its id lives on elsewhere). */
  #retire(session: Session, code: number, reason: string): void {
    session.done = true;
    session.clearTimer();
    if (session.peer && this.#peers.get(session.peer.peerId) === session) {
      this.#peers.delete(session.peer.peerId);
      this.#unsubscribe(session.claims.room, session.peer.peerId);
    }
    session.ws?.close(code, reason);
  }

  /** Runs {@link SignalingServer.#sweep} unless the last one is still running (a slow Redis under load). */
  async #sweepOnce(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.#sweep();
    } finally {
      this.#sweeping = false;
    }
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    let rooms = [...this.#rooms.keys()];
    try {
      // Rooms where only crashed processes had peers are reaped too: no survivor would sweep them otherwise.
      const orphaned = (await this.#bus.roomsOfDeadNodes(this.nodeId)).filter((room) => !this.#rooms.has(room));
      rooms = rooms.concat(orphaned);
    } catch (error) {
      log.warn('listing the rooms of crashed processes failed', { error });
    }
    for (const room of rooms) {
      try {
        await this.#reap(room, now);
      } catch (error) {
        log.warn('sweep failed', { error });
      }
    }
    const idle = this.#limits.idleTimeoutMs;
    for (const session of this.#sessions) {
      if (session.claims.expiresAtMs <= now) {
        this.#fail(session, 'FW_ERR_UNAUTHORIZED', 'the token expired', CLOSE_CODES.unauthorized);
      } else if (idle > 0 && session.peer && now - session.lastMessageMs > idle) {
        this.#fail(session, 'FW_ERR_TIMEOUT', `idle for ${idle} ms`, CLOSE_CODES.timeout);
      }
    }
  }

  /**
   * Removes `room`'s members whose grace ended, and those of crashed processes (after the grace), announcing each
   * as left.
   */
  async #reap(room: string, nowMs: number): Promise<void> {
    for (const peerId of await this.#bus.reap(room, this.nodeId, nowMs, this.#limits.resumeGraceMs)) {
      await this.#bus.publish(room, { kind: 'left', peerId, reason: 'timeout' });
    }
  }

  #beat(): void {
    for (const session of this.#sessions) {
      const ws = session.ws;
      if (!ws) continue;
      if (!session.alive) {
        log.debug('heartbeat missed', { ip: session.ip });
        ws.terminate();
        continue;
      }
      session.alive = false;
      ws.ping();
    }
  }

  // ── bus ─────────────────────────────────────────────────────────────────────────────────────────────────────

  async #subscribe(room: string, peerId: string): Promise<void> {
    let members = this.#rooms.get(room);
    if (!members) {
      members = new Set();
      this.#rooms.set(room, members);
      members.add(peerId);
      await this.#bus.subscribe(room);
      return;
    }
    members.add(peerId);
  }

  #unsubscribe(room: string, peerId: string): void {
    const members = this.#rooms.get(room);
    if (!members) return;
    members.delete(peerId);
    if (members.size === 0) {
      this.#rooms.delete(room);
      this.#bus.unsubscribe(room).catch((error: unknown) => log.warn('unsubscribe failed', { error }));
    }
  }

  #onBusEvent(room: string, event: BusEvent): void {
    const members = this.#rooms.get(room);
    if (!members) return;
    switch (event.kind) {
      case 'joined':
      case 'left': {
        const message: ServerMessage =
          event.kind === 'joined'
            ? { type: 'peer-joined', peer: event.peer }
            : { type: 'peer-left', peerId: event.peerId, reason: event.reason };
        const subject = event.kind === 'joined' ? event.peer.peerId : event.peerId;
        // Serialized once for the whole room.
        const text = JSON.stringify(message);
        for (const peerId of members) {
          const session = this.#peers.get(peerId);
          if (peerId !== subject && session) this.#deliver(session, text);
        }
        if (event.kind === 'left') {
          const gone = this.#peers.get(event.peerId);
          if (gone?.claims.room === room && !gone.done) this.#retire(gone, CLOSE_CODES.normal, event.reason);
        }
        return;
      }
      case 'deliver': {
        const session = this.#peers.get(event.to);
        if (session?.claims.room === room) this.#deliver(session, JSON.stringify(event.message));
        return;
      }
      case 'kick': {
        const session = this.#peers.get(event.peerId);
        if (session?.claims.room !== room) return;
        this.#error(session, 'FW_ERR_FORBIDDEN', 'removed by an admin', true, 'kick');
        void this.#remove(session, 'kicked').then(() => session.ws?.close(CLOSE_CODES.kicked, 'kicked'));
        return;
      }
      case 'takeover': {
        if (event.node === this.nodeId) return;
        const session = this.#peers.get(event.peerId);
        if (session?.claims.room === room) this.#retire(session, CLOSE_CODES.replaced, 'resumed elsewhere');
        return;
      }
    }
  }

  // ── sending ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** Sends a serialized message to a joined peer, or queues it while its socket is away. */
  #deliver(session: Session, text: string): void {
    if (session.ws?.readyState === session.ws?.OPEN && session.ws) session.ws.send(text);
    else if (!session.done) session.keep(text);
  }

  #send(session: Session, message: ServerMessage): void {
    if (session.ws?.readyState === session.ws?.OPEN) session.ws?.send(JSON.stringify(message));
  }

  #error(session: Session, code: ErrorCode, message: string, fatal: boolean, request?: string): void {
    this.#counters.errorsSent[code] = (this.#counters.errorsSent[code] ?? 0) + 1;
    const error: ServerMessage = { type: 'error', code, message, fatal };
    if (request !== undefined) error.request = request;
    this.#send(session, error);
  }

  /** Sends a fatal error and closes the socket with `closeCode`; the peer leaves its room for good. */
  #fail(session: Session, code: ErrorCode, message: string, closeCode: number): void {
    if (session.done) return;
    this.#error(session, code, message, true);
    log.debug(`closing a socket: ${code}`, { ip: session.ip, message });
    const ws = session.ws;
    void this.#remove(session, 'left').finally(() => {
      session.done = true;
      ws?.close(closeCode, code);
    });
  }
}

/** `error` listener of a socket being upgraded: `this` is the socket. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

function httpReason(status: number): string {
  return (
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' }[status] ??
    'Service Unavailable'
  );
}
