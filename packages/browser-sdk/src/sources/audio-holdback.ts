/** The longest an audio packet is held, in ms: a larger gap is a broken clock, not a slow decoder. */
const MAX_HOLD_MS = 1000;
/** Weight of the newest frame in the video delay's moving average (1/20: a slow average that ignores jitter). */
const SMOOTHING = 1 / 20;
/** Gaps between frames longer than this are pauses or losses, not the frame rate. */
const MAX_FRAME_INTERVAL_MS = 250;

/**
 * Lip sync for a receiver that decodes video and audio itself (`BridgeSource`, `MqttSource`): both arrive stamped
 * with their capture time on the sender's one clock, but the video takes longer from capture to the screen (an
 * encoder, a decoder) than the audio. This keeps a slow moving average of the video's capture-to-decoded delay and
 * says how long to hold each audio packet so that sound and picture captured together play together. A decoded
 * frame still waits for the screen (the next refresh the page draws it on) — about one frame interval, measured
 * 30–45 ms of sound ahead of picture at 30 fps without it — so the hold adds the frame interval too. The sender's
 * and the receiver's clocks need not agree: their offset is in both delays and cancels out.
 */
export class AudioHoldback {
  readonly #now: () => number;
  #videoDelayMs: number | undefined;
  /** The video's frame interval (moving average of consecutive capture times), in ms; `undefined` before two. */
  #frameIntervalMs: number | undefined;
  #lastCaptureMs: number | undefined;
  /** When the previous packet is released, on the receiver's clock (ms). */
  #lastReleaseMs = Number.NEGATIVE_INFINITY;

  /** `now` is the receiver's wall clock in ms (default `Date.now`). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The video's capture-to-decoded delay (moving average), in ms; `undefined` before the first frame. */
  get videoDelayMs(): number | undefined {
    return this.#videoDelayMs;
  }

  /** Records a video frame decoded now, captured at `captureTimeMs` (the sender's clock, ms). */
  videoDecoded(captureTimeMs: number): void {
    const delayMs = this.#now() - captureTimeMs;
    this.#videoDelayMs =
      this.#videoDelayMs === undefined ? delayMs : this.#videoDelayMs + (delayMs - this.#videoDelayMs) * SMOOTHING;
    const intervalMs = this.#lastCaptureMs === undefined ? undefined : captureTimeMs - this.#lastCaptureMs;
    this.#lastCaptureMs = captureTimeMs;
    if (intervalMs === undefined || intervalMs <= 0 || intervalMs > MAX_FRAME_INTERVAL_MS) return;
    this.#frameIntervalMs =
      this.#frameIntervalMs === undefined
        ? intervalMs
        : this.#frameIntervalMs + (intervalMs - this.#frameIntervalMs) * SMOOTHING;
  }

  /** The video's frame interval (moving average), in ms; `undefined` before two frames close enough together. */
  get frameIntervalMs(): number | undefined {
    return this.#frameIntervalMs;
  }

  /**
   * How long to hold an audio packet that arrived now, captured at `captureTimeMs` (the sender's clock, ms), before
   * decoding it: the video's extra delay plus its frame interval (the frame's wait for the screen), from 0 (no frame
   * yet, or audio later than video) to 1000 ms. Call it once
   * per packet, in arrival order: no packet is released before the one before it, so that when the video's delay
   * shrinks, the audio catches up without playing out of order.
   */
  holdMs(captureTimeMs: number): number {
    const now = this.#now();
    const videoMs = this.#videoDelayMs === undefined ? 0 : this.#videoDelayMs + (this.#frameIntervalMs ?? 0);
    const holdMs = Math.min(MAX_HOLD_MS, Math.max(0, videoMs - (now - captureTimeMs)));
    this.#lastReleaseMs = Math.max(now + holdMs, this.#lastReleaseMs);
    return this.#lastReleaseMs - now;
  }
}
