import { assertOption } from '@framewire/core';
import { copyCaptureTime } from '../core/capture-time.js';
import type { FrameSource, SourceQueueOptions } from '../core/frame-source.js';
import { cropVisibleRect } from './frame-geometry.js';
import { frameMapStream, type FrameMapStream } from './frame-map-stream.js';
import { TransformedSource } from './transformed-source.js';

/** Options of {@link Crop}: the rectangle to keep, in pixels of the input frame's visible area. */
export interface CropOptions {
  /** Left edge, pixels from the left of the picture (an integer ≥ 0). Default: 0. */
  x?: number;
  /** Top edge, pixels from the top of the picture (an integer ≥ 0). Default: 0. */
  y?: number;
  /** Width of the kept area, pixels (an integer ≥ 1). Required. */
  width: number;
  /** Height of the kept area, pixels (an integer ≥ 1). Required. */
  height: number;
}

/** Validates {@link CropOptions} (`FW_ERR_INVALID_OPTION` naming the option) and fills in the defaults. */
function resolveCropOptions(options: CropOptions): Required<CropOptions> {
  assertOption(typeof options === 'object' && (options as unknown) !== null, 'options must be an object');
  const { x = 0, y = 0, width, height } = options;
  const isInt = (value: unknown, min: number): boolean => Number.isInteger(value) && (value as number) >= min;
  assertOption(isInt(x, 0), 'options.x must be an integer ≥ 0');
  assertOption(isInt(y, 0), 'options.y must be an integer ≥ 0');
  assertOption(isInt(width, 1), 'options.width must be an integer ≥ 1');
  assertOption(isInt(height, 1), 'options.height must be an integer ≥ 1');
  return { x, y, width, height };
}

/**
 * Crops frames to a rectangle, as a transform for `pipeThrough()`, without copying pixels: each output
 * is `new VideoFrame(input, { visibleRect })`, a view of the same picture (encoders, canvases and the Recorder see
 * only the rectangle), with the input's timestamp, duration and capture stamp. Every input frame is closed.
 *
 * The rectangle is in pixels of the input's visible area (a cropped frame can be cropped again). On 4:2:0 frames
 * (I420, NV12: cameras, decoders) a crop can only start on an even column and row: an odd `x` or `y` is rounded
 * down to even there, so the picture starts one pixel left of or above the one asked for; the size is always
 * `width`×`height`. RGB frames (canvas, screen capture) are cropped exactly.
 *
 * A frame too small for the rectangle errors the stream with `FW_ERR_INVALID_OPTION` (fatal); a frame that arrives
 * closed is skipped (counted in `skippedFrames`).
 *
 * `readable` and `writable` are those of a `TransformStream<VideoFrame, VideoFrame>` made inside: the class does
 * not extend `TransformStream`, so that bundlers can leave it out of apps that do not use it.
 *
 * @example
 * ```ts
 * const face = camera.readable.pipeThrough(new Crop({ x: 320, y: 120, width: 640, height: 480 }));
 * for await (const frame of face) { draw(frame); frame.close(); }
 * ```
 */
export class Crop implements ReadableWritablePair<VideoFrame, VideoFrame> {
  /** The transformed frames (the reader owns each one). */
  readonly readable: ReadableStream<VideoFrame>;
  /** Where frames go in (the writer gives each one up). */
  readonly writable: WritableStream<VideoFrame>;
  /** The options in effect, defaults filled in. */
  readonly options: Readonly<Required<CropOptions>>;
  readonly #stream: FrameMapStream;

  /** Validates the options: `FW_ERR_INVALID_OPTION` naming the option when one is not a valid integer. */
  constructor(options: CropOptions) {
    const resolved = Object.freeze(resolveCropOptions(options));
    this.#stream = frameMapStream((frame, visibleRect) =>
      copyCaptureTime(
        frame,
        new VideoFrame(frame, { visibleRect: cropVisibleRect(resolved, visibleRect, frame.format) }),
      ),
    );
    this.readable = this.#stream.readable;
    this.writable = this.#stream.writable;
    this.options = resolved;
  }

  /** Frames that arrived closed and were skipped. */
  get skippedFrames(): number {
    return this.#stream.skippedFrames();
  }
}

/** Options of {@link crop}: the {@link CropOptions} plus the output queue. */
export interface CroppedSourceOptions extends CropOptions {
  /** The cropped source's own queue. Default: `backpressure`, 2 frames (the wrapped source decides drops). */
  queue?: SourceQueueOptions;
}

/**
 * Wraps any {@link FrameSource} into one whose frames are cropped by a {@link Crop} (see it for the options). The
 * returned source owns `source`: closing it closes both. Throws `FW_ERR_INVALID_OPTION` on bad options.
 *
 * @example
 * ```ts
 * const top = crop(await CameraSource.open(), { width: 1280, height: 360 });
 * for await (const frame of top) { draw(frame); frame.close(); }
 * ```
 */
export function crop(source: FrameSource, options: CroppedSourceOptions): TransformedSource {
  const { queue, ...cropOptions } = options;
  return new TransformedSource(source, new Crop(cropOptions), queue === undefined ? {} : { queue });
}
