/** One `fw.meta` message from the bridge: a frame's capture time `c` and when it was handed to the encoder `f`. */
export interface FrameMeta {
  /** Capture wall-clock time, ms since the Unix epoch. */
  c: number;
  /** When the bridge fed the frame to its WebRTC encoder, ms since the Unix epoch. */
  f: number;
}

const KEEP_METAS = 300;
const MATCH_MS = 2;
const LOCK_VOTES = 8;

/**
 * Recovers each received WebRTC frame's capture time from its RTP timestamp. The sender's RTP clock runs at
 * 90 kHz from its feed time plus an unknown random offset, so `rtpMs - feedMs` is one constant `K` per stream.
 * The bridge sends every frame's feed and capture times on the `fw.meta` data channel; pairs of (frame, meta)
 * vote for `K` until one value clearly wins (about ten frames; after 60 frames the best is taken), after which
 * every frame maps to its own meta.
 */
export class RtpCaptureClock {
  readonly #metas: FrameMeta[] = [];
  readonly #votes = new Map<number, number>();
  #offsetMs: number | undefined;
  #lastRtp: number | undefined;
  #wraps = 0;
  #lastDelayMs = 0;
  #voted = 0;

  /** Records a `fw.meta` message. */
  addMeta(meta: FrameMeta): void {
    if (typeof meta.c !== 'number' || typeof meta.f !== 'number') return;
    this.#metas.push(meta);
    if (this.#metas.length > KEEP_METAS) this.#metas.shift();
  }

  /** True once the RTP-to-feed-time offset is known. */
  get locked(): boolean {
    return this.#offsetMs !== undefined;
  }

  /** The capture time of the frame with `rtpTimestamp`, in ms since the epoch; `undefined` until locked. */
  captureTimeOf(rtpTimestamp: number): number | undefined {
    const rtpMs = this.#unwrap(rtpTimestamp) / 90;
    const offsetMs = this.#offsetMs ?? this.#vote(rtpMs);
    if (offsetMs === undefined) return undefined;
    const fedMs = rtpMs - offsetMs;
    const meta = this.#nearest(fedMs);
    if (meta && Math.abs(meta.f - fedMs) <= MATCH_MS) {
      this.#lastDelayMs = meta.f - meta.c;
      return meta.c;
    }
    // The meta was lost (data channel messages are unreliable): assume the bridge's delay did not change.
    return fedMs - this.#lastDelayMs;
  }

  #unwrap(rtp: number): number {
    if (this.#lastRtp !== undefined && rtp < this.#lastRtp - 2 ** 31) this.#wraps++;
    else if (this.#lastRtp !== undefined && rtp > this.#lastRtp + 2 ** 31) this.#wraps--;
    this.#lastRtp = rtp;
    return rtp + this.#wraps * 2 ** 32;
  }

  /** Adds the votes of one frame; returns the offset once it is decided. */
  #vote(rtpMs: number): number | undefined {
    this.#voted++;
    for (const meta of this.#metas.slice(-60)) {
      const key = Math.round(rtpMs - meta.f);
      // Neighbouring keys count too: the two clocks round differently.
      for (const k of [key - 1, key, key + 1]) this.#votes.set(k, (this.#votes.get(k) ?? 0) + (k === key ? 2 : 1));
    }
    let best: [number, number] | undefined;
    let second = 0;
    for (const [key, count] of this.#votes) {
      if (!best || count > best[1]) {
        if (best && Math.abs(best[0] - key) > 2) second = Math.max(second, best[1]);
        best = [key, count];
      } else if (Math.abs(best[0] - key) > 2) second = Math.max(second, count);
    }
    // A perfectly regular sender leaves neighbours one frame apart tied: after 60 frames, take the best.
    if (best && ((best[1] >= 2 * LOCK_VOTES && best[1] >= second + 6) || this.#voted >= 60)) {
      this.#offsetMs = best[0];
      this.#votes.clear();
    }
    return this.#offsetMs;
  }

  #nearest(fedMs: number): FrameMeta | undefined {
    let found: FrameMeta | undefined;
    for (const meta of this.#metas) if (!found || Math.abs(meta.f - fedMs) < Math.abs(found.f - fedMs)) found = meta;
    return found;
  }
}
