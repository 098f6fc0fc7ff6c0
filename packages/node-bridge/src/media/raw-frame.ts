/** Pixel layouts of {@link RawFrame}s; byte layouts as in ffmpeg's `-pix_fmt` of the same name in lower case. */
export type RawPixelFormat = 'I420' | 'NV12' | 'RGB24' | 'BGR24' | 'RGBA' | 'BGRA' | 'GRAY8';

/** Every {@link RawPixelFormat}, for validation. */
export const RAW_PIXEL_FORMATS: readonly RawPixelFormat[] = ['I420', 'NV12', 'RGB24', 'BGR24', 'RGBA', 'BGRA', 'GRAY8'];

/** An uncompressed frame as it travels inside the bridge (see the design's Node-side contract). */
export interface RawFrame {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Pixel layout of `data`. */
  format: RawPixelFormat;
  /** The pixels, tightly packed (no row padding), exactly {@link rawFrameBytes} long. */
  data: Buffer;
  /** Capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
  /**
   * Present when `data` is a pooled buffer, reused once every holder has let go of it (a NetGear source receives
   * into such buffers). A consumer that keeps `data` after its `frame` listener returns (an asynchronous write, a
   * "latest frame" slot) calls `retain()` and the returned function once done with the bytes, or copies them.
   * Absent: `data` is an ordinary buffer that lives as long as it is referenced.
   */
  retain?: () => () => void;
}

/** Something that emits raw frames, such as a decoding source: `on('frame', ({ frame }) => …)`. */
export interface RawFrameEmitter {
  /** Subscribes to frames; returns the unsubscribe function. */
  on(event: 'frame', listener: (payload: { frame: RawFrame }) => void): () => void;
}

/** Bytes of one tightly packed frame of `format` at `width`×`height` (chroma planes rounded up for odd sizes). */
export function rawFrameBytes(width: number, height: number, format: RawPixelFormat): number {
  const luma = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  switch (format) {
    case 'I420':
    case 'NV12':
      return luma + 2 * chroma;
    case 'RGB24':
    case 'BGR24':
      return luma * 3;
    case 'RGBA':
    case 'BGRA':
      return luma * 4;
    case 'GRAY8':
      return luma;
  }
}

/** ffmpeg's `-pix_fmt` name of a {@link RawPixelFormat}. */
export function ffmpegPixelFormat(format: RawPixelFormat): string {
  return format === 'I420' ? 'yuv420p' : format === 'GRAY8' ? 'gray' : format.toLowerCase();
}
