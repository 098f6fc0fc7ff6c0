import { FramewireError, assertOption } from '@framewire/core';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import type { SourceQueueOptions } from '../core/frame-source.js';

/** What {@link ElementSource} reads from. */
export type FrameElement = HTMLCanvasElement | OffscreenCanvas | HTMLVideoElement | HTMLImageElement | ImageBitmap;

/** Options of {@link ElementSource}. */
export interface ElementSourceOptions {
  /**
   * Frames per second taken from a canvas or an image. A video element gives one frame per frame it shows, so
   * this does not apply to it. Default: 30.
   */
  frameRate?: number;
  /** Stops after this many frames (then `read()` returns `null`). Default: no limit. */
  maxFrames?: number;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 2 }` (the newest frame wins). */
  queue?: SourceQueueOptions;
}

/**
 * A canvas, a video element or an image as a frame source.
 *
 * A `<video>` gives a frame each time it presents one (`requestVideoFrameCallback`), timestamped with its media
 * time, and the source ends when the video ends. A canvas or an image is sampled `frameRate` times a second,
 * timestamped from the moment the source started; it never ends by itself. A cross-origin element without CORS
 * cannot be read: that fails with `FW_ERR_PERMISSION_DENIED`.
 *
 * @example
 * ```ts
 * const source = new Framewire.ElementSource(document.querySelector('canvas'), { frameRate: 25 });
 * ```
 */
export class ElementSource extends QueuedFrameSource {
  /** The element read from. */
  readonly element: FrameElement;
  readonly #frameRate: number;
  readonly #maxFrames: number;
  readonly #startMs = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #videoCallback: number | undefined;
  #count = 0;
  #stopped = false;
  readonly #onEnded = (): void => this.#end();

  /** Starts reading `element`. Throws `FW_ERR_INVALID_OPTION` on bad options or an element of another kind. */
  constructor(element: FrameElement, options: ElementSourceOptions = {}) {
    super('element', options.queue, 'latest');
    assertOption(isFrameElement(element), 'element must be a canvas, OffscreenCanvas, video, img or ImageBitmap');
    const frameRate = options.frameRate ?? 30;
    assertOption(Number.isFinite(frameRate) && frameRate > 0, `options.frameRate must be > 0; got ${frameRate}`);
    const maxFrames = options.maxFrames ?? Infinity;
    assertOption(
      maxFrames === Infinity || (Number.isInteger(maxFrames) && maxFrames > 0),
      'options.maxFrames must be an integer > 0',
    );
    this.element = element;
    this.#frameRate = frameRate;
    this.#maxFrames = maxFrames;
    if (element instanceof HTMLVideoElement) {
      element.addEventListener('ended', this.#onEnded);
      this.#watchVideo(element);
    } else {
      this.#tick();
    }
  }

  #watchVideo(video: HTMLVideoElement): void {
    this.#videoCallback = video.requestVideoFrameCallback((_now, metadata) => {
      this.#videoCallback = undefined;
      if (this.#stopped) return;
      void this.#capture(Math.round(metadata.mediaTime * 1e6)).then((more) => {
        if (more) this.#watchVideo(video);
      });
    });
  }

  #tick(): void {
    const due = this.#startMs + (this.#count * 1000) / this.#frameRate;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.#stopped) return;
        void this.#capture(Math.round((performance.now() - this.#startMs) * 1000)).then((more) => {
          if (more) this.#tick();
        });
      },
      Math.max(0, due - performance.now()),
    );
  }

  /** Takes one frame; resolves whether to go on. */
  async #capture(timestampUs: number): Promise<boolean> {
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(this.element, { timestamp: timestampUs });
    } catch (error) {
      const denied = error instanceof DOMException && error.name === 'SecurityError';
      // An image still loading or a canvas of size 0 has nothing to give yet: try again at the next tick.
      if (!denied && error instanceof DOMException && error.name === 'InvalidStateError') return true;
      this.#stopped = true;
      this.fail(
        new FramewireError(
          denied ? 'FW_ERR_PERMISSION_DENIED' : 'FW_ERR_MEDIA_UNREADABLE',
          denied
            ? 'The element is cross-origin without CORS: its pixels cannot be read'
            : `Cannot read a frame from the element: ${String(error)}`,
          { cause: error, fatal: true, stage: 'capture' },
        ),
      );
      return false;
    }
    this.#count++;
    if (!(await this.deliver(frame, Date.now()))) return false;
    if (this.#count >= this.#maxFrames) {
      this.#end();
      return false;
    }
    return !this.#stopped;
  }

  #end(): void {
    this.#stop();
    this.finish();
  }

  #stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.element instanceof HTMLVideoElement) {
      this.element.removeEventListener('ended', this.#onEnded);
      if (this.#videoCallback !== undefined) this.element.cancelVideoFrameCallback(this.#videoCallback);
    }
  }

  /** Stops sampling; the element itself is left as it is. */
  protected release(): void {
    this.#stop();
  }
}

function isFrameElement(value: unknown): value is FrameElement {
  return (
    value instanceof HTMLCanvasElement ||
    value instanceof HTMLVideoElement ||
    value instanceof HTMLImageElement ||
    (typeof OffscreenCanvas === 'function' && value instanceof OffscreenCanvas) ||
    (typeof ImageBitmap === 'function' && value instanceof ImageBitmap)
  );
}
