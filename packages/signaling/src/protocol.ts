/*
 * The signaling wire protocol: isomorphic types and validators shared with the browser SDK (no DOM, no `node:`).
 *
 * Every WebSocket message is one JSON object, a discriminated union on `type`. The server validates everything a
 * client sends with `parseClientMessage`; the SDK validates what the server sends with `parseServerMessage`.
 */

/** The JSON body of `GET /health`. */
export interface SignalingHealth {
  /** `ok` while the server accepts peers; `draining` during a graceful shutdown. */
  status: 'ok' | 'draining';
  /** Always `framewire-signaling`. */
  service: 'framewire-signaling';
  /** The server version. */
  version: string;
  /** Seconds since the server started. */
  uptimeS: number;
}

/** The signaling server's HTTP paths. */
export const SIGNALING_PATHS = {
  /** JSON {@link SignalingHealth}. */
  health: '/health',
  /** Prometheus text format: connections, rooms, messages, rejections. */
  metrics: '/metrics',
  /** `POST` (development only, `devTokens` on): mints a token from a JSON {@link TokenRequest}. */
  devToken: '/dev/token',
  /** The WebSocket endpoint. */
  ws: '/ws',
  /**
   * `POST` with `Authorization: Bearer <token>`: what an upgrade with that token would get (200 `{ ok, room,
   * role }`, or the refusal's status and `{ error: { code, message } }`), with CORS for allowed origins. Browsers
   * cannot read a refused upgrade, so the SDK asks here after one.
   */
  check: '/ws/check',
} as const;

/** The WebSocket subprotocol every client offers. */
export const SIGNALING_SUBPROTOCOL = 'framewire.v1';

/**
 * Browsers cannot set headers on a WebSocket: the token travels as a second subprotocol,
 * `framewire-token.<jwt>` (JWTs only use base64url characters and dots, which subprotocol names allow).
 * Node clients may send `Authorization: Bearer <jwt>` instead.
 */
export const TOKEN_SUBPROTOCOL_PREFIX = 'framewire-token.';

/** What a peer may do in its room. */
export type PeerRole = 'publisher' | 'viewer' | 'admin';

/** The roles, for validation. */
export const PEER_ROLES: readonly PeerRole[] = ['publisher', 'viewer', 'admin'];

/** The claims of a signaling token (a JWT signed with the server's HMAC secret, HS256). */
export interface TokenClaims {
  /** The one room the token grants. */
  room: string;
  /** The peer's role in that room. */
  role: PeerRole;
  /** Who the token was issued to (free text, shown to other peers as `PeerInfo.user`). */
  sub?: string;
}

/** The body of `POST /dev/token` and the arguments of `framewire-signaling token`. */
export interface TokenRequest extends TokenClaims {
  /** Lifetime in seconds. Default: 3600. */
  ttlS?: number;
}

/** One peer as the others see it. */
export interface PeerInfo {
  /** Server-issued, unguessable id (a UUID). */
  peerId: string;
  /** The peer's role. */
  role: PeerRole;
  /** The token subject, when it has one. */
  user?: string;
  /** Free JSON the peer sent with `join` (at most 1 KiB serialized). */
  meta?: Record<string, unknown>;
}

/** An ICE server handed to clients (the shape of `RTCIceServer`). */
export interface IceServer {
  /** `stun:` / `turn:` / `turns:` URLs. */
  urls: string[];
  /** TURN username (for REST credentials: `<expiry unix seconds>:<user>`). */
  username?: string;
  /** TURN password (for REST credentials: base64 HMAC-SHA1 of the username). */
  credential?: string;
}

/** A session description or an ICE candidate, carried between two peers untouched by the server. */
export type SignalPayload =
  | { kind: 'description'; description: { type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp: string } }
  | {
      kind: 'candidate';
      candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null };
    }
  | { kind: 'bye' };

// ── client → server ───────────────────────────────────────────────────────────────────────────────────────────

/** Enter the token's room (the first message on a socket). `resume` takes back an id within the grace period. */
export interface JoinMessage {
  type: 'join';
  /** Must equal the token's room. */
  room: string;
  /** Shown to other peers. */
  meta?: Record<string, unknown>;
  /** The id and key from an earlier `welcome`, to resume after a reconnect. */
  resume?: { peerId: string; resumeKey: string };
}

/** Relay `payload` to peer `to` of the same room. */
export interface SignalMessage {
  type: 'signal';
  to: string;
  payload: SignalPayload;
}

/** A small JSON message relayed by the server (for peers without a data channel yet). */
export interface RelayMessage {
  type: 'relay';
  to: string;
  data: unknown;
}

/** Application-level heartbeat; the server answers `pong` with the same `id` and its clock. */
export interface PingMessage {
  type: 'ping';
  id: number;
}

/** Asks for fresh ICE servers (TURN credentials expire); answered with `ice-servers`. */
export interface IceRequestMessage {
  type: 'ice-request';
}

/** Leave the room for good (no resume). */
export interface LeaveMessage {
  type: 'leave';
}

