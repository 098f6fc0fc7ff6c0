/** An encoded frame as it travels inside the bridge (see the design's Node-side contract). */
export interface EncodedFrame {
  /** `jpeg`, `h264`, … */
  codec: string;
  /** True for a keyframe (always true for JPEG). */
  key: boolean;
  /** The encoded bytes. */
  data: Buffer;
  /** Presentation time since the source started, in µs. */
  timestampUs: number;
  /** Capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
}
