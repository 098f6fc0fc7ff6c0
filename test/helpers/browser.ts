/** Shared helpers for browser tests. */

/** Resolves after `ms` milliseconds (to pace a producer or a slow consumer, never to wait for a state). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A `width`×`height` frame of one colour with timestamp `timestampUs`, drawn on an OffscreenCanvas. */
export function solidFrame(timestampUs: number, width = 64, height = 48, colour = '#3a6'): VideoFrame {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d context');
  context.fillStyle = colour;
  context.fillRect(0, 0, width, height);
  return new VideoFrame(canvas, { timestamp: timestampUs });
}

/** True once `frame.close()` has been called (a closed frame has no format and no size). */
export const isClosed = (frame: VideoFrame): boolean => frame.format === null && frame.codedWidth === 0;

/** Rejects with `what` after `ms` milliseconds unless `promise` settles first. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` every 20 ms until it returns a truthy value, and resolves with it; rejects with `what` after
 * `timeoutMs` (default 60 s: a deadline that only bounds a hang, long enough for a loaded machine).
 */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value; // truthy, hence not null or undefined
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves with the error `fn` rejects with; fails when it resolves. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the call resolved');
}

/** Returns the error `fn` throws; fails when it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, but the call returned');
}
