/*
 * The signaling wire protocol: isomorphic types shared with the browser SDK (no DOM, no `node:`).
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
} as const;
