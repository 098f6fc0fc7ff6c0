/** One `fw.meta` message from the bridge: a frame's capture time `c` and when it was handed to the encoder `f`. */
export interface FrameMeta {
  /** Capture wall-clock time, ms since the Unix epoch. */
  c: number;
  /** When the bridge fed the frame to its WebRTC encoder, ms since the Unix epoch. */
  f: number;
  /**
   * The frame's 90 kHz RTP timestamp, when the sender knows it (the bridge's H.264 passthrough writes the RTP
   * itself): the clock then takes the offset from it, with no vote. Without it, a perfectly regular stream leaves
   * frames one interval apart indistinguishable.
   */
  r?: number;
}

const KEEP_METAS = 300;
const MATCH_MS = 2;
const LOCK_VOTES = 8;
/** Frames that vote with the metas, and are kept to check the lock against later metas. */
const VOTE_WINDOW = 60;
/** Frames or metas that find no partner, in a row, before the lock is taken for a wrong one and voted again. */
const RELOCK_AFTER_MISSES = 30;
/** Frames in a row without their meta that still get a capture time from the last known delay (a lost meta). */
const GUESSED_MISSES = 5;

/**
 * Recovers each received WebRTC frame's capture time from its RTP timestamp. The sender's RTP clock runs at
 * 90 kHz from its feed time plus an unknown random offset, so `rtpMs - feedMs` is one constant `K` per stream.
 * The sender sends every frame's feed and capture times on a data channel (`fw.meta`); pairs of (frame, meta)
 * vote for `K` until one value clearly wins (about ten frames; after 60 frames the best is taken), after which
 * every frame maps to its own meta.
 *
 * The data channel and the media path do not keep pace with each other (on a busy machine the metas can arrive
 * frames after their frames), so each pair votes once, whichever of the two arrives last, and a frame whose meta
 * is still on its way gets its capture time from the sender's latest delay. The lock is confirmed when a frame
 * and a meta meet; when {@link RELOCK_AFTER_MISSES} frames or metas in a row pass without meeting, it was wrong
 * and the offset is voted again. A capture time is never given before the lock is confirmed. A sender that knows
 * its RTP timestamps puts them in its metas (`r`): the offset is then read, not voted.
 */
export class RtpCaptureClock {
  readonly #metas: FrameMeta[] = [];
  readonly #votes = new Map<number, number>();
  /** RTP times (ms, unwrapped) of the latest frames, newest last. */
  readonly #frames: number[] = [];
  #offsetMs: number | undefined;
  #confirmed = false;
  #lastRtp: number | undefined;
  #wraps = 0;
  #lastDelayMs: number | undefined;
  #voted = 0;
  #misses = 0;

