/*
 * A frame kept for look-ahead. Holding the source's VideoFrame itself would keep a capture buffer busy (cameras
 * have a pool of a few), so its pixels are copied into memory and the original is closed at once.
 */

/** A copy of a frame's pixels that no longer holds the source's buffer. */
export interface HeldFrame {
  /** Makes a VideoFrame of the copy (the caller closes it). */
  toFrame(): VideoFrame;
  /** Frees the copy. */
  release(): void;
}

/** Copies `frame` (which is then closed). Uses `copyTo` when the pixels are CPU-readable, an ImageBitmap otherwise. */
export async function holdFrame(frame: VideoFrame): Promise<HeldFrame> {
  try {
    if (frame.format !== null) {
      const data = new Uint8Array(frame.allocationSize());
      const layout = await frame.copyTo(data);
      const init: VideoFrameBufferInit = {
        format: frame.format,
        codedWidth: frame.visibleRect?.width ?? frame.codedWidth,
        codedHeight: frame.visibleRect?.height ?? frame.codedHeight,
        displayWidth: frame.displayWidth,
        displayHeight: frame.displayHeight,
        timestamp: frame.timestamp,
        layout,
        colorSpace: frame.colorSpace.toJSON(),
      };
      if (frame.duration !== null) init.duration = frame.duration;
      return { toFrame: () => new VideoFrame(data, init), release: () => undefined };
    }
    const bitmap = await createImageBitmap(frame);
    const init: VideoFrameInit = { timestamp: frame.timestamp };
    if (frame.duration !== null) init.duration = frame.duration;
    return { toFrame: () => new VideoFrame(bitmap, init), release: () => bitmap.close() };
  } finally {
    frame.close();
  }
}
