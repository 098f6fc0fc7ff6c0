import type { StabilizerBorderType } from './stabilizer-options.js';
import type { PathPoint } from './trajectory-smoother.js';

type Context = OffscreenCanvasRenderingContext2D;

/**
 * Warps full-resolution frames with a 2D canvas (`setTransform` + `drawImage`): the browser's own bilinear
 * scaler, on the GPU when there is one and in Skia's raster path otherwise, with no pixel readback into WASM.
 * Borders other than black are drawn as mirrored, tiled or stretched copies of the frame around it, which is
 * what OpenCV's `copyMakeBorder` + `warpAffine` border modes produce.
 */
export class FrameWarper {
  readonly #borderType: StabilizerBorderType;
  #context: Context | undefined;

  /** @param borderType how the area the moved frame no longer covers is filled. */
  constructor(borderType: StabilizerBorderType) {
    this.#borderType = borderType;
  }

  /**
   * Draws `frame` moved, turned and zoomed by `correction` (about its centre), zoomed by `scale` about the centre of an
   * `outputWidth`×`outputHeight` output, and returns the new frame with `frame`'s timestamp and duration.
   * Does not close `frame`.
   */
  warp(frame: VideoFrame, correction: PathPoint, scale: number, outputWidth: number, outputHeight: number): VideoFrame {
    const context = this.#contextFor(outputWidth, outputHeight);
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    context.setTransform(1, 0, 0, 1, 0, 0);
    if (this.#borderType === 'black') {
      context.fillStyle = '#000';
      context.fillRect(0, 0, outputWidth, outputHeight);
    }
    context.translate(outputWidth / 2, outputHeight / 2);
    context.scale(scale, scale);
    context.translate(correction.x, correction.y);
    context.rotate(correction.angle);
    const zoom = correction.scale ?? 1;
    if (zoom !== 1) context.scale(zoom, zoom);
    context.translate(-w / 2, -h / 2);
    if (this.#borderType !== 'black') this.#drawBorders(context, frame, w, h);
    context.drawImage(frame, 0, 0, w, h);
    const init: VideoFrameInit = { timestamp: frame.timestamp, alpha: 'discard' };
    if (frame.duration !== null) init.duration = frame.duration;
    return new VideoFrame(context.canvas, init);
  }

  /** Draws the eight neighbours of the frame that the border mode implies. */
  #drawBorders(context: Context, frame: VideoFrame, w: number, h: number): void {
    for (let j = -1; j <= 1; j++) {
      for (let i = -1; i <= 1; i++) {
        if (i === 0 && j === 0) continue;
        switch (this.#borderType) {
          case 'wrap':
            context.drawImage(frame, i * w, j * h, w, h);
            break;
          case 'replicate': {
            // The edge row/column (or corner pixel) stretched over the neighbour's area.
            const sx = i < 0 ? 0 : i > 0 ? w - 1 : 0;
            const sy = j < 0 ? 0 : j > 0 ? h - 1 : 0;
            context.drawImage(frame, sx, sy, i === 0 ? w : 1, j === 0 ? h : 1, i * w, j * h, w, h);
            break;
          }
          case 'reflect':
          case 'reflect101': {
            // Mirror x → m − x: `reflect` repeats the edge pixel (…cba|abc…), `reflect101` does not (…dcb|abc…).
            const edge = this.#borderType === 'reflect' ? 0 : 1;
            const mx = i === 0 ? 0 : i > 0 ? 2 * w - edge : edge;
            const my = j === 0 ? 0 : j > 0 ? 2 * h - edge : edge;
            context.save();
            context.translate(mx, my);
            context.scale(i === 0 ? 1 : -1, j === 0 ? 1 : -1);
            context.drawImage(frame, 0, 0, w, h);
            context.restore();
            break;
          }
          case 'black':
            break;
        }
      }
    }
  }

  #contextFor(width: number, height: number): Context {
    const current = this.#context;
    if (current?.canvas.width === width && current.canvas.height === height) return current;
    const context = new OffscreenCanvas(width, height).getContext('2d', { alpha: false });
    if (!context) throw new Error('no 2D context for warping');
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'low';
    this.#context = context;
    return context;
  }
}
