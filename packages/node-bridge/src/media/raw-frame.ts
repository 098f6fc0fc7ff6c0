/** Pixel layouts of {@link RawFrame}s: packed BGR/RGB (OpenCV's and NetGear's), 8-bit grey, or planar I420. */
export type RawPixelFormat = 'BGR24' | 'RGB24' | 'GRAY8' | 'I420';

/** An uncompressed frame as it travels inside the bridge (see the design's Node-side contract). */
export interface RawFrame {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Pixel layout of `data`. */
  format: RawPixelFormat;
  /** The pixels, tightly packed (no row padding). */
  data: Buffer;
  /** Capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
}

/** Bytes of one tightly packed frame of `format` at `width`×`height`. */
export function rawFrameBytes(width: number, height: number, format: RawPixelFormat): number {
  switch (format) {
    case 'BGR24':
    case 'RGB24':
      return width * height * 3;
    case 'GRAY8':
      return width * height;
    case 'I420':
      return width * height + 2 * (Math.ceil(width / 2) * Math.ceil(height / 2));
  }
}

/** ffmpeg's `-pix_fmt` name of a {@link RawPixelFormat}. */
export function ffmpegPixelFormat(format: RawPixelFormat): string {
  return { BGR24: 'bgr24', RGB24: 'rgb24', GRAY8: 'gray', I420: 'yuv420p' }[format];
}
