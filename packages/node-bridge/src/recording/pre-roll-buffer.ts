/** One entry of a {@link PreRollBuffer}: a compressed access unit or audio packet with its capture time. */
export interface PreRollEntry {
  /** True for a video keyframe: the only place a recording can start. */
  key: boolean;
  /** Capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
}

/**
 * The last seconds of a source, kept compressed for triggered recording: every entry from the last keyframe at or
 * before the pre-roll window's start (so that a recording can start with a keyframe at least `windowMs` before the
 * trigger) up to the newest. Memory is one GOP plus the window.
 */
export class PreRollBuffer<T extends PreRollEntry> {
  /** The window, in ms. */
  readonly windowMs: number;
  #entries: T[] = [];

  /** Keeps `windowMs` (≥ 0) of entries, plus what leads up to the window from its keyframe. */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Entries held. */
  get length(): number {
    return this.#entries.length;
  }

  /** Adds the newest entry and drops what the window no longer needs. */
  push(entry: T): void {
    this.#entries.push(entry);
    const cutoff = entry.captureTimeMs - this.windowMs;
    let start = -1;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const held = this.#entries[i];
      if (held?.key && held.captureTimeMs <= cutoff) {
        start = i;
        break;
      }
    }
    if (start > 0) this.#entries = this.#entries.slice(start);
    else if (start === -1) {
      // No keyframe old enough yet: keep from the first keyframe (what precedes it cannot be decoded).
      const first = this.#entries.findIndex((e) => e.key);
      this.#entries = first === -1 ? [] : this.#entries.slice(first);
    }
  }

  /** Returns every entry held, oldest first, starting with a keyframe (empty without one), and empties the buffer. */
  drain(): T[] {
    const first = this.#entries.findIndex((e) => e.key);
    const out = first === -1 ? [] : this.#entries.slice(first);
    this.#entries = [];
    return out;
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries = [];
  }
}
