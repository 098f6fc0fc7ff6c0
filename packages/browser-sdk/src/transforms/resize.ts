import { FramewireError, assertOption } from '@framewire/core';
import { copyCaptureTime } from '../core/capture-time.js';
import type { FrameSource, SourceQueueOptions } from '../core/frame-source.js';
import { resizedSize } from './frame-geometry.js';
import { frameMapStream, type FrameMapStream } from './frame-map-stream.js';
import { TransformedSource } from './transformed-source.js';

/** The scaling filter of a {@link Resize}: the 2D canvas's `imageSmoothingQuality`. */
export type ResizeQuality = 'low' | 'medium' | 'high';

/** Options of {@link Resize}. At least one of `width` and `height` is required. */
export interface ResizeOptions {
  /**
   * Output width, pixels (an integer from 2 to 8192). Default: from `height` and the input's aspect ratio, rounded
   * to an even number.
   */
  width?: number;
  /**
   * Output height, pixels (an integer from 2 to 8192). Default: from `width` and the input's aspect ratio, rounded
   * to an even number. With both, the picture is stretched to exactly `width`×`height`.
   */
  height?: number;
  /** Scaling filter: `low` (bilinear, fastest), `medium` or `high` (sharper when shrinking a lot). Default: `low`. */
  quality?: ResizeQuality;
}

const QUALITIES: readonly ResizeQuality[] = ['low', 'medium', 'high'];
/** Larger than any frame WebCodecs encoders take here, and small enough for a canvas. */
const MAX_SIDE = 8192;

/** Validates {@link ResizeOptions} (`FW_ERR_INVALID_OPTION` naming the option). */
function resolveResizeOptions(options: ResizeOptions): Readonly<ResizeOptions & { quality: ResizeQuality }> {
  assertOption(typeof options === 'object' && (options as unknown) !== null, 'options must be an object');
  const { width, height, quality = 'low' } = options;
  const isSide = (value: unknown): boolean =>
    value === undefined || (Number.isInteger(value) && (value as number) >= 2 && (value as number) <= MAX_SIDE);
  assertOption(isSide(width), `options.width must be an integer from 2 to ${MAX_SIDE}`);
  assertOption(isSide(height), `options.height must be an integer from 2 to ${MAX_SIDE}`);
  assertOption(width !== undefined || height !== undefined, 'options.width or options.height is required');
  assertOption(QUALITIES.includes(quality), `options.quality must be one of ${QUALITIES.join(', ')}`);
  return Object.freeze({ width, height, quality });
}

/**
 * Scales frames to a size, as a transform for `pipeThrough()`: each frame is drawn onto an
 * `OffscreenCanvas` of the output size (one canvas reused for every frame), which becomes the output frame (RGBX,
 * no alpha), with the input's timestamp, duration and capture stamp. Every input frame is closed; a frame that
 * already has the output size passes through unchanged.
 *
 * The input size is the frame's display size (so a {@link Crop} before it is honoured). Give `width`, `height`, or
 * both (stretched to exactly that size). Bad options throw `FW_ERR_INVALID_OPTION` naming the option; a frame that
 * arrives closed is skipped (counted in `skippedFrames`). Like {@link Crop}, its `readable` and `writable` are those
 * of a `TransformStream<VideoFrame, VideoFrame>` made inside (tree-shakeable: it does not extend the global class).
 *
 * @example
 * ```ts
 * const small = camera.readable.pipeThrough(new Resize({ width: 640 })); // 1280×720 → 640×360
 * for await (const frame of small) { draw(frame); frame.close(); }
 * ```
 */
export class Resize implements ReadableWritablePair<VideoFrame, VideoFrame> {
  /** The transformed frames (the reader owns each one). */
  readonly readable: ReadableStream<VideoFrame>;
  /** Where frames go in (the writer gives each one up). */
  readonly writable: WritableStream<VideoFrame>;
  /** The options in effect, `quality` filled in. */
  readonly options: Readonly<ResizeOptions & { quality: ResizeQuality }>;
  readonly #stream: FrameMapStream;

  /** Validates the options: `FW_ERR_INVALID_OPTION` naming the option. */
  constructor(options: ResizeOptions) {
    const resolved = resolveResizeOptions(options);
    let canvas: OffscreenCanvas | undefined;
    let context: OffscreenCanvasRenderingContext2D | undefined;
    this.#stream = frameMapStream((frame, visible) => {
      const { width, height } = resizedSize(frame.displayWidth, frame.displayHeight, resolved);
      if (visible.width === width && visible.height === height && frame.displayWidth === width) return frame;
      if (!canvas || !context) {
        canvas = new OffscreenCanvas(width, height);
        const made = canvas.getContext('2d', { alpha: false });
        if (!made) throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'No 2D context on an OffscreenCanvas');
        context = made;
      } else if (canvas.width !== width || canvas.height !== height) {
        // Setting a size resets the context's state: the smoothing settings below are set again.
        canvas.width = width;
        canvas.height = height;
      }
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = resolved.quality;
      context.drawImage(frame, 0, 0, width, height);
      const init: VideoFrameInit = { timestamp: frame.timestamp, alpha: 'discard' };
      if (frame.duration !== null) init.duration = frame.duration;
      return copyCaptureTime(frame, new VideoFrame(canvas, init));
    });
    this.readable = this.#stream.readable;
    this.writable = this.#stream.writable;
    this.options = resolved;
  }

  /** Frames that arrived closed and were skipped. */
  get skippedFrames(): number {
    return this.#stream.skippedFrames();
  }
}

/** Options of {@link resize}: the {@link ResizeOptions} plus the output queue. */
export interface ResizedSourceOptions extends ResizeOptions {
  /** The resized source's own queue. Default: `backpressure`, 2 frames (the wrapped source decides drops). */
  queue?: SourceQueueOptions;
}

/**
 * Wraps any {@link FrameSource} into one whose frames are scaled by a {@link Resize} (see it for the options). The
 * returned source owns `source`: closing it closes both. Throws `FW_ERR_INVALID_OPTION` on bad options.
 *
 * @example
 * ```ts
 * const small = resize(await CameraSource.open(), { width: 640, height: 360 });
 * for await (const frame of small) { draw(frame); frame.close(); }
 * ```
 */
export function resize(source: FrameSource, options: ResizedSourceOptions): TransformedSource {
  const { queue, ...resizeOptions } = options;
  return new TransformedSource(source, new Resize(resizeOptions), queue === undefined ? {} : { queue });
}