/** Admin only: disconnect a peer of the room. */
export interface KickMessage {
  type: 'kick';
  peerId: string;
}

/** Everything a client may send. */
export type ClientMessage =
  JoinMessage | SignalMessage | RelayMessage | PingMessage | IceRequestMessage | LeaveMessage | KickMessage;

// ── server → client ───────────────────────────────────────────────────────────────────────────────────────────

/** The answer to `join`. */
export interface WelcomeMessage {
  type: 'welcome';
  peerId: string;
  /** Send it back in `join.resume` to take this id back after a reconnect. */
  resumeKey: string;
  room: string;
  role: PeerRole;
  /** True when an earlier id was resumed. */
  resumed: boolean;
  /** The other peers of the room now. */
  peers: PeerInfo[];
  /** STUN/TURN servers to use (TURN credentials time-limited). */
  iceServers: IceServer[];
  /** How often the client should ping, in ms. */
  pingIntervalMs: number;
  /** How long the server keeps a vanished peer's id for `resume`, in ms. */
  resumeGraceMs: number;
}

/** Another peer entered the room. */
export interface PeerJoinedMessage {
  type: 'peer-joined';
  peer: PeerInfo;
}

/** A peer left (or vanished and its grace period ran out, or was kicked). */
export interface PeerLeftMessage {
  type: 'peer-left';
  peerId: string;
  reason: 'left' | 'timeout' | 'kicked';
}

/** A relayed {@link SignalMessage}. */
export interface SignalFromMessage {
  type: 'signal';
  from: string;
  payload: SignalPayload;
}

/** A relayed {@link RelayMessage}. */
export interface RelayFromMessage {
  type: 'relay';
  from: string;
  data: unknown;
}

/** The answer to `ping`. */
export interface PongMessage {
  type: 'pong';
  id: number;
  /** The server's clock, ms since the Unix epoch. */
  serverTimeMs: number;
}

/** The answer to `ice-request`. */
export interface IceServersMessage {
  type: 'ice-servers';
  iceServers: IceServer[];
}

/**
 * A rejected request. `code` is a framewire error code (`FW_ERR_…`); when `fatal`, the server closes the socket
 * right after.
 */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  fatal: boolean;
  /** The `type` of the message that was rejected, when known. */
  request?: string;
}

/** The server is going away (graceful shutdown): reconnect after `reconnectAfterMs`; ids can be resumed. */
export interface ShutdownMessage {
  type: 'shutdown';
  reconnectAfterMs: number;
}

/** Everything the server may send. */
export type ServerMessage =
  | WelcomeMessage
  | PeerJoinedMessage
  | PeerLeftMessage
  | SignalFromMessage
  | RelayFromMessage
  | PongMessage
  | IceServersMessage
  | ErrorMessage
  | ShutdownMessage;

/** WebSocket close codes the server uses (4000–4999 are the application's). */
export const CLOSE_CODES = {
  /** Normal close (`leave`, client close). */
  normal: 1000,
  /** The server is shutting down; reconnect (maybe to another process). */
  serviceRestart: 1012,
  /** A message over the size limit (ws closes with 1009 itself). */
  tooLarge: 1009,
  /** The token expired during the session, or was not valid. */
  unauthorized: 4001,
  /** The peer tried something its token does not grant. */
  forbidden: 4003,
  /** No `join` in time, or no heartbeat. */
  timeout: 4008,
  /** Malformed messages. */
  badMessage: 4000,
  /** Too many messages. */
  rateLimited: 4029,
  /** The room is full. */
  roomFull: 4009,
  /** An admin removed the peer. */
  kicked: 4010,
  /** Another socket resumed this peer's id. */
  replaced: 4011,
} as const;

/** The framewire error code a close code stands for (`undefined` for normal closes). */
export function errorCodeForClose(code: number): string | undefined {
  switch (code) {
    case CLOSE_CODES.tooLarge:
      return 'FW_ERR_MESSAGE_TOO_LARGE';
    case CLOSE_CODES.unauthorized:
      return 'FW_ERR_UNAUTHORIZED';
    case CLOSE_CODES.forbidden:
    case CLOSE_CODES.kicked:
      return 'FW_ERR_FORBIDDEN';
    case CLOSE_CODES.timeout:
      return 'FW_ERR_TIMEOUT';
    case CLOSE_CODES.badMessage:
      return 'FW_ERR_BAD_MESSAGE';
    case CLOSE_CODES.rateLimited:
      return 'FW_ERR_RATE_LIMITED';
    case CLOSE_CODES.roomFull:
      return 'FW_ERR_ROOM_FULL';
    default:
      return undefined;
  }
}

// ── validation ────────────────────────────────────────────────────────────────────────────────────────────────

/** The result of a parser: the message, or why it was refused. */
export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string; type?: string };

