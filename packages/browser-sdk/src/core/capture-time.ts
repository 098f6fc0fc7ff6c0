/*
 * A VideoFrame has no field for user metadata, so capture wall-clock stamps travel beside frames in a WeakMap
 * (garbage-collected with the frame). Code that makes a new frame from an old one (a transform, a clone) calls
 * `copyCaptureTime`; code that sends frames to a Worker sends the stamp in the same message.
 */
const stamps = new WeakMap<object, number>();

/** Records when `frame` was captured, in ms since the Unix epoch (`Date.now()` time base). Returns `frame`. */
export function stampCaptureTime<F extends object>(frame: F, captureTimeMs: number = Date.now()): F {
  stamps.set(frame, captureTimeMs);
  return frame;
}

/** When `frame` was captured, in ms since the Unix epoch; `undefined` when no source stamped it. */
export function getCaptureTime(frame: object): number | undefined {
  return stamps.get(frame);
}

/** Gives `to` the capture stamp of `from` (when it has one) and returns `to`. */
export function copyCaptureTime<F extends object>(from: object, to: F): F {
  const stamp = stamps.get(from);
  if (stamp !== undefined) stamps.set(to, stamp);
  return to;
}

/** Milliseconds from the capture of `frame` until now (glass-to-glass so far); `undefined` when unstamped. */
export function latencySinceCaptureMs(frame: object, nowMs: number = Date.now()): number | undefined {
  const stamp = stamps.get(frame);
  return stamp === undefined ? undefined : nowMs - stamp;
}
