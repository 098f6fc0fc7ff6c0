/**
 * Where a real-time stream's media time zero falls on the wall clock, estimated from arrivals: each packet or frame
 * that arrives at `arrivalMs` with its end at media time `mediaEndMs` shows that the stream started no later than
 * `arrivalMs − mediaEndMs`; the earliest such bound seen (the one that came through with the least delay) is the
 * estimate. An encoder's audio and video share one clock, so that a frame and a sound made at the same media
 * time get the same capture time whatever their different encoding and delivery delays.
 */
export class MediaStartClock {
  #startMs = Number.POSITIVE_INFINITY;

  /** The estimated wall-clock time of media time 0, in ms since the Unix epoch; `undefined` before the first. */
  get startMs(): number | undefined {
    return Number.isFinite(this.#startMs) ? this.#startMs : undefined;
  }

  /** Takes one arrival into the estimate and returns the capture time of media time `mediaStartMs`. */
  observe(arrivalMs: number, mediaEndMs: number, mediaStartMs = mediaEndMs): number {
    this.#startMs = Math.min(this.#startMs, arrivalMs - mediaEndMs);
    return this.#startMs + mediaStartMs;
  }
}
