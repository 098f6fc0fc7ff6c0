import type { EncodedFrame } from './encoded-frame.js';
import type { RawFrame } from './raw-frame.js';

/** What a bridge source produces: an encoded frame (JPEG, H.264) or a raw one. */
export type SourceFrame = EncodedFrame | RawFrame;

/** True when `frame` is a {@link RawFrame} (it has a pixel `format`; encoded frames have a `codec`). */
export function isRawFrame(frame: SourceFrame): frame is RawFrame {
  return 'format' in frame;
}

/** The stream format of a frame: `jpeg`, `h264` or a raw pixel format such as `BGR24`. */
export function frameFormat(frame: SourceFrame): string {
  return isRawFrame(frame) ? frame.format : frame.codec;
}

/**
 * Keeps `frame`'s bytes from being reused (see {@link RawFrame.retain}) until the returned function is called; for
 * frames that are not pooled it does nothing.
 */
export function retainFrame(frame: SourceFrame): () => void {
  return isRawFrame(frame) && frame.retain ? frame.retain() : noop;
}

const noop = (): void => undefined;
