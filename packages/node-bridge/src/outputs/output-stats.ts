/**
 * The counters every network output of the bridge reports (in `stats`, and in `/metrics` labelled with the source
 * and the output). What counts as a client, and why a frame is dropped, depends on the output: its `stats` getter
 * says.
 */
export interface OutputStats {
  /** Clients served at the moment (viewers, or 1 while an outgoing connection is up). */
  clients: number;
  /** Frames or access units sent. */
  framesSent: number;
  /** Frames or access units not sent (a slow client, a connection not ready, nothing usable yet). */
  framesDropped: number;
  /** Bytes sent. */
  bytesSent: number;
}