/** Room names: 1–128 characters of letters, digits, `-`, `_`, `.`, `:`. */
export const ROOM_NAME = /^[\w.:-]{1,128}$/;
/** Peer ids are UUIDs. */
const PEER_ID = /^[0-9a-f-]{36}$/;
/** The largest SDP accepted, in characters. */
const MAX_SDP = 32_768;
/** The largest `meta`, in characters of JSON. */
const MAX_META = 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown, max = 256): value is string => typeof value === 'string' && value.length <= max;
const isPeerId = (value: unknown): value is string => typeof value === 'string' && PEER_ID.test(value);

function checkPayload(value: unknown): string | undefined {
  if (!isObject(value)) return 'payload must be an object';
  switch (value['kind']) {
    case 'description': {
      const d = value['description'];
      if (!isObject(d)) return 'payload.description must be an object';
      if (!['offer', 'answer', 'pranswer', 'rollback'].includes(d['type'] as string)) {
        return 'payload.description.type is invalid';
      }
      if (!isString(d['sdp'], MAX_SDP)) return `payload.description.sdp must be a string of at most ${MAX_SDP}`;
      return undefined;
    }
    case 'candidate': {
      const c = value['candidate'];
      if (!isObject(c) || !isString(c['candidate'], 1024)) return 'payload.candidate.candidate must be a string';
      if (c['sdpMid'] != null && !isString(c['sdpMid'], 64)) return 'payload.candidate.sdpMid must be a string';
      const index = c['sdpMLineIndex'];
      if (index != null && !(Number.isInteger(index) && (index as number) >= 0)) {
        return 'payload.candidate.sdpMLineIndex must be an integer ≥ 0';
      }
      return undefined;
    }
    case 'bye':
      return undefined;
    default:
      return 'payload.kind must be description, candidate or bye';
  }
}

function checkMeta(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return 'meta must be an object';
  if (JSON.stringify(value).length > MAX_META) return `meta must serialize to at most ${MAX_META} characters`;
  return undefined;
}

/** Validates one message from a client (the raw text of a WebSocket message). Never throws. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(value)) return { ok: false, reason: 'a message must be a JSON object' };
  const type = value['type'];
  if (typeof type !== 'string') return { ok: false, reason: 'type must be a string' };
  const fail = (reason: string): Parsed<ClientMessage> => ({ ok: false, reason, type });
  switch (type) {
    case 'join': {
      if (!isString(value['room'], 128) || !ROOM_NAME.test(value['room'])) return fail('room must be a room name');
      const meta = checkMeta(value['meta']);
      if (meta) return fail(meta);
      const resume = value['resume'];
      if (resume !== undefined && !(isObject(resume) && isPeerId(resume['peerId']) && isString(resume['resumeKey']))) {
        return fail('resume must be { peerId, resumeKey }');
      }
      break;
    }
    case 'signal': {
      if (!isPeerId(value['to'])) return fail('to must be a peer id');
      const problem = checkPayload(value['payload']);
      if (problem) return fail(problem);
      break;
    }
    case 'relay':
      if (!isPeerId(value['to'])) return fail('to must be a peer id');
      if (!('data' in value)) return fail('data is missing');
      break;
    case 'ping':
      if (!Number.isSafeInteger(value['id'])) return fail('id must be an integer');
      break;
    case 'kick':
      if (!isPeerId(value['peerId'])) return fail('peerId must be a peer id');
      break;
    case 'ice-request':
    case 'leave':
      break;
    default:
      return fail(`unknown type ${JSON.stringify(type.slice(0, 32))}`);
  }
  return { ok: true, message: value as unknown as ClientMessage };
}

const SERVER_TYPES = new Set([
  'welcome',
  'peer-joined',
  'peer-left',
  'signal',
  'relay',
  'pong',
  'ice-servers',
  'error',
  'shutdown',
]);

/**
 * Validates one message from the server: JSON object with a known `type`, and the fields the SDK relies on.
 * Never throws.
 */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(value) || typeof value['type'] !== 'string' || !SERVER_TYPES.has(value['type'])) {
    return { ok: false, reason: 'not a server message' };
  }
  const type = value['type'];
  const fail = (reason: string): Parsed<ServerMessage> => ({ ok: false, reason, type });
  switch (type) {
    case 'welcome':
      if (!isPeerId(value['peerId']) || !Array.isArray(value['peers']) || !Array.isArray(value['iceServers'])) {
        return fail('welcome lacks peerId, peers or iceServers');
      }
      break;
    case 'peer-joined':
      if (!isObject(value['peer']) || !isPeerId(value['peer']['peerId'])) return fail('peer-joined lacks a peer');
      break;
    case 'peer-left':
      if (!isPeerId(value['peerId'])) return fail('peer-left lacks peerId');
      break;
    case 'signal': {
      if (!isPeerId(value['from'])) return fail('signal lacks from');
      const problem = checkPayload(value['payload']);
      if (problem) return fail(problem);
      break;
    }
    case 'relay':
      if (!isPeerId(value['from'])) return fail('relay lacks from');
      break;
    case 'error':
      if (typeof value['code'] !== 'string' || typeof value['message'] !== 'string') return fail('error lacks code');
      break;
    default:
      break;
  }
  return { ok: true, message: value as unknown as ServerMessage };
}
