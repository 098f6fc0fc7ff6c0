/*
 * Per-frame metadata of decoded frames (vidgear's FFGear frame metadata): like capture stamps (capture-time.ts),
 * it travels beside the VideoFrame in a WeakMap, garbage-collected with the frame.
 */
const infos = new WeakMap<object, FrameInfo>();

/** What a source knows about the encoded picture a decoded frame came from (see {@link getFrameInfo}). */
export interface FrameInfo {
  /** The picture's presentation timestamp (pts) from its source, in µs (the frame's `timestamp` too). */
  timestampUs: number;
  /** True when the picture was a keyframe (IDR): a decoder could start there. */
  key: boolean;
  /**
   * The picture type, `I`, `P` or `B`, from its first slice header, as the Node bridge sends it; absent when the
   * sender did not say (a bridge that predates frame types, a codec other than H.264).
   */
  frameType?: 'I' | 'P' | 'B';
}

/** Records `info` for `frame` (sources call this as they decode). Returns `frame`. */
export function stampFrameInfo<F extends object>(frame: F, info: FrameInfo): F {
  infos.set(frame, info);
  return frame;
}

/**
 * The metadata of `frame`'s encoded picture: its pts, whether it was a keyframe and its picture type (I/P/B).
 * `BridgeSource` (WebSocket) and `WhepSource` (the bridge's data channel) stamp every frame they decode;
 * `undefined` for frames of other sources, and for new frames a transform made (they are new pictures).
 */
export function getFrameInfo(frame: object): FrameInfo | undefined {
  return infos.get(frame);
}
