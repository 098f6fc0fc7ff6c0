import { isRawFrame, retainFrame, type SourceFrame } from './source-frame.js';

/**
 * The newest frame and the newest keyframe of a stream (for snapshots and late joiners), holding pooled frames
 * (see `RawFrame.retain`) until they are replaced.
 */
export class LatestFrames {
  #latest: SourceFrame | undefined;
  #latestKey: SourceFrame | undefined;
  #releaseLatest = noop;
  #releaseKey = noop;

  /** The newest frame. */
  get latest(): SourceFrame | undefined {
    return this.#latest;
  }

  /** The newest keyframe (every raw frame is one). */
  get latestKey(): SourceFrame | undefined {
    return this.#latestKey;
  }

  /** Records `frame` as the newest (and, when it is a keyframe, the newest keyframe). */
  set(frame: SourceFrame): void {
    const release = retainFrame(frame);
    this.#releaseLatest();
    this.#latest = frame;
    this.#releaseLatest = release;
    if (isRawFrame(frame) || frame.key) {
      const releaseKey = retainFrame(frame);
      this.#releaseKey();
      this.#latestKey = frame;
      this.#releaseKey = releaseKey;
    }
  }

  /** Forgets both frames. */
  clear(): void {
    this.#releaseLatest();
    this.#releaseKey();
    this.#releaseLatest = this.#releaseKey = noop;
    this.#latest = this.#latestKey = undefined;
  }
}

const noop = (): void => undefined;