  /** Records a `fw.meta` message. */
  addMeta(meta: FrameMeta): void {
    if (typeof meta.c !== 'number' || typeof meta.f !== 'number') return;
    this.#metas.push(meta);
    if (this.#metas.length > KEEP_METAS) this.#metas.shift();
    this.#lastDelayMs = meta.f - meta.c;
    if (this.#offsetMs === undefined && typeof meta.r === 'number' && Number.isFinite(meta.r)) {
      // The sender told this frame's RTP timestamp: the offset is known, no vote needed.
      this.#offsetMs = this.#unwrapped(meta.r) / 90 - meta.f;
      this.#votes.clear();
    }
    const offsetMs = this.#offsetMs;
    if (offsetMs === undefined) {
      // The frames that arrived before this meta vote with it now.
      for (const rtpMs of this.#frames) this.#count(rtpMs - meta.f);
      return;
    }
    // Its frame may be here already: they meet, or the frames went past this meta without it.
    const fed = this.#frames.map((rtpMs) => rtpMs - offsetMs);
    if (fed.some((fedMs) => Math.abs(fedMs - meta.f) <= MATCH_MS)) this.#met();
    else if (fed.some((fedMs) => fedMs > meta.f + MATCH_MS)) this.#missed();
  }

  /** True once the RTP-to-feed-time offset is known. */
  get locked(): boolean {
    return this.#offsetMs !== undefined;
  }

  /**
   * The capture time of the frame with `rtpTimestamp`, in ms since the epoch; `undefined` until the offset is
   * known and confirmed, or when the lock is in doubt.
   */
  captureTimeOf(rtpTimestamp: number): number | undefined {
    const rtpMs = this.#unwrap(rtpTimestamp) / 90;
    this.#frames.push(rtpMs);
    if (this.#frames.length > VOTE_WINDOW) this.#frames.shift();
    const offsetMs = this.#offsetMs ?? this.#vote(rtpMs);
    if (offsetMs === undefined) return undefined;
    const fedMs = rtpMs - offsetMs;
    const meta = this.#nearest(fedMs);
    if (meta && Math.abs(meta.f - fedMs) <= MATCH_MS) {
      this.#met();
      return meta.c;
    }
    // The metas went past this frame without its own (lost: data channel messages are unreliable), or it is still
    // on its way: assume the sender's delay did not change, while the lock holds.
    if ((this.#metas.at(-1)?.f ?? -Infinity) > fedMs + MATCH_MS && this.#missed()) return undefined;
    const delayMs = this.#lastDelayMs;
    return this.#confirmed && this.#misses <= GUESSED_MISSES && delayMs !== undefined ? fedMs - delayMs : undefined;
  }

  #met(): void {
    this.#confirmed = true;
    this.#misses = 0;
  }

  /** Counts a frame or meta that found no partner; returns true when the lock was dropped for it. */
  #missed(): boolean {
    if (++this.#misses < RELOCK_AFTER_MISSES) return false;
    this.#offsetMs = undefined;
    this.#confirmed = false;
    this.#voted = 0;
    this.#misses = 0;
    this.#votes.clear();
    this.#frames.length = 0;
    return true;
  }

  /** `rtp` unwrapped like the frames' timestamps, without moving their unwrapping state. */
  #unwrapped(rtp: number): number {
    let wraps = this.#wraps;
    if (this.#lastRtp !== undefined && rtp < this.#lastRtp - 2 ** 31) wraps++;
    else if (this.#lastRtp !== undefined && rtp > this.#lastRtp + 2 ** 31) wraps--;
    return rtp + wraps * 2 ** 32;
  }

  /** `rtp` unwrapped across 2^32, moving the unwrapping state to it (frames arrive in order). */
  #unwrap(rtp: number): number {
    const unwrapped = this.#unwrapped(rtp);
    this.#wraps = Math.round((unwrapped - rtp) / 2 ** 32);
    this.#lastRtp = rtp;
    return unwrapped;
  }

  /** One pair's vote for the offset `rtpMs - feedMs`; neighbouring keys count too (the two clocks round differently). */
  #count(offsetMs: number): void {
    const key = Math.round(offsetMs);
    for (const k of [key - 1, key, key + 1]) this.#votes.set(k, (this.#votes.get(k) ?? 0) + (k === key ? 2 : 1));
  }

  /** Adds the votes of one frame with the metas already here; returns the offset once it is decided. */
  #vote(rtpMs: number): number | undefined {
    this.#voted++;
    for (const meta of this.#metas.slice(-VOTE_WINDOW)) this.#count(rtpMs - meta.f);
    let best: [number, number] | undefined;
    let second = 0;
    for (const [key, count] of this.#votes) {
      if (!best || count > best[1]) {
        if (best && Math.abs(best[0] - key) > 2) second = Math.max(second, best[1]);
        best = [key, count];
      } else if (Math.abs(best[0] - key) > 2) second = Math.max(second, count);
    }
    // A perfectly regular sender leaves neighbours one frame apart nearly tied: after 60 frames, take the best.
    if (best && ((best[1] >= 2 * LOCK_VOTES && best[1] >= second + 6) || this.#voted >= VOTE_WINDOW)) {
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
