import { assertOption } from '@framewire/core';
import { FfmpegJpegSource } from './ffmpeg-jpeg-source.js';

/** Options of {@link createTestPatternSource}. */
export interface TestPatternSourceOptions {
  /** Source id. Default: `testpattern`. */
  id?: string;
  /** Frame width in pixels. Default: 1280. */
  width?: number;
  /** Frame height in pixels. Default: 720. */
  height?: number;
  /** Frames per second. Default: 30. */
  frameRate?: number;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
}

/**
 * The built-in test source: ffmpeg's `testsrc2` pattern (moving colour bars with a frame counter), paced in real
 * time. It needs no camera, so the demo and the tests run anywhere ffmpeg does.
 */
export function createTestPatternSource(options: TestPatternSourceOptions = {}): FfmpegJpegSource {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const frameRate = options.frameRate ?? 30;
  assertOption(Number.isInteger(width) && width >= 16 && width <= 7680, 'width must be an integer in 16..7680');
  assertOption(Number.isInteger(height) && height >= 16 && height <= 4320, 'height must be an integer in 16..4320');
  assertOption(frameRate > 0 && frameRate <= 240, 'frameRate must be in (0, 240]');
  const source = {
    id: options.id ?? 'testpattern',
    kind: 'testpattern',
    inputArgs: ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${frameRate}`],
  };
  return new FfmpegJpegSource(options.ffmpegPath ? { ...source, ffmpegPath: options.ffmpegPath } : source);
}
