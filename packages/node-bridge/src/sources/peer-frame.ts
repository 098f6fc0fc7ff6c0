import type { RawFrame } from '../media/raw-frame.js';

/** One decoded I420 frame of a room peer, as the room peer worker delivers it. */
export interface PeerFrame {
  /** Width in pixels (even). */
  width: number;
  /** Height in pixels (even). */
  height: number;
  /** Y, U and V planes: `width × height × 1.5` bytes. */
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * A bridge raw frame (I420, stamped with its arrival time `receivedAtMs`) holding a copy of `frame`'s pixels, or
 * `undefined` when `frame` is not well-formed I420 (odd size, wrong length).
 */
export function peerFrameToRaw(frame: PeerFrame, receivedAtMs: number): RawFrame | undefined {
  const expected = frame.width * frame.height * 1.5;
  if (frame.width % 2 !== 0 || frame.height % 2 !== 0 || frame.data.length !== expected) return undefined;
  return {
    width: frame.width,
    height: frame.height,
    format: 'I420',
    // A copy: outputs keep the newest frame (snapshots) while the reader reuses its buffer.
    data: Buffer.from(frame.data),
    captureTimeMs: receivedAtMs,
  };
}
