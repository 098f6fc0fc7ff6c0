import { assertOption } from '@framewire/core';

/** The size and rate a capture source asks the browser for. */
export interface CaptureSizeOptions {
  /** Wanted width in pixels. */
  width?: number;
  /** Wanted height in pixels. */
  height?: number;
  /** Wanted frames per second. */
  frameRate?: number;
}

/** Throws FW_ERR_INVALID_OPTION unless each of `width`, `height` and `frameRate` is absent or a number > 0. */
export function assertCaptureSize(options: CaptureSizeOptions): void {
  for (const key of ['width', 'height', 'frameRate'] as const) {
    const value = options[key];
    assertOption(
      value === undefined || (Number.isFinite(value) && value > 0),
      `options.${key} must be a number > 0; got ${String(value)}`,
    );
  }
}
