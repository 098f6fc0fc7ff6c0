/** Messages from the main thread to the MJPEG worker, keyed on `type`. */
export type MjpegRequest =
  /** Connects (again) to `url`; a previous connection is dropped first. */
  | { type: 'connect'; url: string }
  /** The main thread took a frame: the worker may decode another (at most two are in flight). */
  | { type: 'ack' }
  /** Drops the connection (the worker stays, ready for another `connect`). */
  | { type: 'disconnect' };

/** Messages from the MJPEG worker to the main thread, keyed on `type`. */
export type MjpegResponse =
  /** The response headers arrived and are usable. */
  | { type: 'connected' }
  /** A decoded frame (transferred), with its arrival wall-clock time. */
  | { type: 'frame'; frame: VideoFrame; captureTimeMs: number }
  /** A JPEG that could not be decoded was skipped. */
  | { type: 'skipped'; reason: string }
  /** The connection failed (`status` set for an HTTP error) or ended (`ended`). */
  | { type: 'disconnected'; ended: boolean; status: number | undefined; message: string };
