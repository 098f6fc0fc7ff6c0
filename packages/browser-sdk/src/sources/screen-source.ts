import { FramewireError, assertOption } from '@framewire/core';
import { assertCaptureSize } from './capture-size-options.js';
import { TrackSource } from './track-source.js';
import { mediaDeviceError } from './media-device-error.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import { assertSecureContext } from '../core/secure-context.js';

/** A rectangle of the captured picture, in pixels of the captured frames (ScreenGear's top/left/width/height). */
export interface ScreenRegion {
  /** Left edge, ≥ 0. */
  x: number;
  /** Top edge, ≥ 0. */
  y: number;
  /** Width, > 0. */
  width: number;
  /** Height, > 0. */
  height: number;
}

/** Options of {@link ScreenSource.open}. Every field is optional; with none, the browser asks what to share. */
export interface ScreenSourceOptions {
  /**
   * Delivers only this part of the picture (a zero-copy crop). Edges are rounded down to even pixels, as 4:2:0
   * frames require, and clamped to the picture when the shared surface shrinks. Default: the whole picture.
   */
  region?: ScreenRegion;
  /** Whether the browser draws the mouse cursor: `always`, `motion` or `never`. Default: `always`. */
  cursor?: 'always' | 'motion' | 'never';
  /** Ideal frame rate in frames per second. Default: the browser's default (often 30). */
  frameRate?: number;
  /** Ideal capture width in pixels. Default: the surface's own width. */
  width?: number;
  /** Ideal capture height in pixels. Default: the surface's own height. */
  height?: number;
  /** What the picker offers first: `monitor`, `window` or `browser`. Default: the browser's choice. */
  displaySurface?: 'monitor' | 'window' | 'browser';
  /** Also asks for the shared surface's audio; see {@link ScreenSource.audioTrack}. Default: `false`. */
  audio?: boolean;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 1 }` (the newest frame wins). */
  queue?: SourceQueueOptions;
}

const CURSORS = ['always', 'motion', 'never'] as const;

/**
 * The screen, a window or a tab as a frame source — vidgear's `ScreenGear` in the browser (`getDisplayMedia`).
 *
 * When the user stops sharing (the browser's "Stop sharing" button), the source ends cleanly: `read()` returns
 * `null` and `end` fires with reason `ended`.
 *
 * @example
 * ```ts
 * const screen = await Framewire.ScreenSource.open({ region: { x: 0, y: 0, width: 640, height: 360 } });
 * const frame = await screen.read(); // 640×360
 * ```
 */
export class ScreenSource extends TrackSource {
  /** The shared surface's audio track when `audio: true` was asked and granted; stopped by `close()`. */
  readonly audioTrack: MediaStreamTrack | undefined;
  readonly #region: ScreenRegion | undefined;

  private constructor(
    track: MediaStreamTrack,
    audioTrack: MediaStreamTrack | undefined,
    region: ScreenRegion | undefined,
    queue: SourceQueueOptions | undefined,
  ) {
    super('screen', track, queue);
    this.audioTrack = audioTrack;
    this.#region = region;
  }

  /**
   * Asks the user what to share and opens it. Rejects with `FW_ERR_PERMISSION_DENIED` (the user cancelled or a
   * policy forbids capture), `FW_ERR_NOT_SUPPORTED`, `FW_ERR_INVALID_OPTION` or `FW_ERR_DEVICE_BUSY`.
   */
  static async open(options: ScreenSourceOptions = {}): Promise<ScreenSource> {
    validate(options);
    assertSecureContext('ScreenSource', 'capture');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined outside secure contexts
    if (!navigator.mediaDevices?.getDisplayMedia) {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'getDisplayMedia is not available in this browser', {
        fatal: true,
        stage: 'capture',
      });
    }
    const video: MediaTrackConstraints & { cursor?: string; displaySurface?: string } = {
      cursor: options.cursor ?? 'always',
    };
    if (options.frameRate !== undefined) video.frameRate = { ideal: options.frameRate };
    if (options.width !== undefined) video.width = { ideal: options.width };
    if (options.height !== undefined) video.height = { ideal: options.height };
    if (options.displaySurface !== undefined) video.displaySurface = options.displaySurface;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video, audio: options.audio ?? false });
    } catch (error) {
      throw mediaDeviceError(error, 'screen');
    }
    const [track] = stream.getVideoTracks();
    const audioTrack = stream.getAudioTracks()[0];
    if (!track) {
      for (const t of stream.getTracks()) t.stop();
      throw new FramewireError('FW_ERR_DEVICE_NOT_FOUND', 'The shared surface has no video track', { fatal: true });
    }
    const { width = 0, height = 0 } = track.getSettings();
    const region = options.region;
    if (region && width > 0 && height > 0 && (region.x >= width || region.y >= height)) {
      for (const t of stream.getTracks()) t.stop();
      throw new FramewireError(
        'FW_ERR_INVALID_OPTION',
        `options.region starts outside the ${width}x${height} shared surface`,
        { fatal: true, stage: 'options' },
      );
    }
    return new ScreenSource(track, audioTrack, region, options.queue);
  }

  /** The crop applied to every frame, as given (before rounding and clamping); `undefined` for none. */
  get region(): ScreenRegion | undefined {
    return this.#region ? { ...this.#region } : undefined;
  }

  /** Crops to the region: a new frame sharing the same pixels, with a smaller visible rectangle. */
  protected override prepareFrame(frame: VideoFrame): VideoFrame | undefined {
    const region = this.#region;
    const visible = frame.visibleRect;
    if (!region || !visible) return frame;
    const even = (n: number): number => Math.max(0, Math.floor(n / 2) * 2);
    const x = even(Math.min(region.x, visible.width - 2));
    const y = even(Math.min(region.y, visible.height - 2));
    const width = Math.max(2, even(Math.min(region.width, visible.width - x)));
    const height = Math.max(2, even(Math.min(region.height, visible.height - y)));
    try {
      return new VideoFrame(frame, {
        visibleRect: { x: visible.x + x, y: visible.y + y, width, height },
        displayWidth: width,
        displayHeight: height,
      });
    } finally {
      frame.close();
    }
  }

  /** Stops the video track (see {@link TrackSource}) and the audio track. */
  protected override async release(): Promise<void> {
    this.audioTrack?.stop();
    await super.release();
  }
}

function validate(options: ScreenSourceOptions): void {
  assertCaptureSize(options);
  assertOption(
    options.cursor === undefined || (CURSORS as readonly unknown[]).includes(options.cursor),
    `options.cursor must be one of ${CURSORS.join(', ')}; got ${String(options.cursor)}`,
  );
  const region = options.region;
  if (region !== undefined) {
    for (const key of ['x', 'y'] as const) {
      assertOption(
        Number.isInteger(region[key]) && region[key] >= 0,
        `options.region.${key} must be an integer ≥ 0; got ${String(region[key])}`,
      );
    }
    for (const key of ['width', 'height'] as const) {
      assertOption(
        Number.isInteger(region[key]) && region[key] >= 2,
        `options.region.${key} must be an integer ≥ 2; got ${String(region[key])}`,
      );
    }
  }
}
