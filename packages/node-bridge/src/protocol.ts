/*
 * The bridge's wire protocol: isomorphic types shared with the browser SDK (no DOM, no `node:`).
 */

/** Health of one bridge source. */
export type SourceState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

/** One source in the `/health` answer. */
export interface SourceHealth {
  /** The source's id, used in URLs (e.g. `testpattern`). */
  id: string;
  /** What kind of source it is, e.g. `testpattern`, `v4l2`, `rtsp`, `netgear`. */
  kind: string;
  /** Current state. */
  state: SourceState;
  /** Frames produced since start. */
  frames: number;
  /** Restarts after a failure since start. */
  restarts: number;
  /** The last error code, when the source failed at least once. */
  lastError?: string;
}

/** The JSON body of `GET /health`. */
export interface BridgeHealth {
  /** `ok` when every source runs, `degraded` when one is restarting or failed. */
  status: 'ok' | 'degraded';
  /** Always `framewire-bridge`. */
  service: 'framewire-bridge';
  /** The bridge version. */
  version: string;
  /** Seconds since the bridge started. */
  uptimeS: number;
  /** Every source. */
  sources: SourceHealth[];
}

/** The bridge's HTTP paths. Per-source paths are `/sources/<id>/video` and `/sources/<id>/snapshot.jpg`. */
export const BRIDGE_PATHS = {
  /** JSON {@link BridgeHealth}. */
  health: '/health',
  /** MJPEG stream (`multipart/x-mixed-replace`) of the first source. */
  video: '/video',
  /** The newest JPEG frame of the first source. */
  snapshot: '/snapshot.jpg',
} as const;
