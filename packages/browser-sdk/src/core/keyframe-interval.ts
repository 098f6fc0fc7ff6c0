/** The keyframe interval option, under its name and under the spelling it had before (kept for one release). */
export interface KeyframeIntervalOption {
  /** A keyframe every this many frames. */
  keyframeIntervalFrames?: number;
  /**
   * The earlier spelling of `keyframeIntervalFrames`.
   * @deprecated Use `keyframeIntervalFrames` (docs/guides/names.md). Kept for one release.
   */
  keyFrameIntervalFrames?: number;
}

/** The keyframe interval `options` ask for (the current spelling wins), or `undefined`. */
export function keyframeIntervalOf(options: KeyframeIntervalOption): number | undefined {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- read for one release, see the option's note
  return options.keyframeIntervalFrames ?? options.keyFrameIntervalFrames;
}
