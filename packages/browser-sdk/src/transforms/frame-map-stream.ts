/** The streams of a one-frame-in, one-frame-out transform made by {@link frameMapStream}. */
export interface FrameMapStream extends ReadableWritablePair<VideoFrame, VideoFrame> {
  /** Frames that arrived closed and were skipped so far. */
  skippedFrames(): number;
}

/**
 * A `TransformStream<VideoFrame, VideoFrame>` that passes each frame through `map` and owns the frames' lifetimes:
 * the input is closed once `map` has made its output (or thrown), unless `map` returned the input itself (passed
 * through unchanged). A frame that arrives closed (no size, no visible rect) is skipped and counted. An error thrown
 * by `map` errors the stream. Shared by the frame transforms (Crop, Resize), which keep their own options.
 */
export function frameMapStream(map: (frame: VideoFrame, visibleRect: DOMRectReadOnly) => VideoFrame): FrameMapStream {
  let skipped = 0;
  const stream = new TransformStream<VideoFrame, VideoFrame>({
    transform: (frame, controller) => {
      const visibleRect = frame.visibleRect;
      if (frame.codedWidth === 0 || visibleRect === null) {
        skipped++;
        return;
      }
      let output: VideoFrame | undefined;
      try {
        output = map(frame, visibleRect);
        controller.enqueue(output);
      } finally {
        if (output !== frame) frame.close();
      }
    },
  });
  return { readable: stream.readable, writable: stream.writable, skippedFrames: () => skipped };
}
