import { assertOption } from '@framewire/core';
import type { IceServer } from './protocol.js';
import type { RoomBus } from './bus/room-bus.js';
import type { TlsOptions } from '@framewire/core/node';
import type { TurnRestOptions } from './turn-credentials.js';

/** TLS material of the signaling server (PEM certificate chain and key): it then serves https and wss on its one port. */
export type SignalingTlsOptions = TlsOptions;

/** Options of `SignalingServer.start`. Every limit has a safe default. */
export interface SignalingServerOptions {
  /** Interface to bind. Default: `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default: 8443. */
  port?: number;
  /** HMAC secret that signs tokens (≥ 16 characters). Required. */
  secret: string;
  /**
   * Certificate and key (PEM): the server then speaks https and wss on its port (every endpoint). Files are read
   * with `readTlsFiles`. Default: none, plain http and ws (put a TLS proxy in front in production).
   */
  tls?: SignalingTlsOptions;
  /**
   * Origins allowed to open the WebSocket from a browser (`https://app.example`). A request without an `Origin`
   * header (a Node client) is not checked. Default: `[]`, every origin refused, which keeps browsers out until
   * configured; `['*']` allows any origin (development only).
   */
  allowedOrigins?: string[];
  /** STUN/TURN servers handed to every client as they are. Default: `[]`. */
  iceServers?: IceServer[];
  /** Time-limited TURN credentials (coturn `use-auth-secret`) minted for each client. Default: none. */
  turn?: TurnRestOptions;
  /** `redis://…` URL to share rooms with other processes; in memory when absent. Default: none. */
  redisUrl?: string;
  /** A ready bus (tests, custom transports); wins over `redisUrl`. The server does not close it. */
  bus?: RoomBus;
  /** Largest WebSocket message accepted, in bytes; bigger ones close the socket (1009). Default: 65536. */
  maxMessageBytes?: number;
  /** Sustained messages a second per connection. Default: 50. */
  messagesPerSecond?: number;
  /** Burst of messages per connection. Default: 100. */
  messageBurst?: number;
  /** Messages dropped for rate before the socket is closed (4029). Default: 50. */
  maxRateViolations?: number;
  /** Malformed messages before the socket is closed (4000). Default: 5. */
  maxBadMessages?: number;
  /** Peers in one room, across processes. Default: 50. */
  maxPeersPerRoom?: number;
  /** Open WebSockets on this process. Default: 10000. */
  maxConnections?: number;
  /** Open WebSockets from one IP address. Default: 100. */
  maxConnectionsPerIp?: number;
  /** Protocol ping interval; a socket that misses one pong is terminated. Default: 15000 ms. */
  heartbeatIntervalMs?: number;
  /** A joined socket that sends nothing for this long is closed (4008). 0 disables. Default: 60000 ms. */
  idleTimeoutMs?: number;
  /** A socket must `join` within this time. Default: 10000 ms. */
  joinTimeoutMs?: number;
  /** How long a vanished peer's id can be resumed. Default: 15000 ms. */
  resumeGraceMs?: number;
  /**
   * With Redis: this process renews a liveness key every third of this time; when it stops (the process crashed),
   * the other processes find its peers within this time, keep them resumable for `resumeGraceMs`, then announce
   * that they left and free their places in the rooms. Default: 15000 ms.
   */
  nodeTtlMs?: number;
  /** Serve `POST /dev/token` (mints tokens for anyone who can reach the server: development only). Default: false. */
  devTokens?: boolean;
  /** Delay announced to peers in `shutdown` before they reconnect, in ms. Default: 500. */
  reconnectAfterMs?: number;
}

/** The numeric limits of {@link SignalingServerOptions}, defaults applied. */
export type Limits = Required<
  Pick<
    SignalingServerOptions,
    | 'maxMessageBytes'
    | 'messagesPerSecond'
    | 'messageBurst'
    | 'maxRateViolations'
    | 'maxBadMessages'
    | 'maxPeersPerRoom'
    | 'maxConnections'
    | 'maxConnectionsPerIp'
    | 'heartbeatIntervalMs'
    | 'idleTimeoutMs'
    | 'joinTimeoutMs'
    | 'resumeGraceMs'
    | 'nodeTtlMs'
    | 'reconnectAfterMs'
  >
>;

/** The default of every limit (one place). */
const DEFAULTS: Limits = {
  maxMessageBytes: 65_536,
  messagesPerSecond: 50,
  messageBurst: 100,
  maxRateViolations: 50,
  maxBadMessages: 5,
  maxPeersPerRoom: 50,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  heartbeatIntervalMs: 15_000,
  idleTimeoutMs: 60_000,
  joinTimeoutMs: 10_000,
  resumeGraceMs: 15_000,
  nodeTtlMs: 15_000,
  reconnectAfterMs: 500,
};

/** The limits of `options` with their defaults; throws `FW_ERR_INVALID_OPTION` naming a limit out of range. */
export function resolveLimits(options: SignalingServerOptions): Limits {
  const limits: Limits = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof Limits)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const zeroOk = key === 'idleTimeoutMs' || key === 'resumeGraceMs' || key === 'reconnectAfterMs';
    assertOption(
      Number.isFinite(value) && (zeroOk ? value >= 0 : value > 0),
      `options.${key} must be a number ${zeroOk ? '≥ 0' : '> 0'}; got ${value}`,
    );
    limits[key] = value;
  }
  return limits;
}
