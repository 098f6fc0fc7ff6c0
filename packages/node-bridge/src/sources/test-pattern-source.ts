import { assertOption } from '@framewire/core';
import { toneTestPatternGraph } from '../process/audio-args.js';
import type { H264EncodeOptions } from '../process/ffmpeg-args.js';
import { FfmpegSource } from './ffmpeg-source.js';

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
  /** What the source produces: `jpeg` or `h264`. Default: `jpeg`. */
  codec?: 'jpeg' | 'h264';
  /** H.264 settings for `codec: 'h264'`. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /**
   * `tone`: a 1 kHz beep of 100 ms once a second (Opus, mono), with the frames of each beep painted white, so that
   * a receiver can measure audio/video sync; both come from one ffmpeg on one clock. Default: `none`.
   */
  audio?: 'tone' | 'none';
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /**
   * Run the pattern's ffmpeg only while something consumes the source (a viewer of any output, a snapshot, MQTT,
   * NetGear, shared memory): `/health` says `idle` until then, and ffmpeg stops `idleStopMs` after the last consumer
   * left (a bridge's feed is a consumer until 2 s after its last viewer). `latest` is `undefined` while idle, so code
   * that reads it without subscribing wants the default. The CLI's pattern runs on demand unless it has audio.
   * Default: false (ffmpeg runs from `start()` to `close()`).
   */
  onDemand?: boolean;
  /** With `onDemand`: how long ffmpeg keeps running after the last consumer left, in ms. Default: 2000. */
  idleStopMs?: number;
}

/** Checks width, height and frame rate options with the bounds every ffmpeg-based source shares. */
export function assertVideoGeometry(width: number, height: number, frameRate: number): void {
  assertOption(Number.isInteger(width) && width >= 16 && width <= 7680, 'width must be an integer in 16..7680');
  assertOption(Number.isInteger(height) && height >= 16 && height <= 4320, 'height must be an integer in 16..4320');
  assertOption(frameRate > 0 && frameRate <= 240, 'frameRate must be in (0, 240]');
}

/**
 * The built-in test source: ffmpeg's `testsrc2` pattern (moving colour bars with a frame counter), paced in real
 * time. It needs no camera, so the demo and the tests run anywhere ffmpeg does. With `audio: 'tone'` it beeps
 * once a second and flashes white on the frames of the beep. With `onDemand`, ffmpeg runs only while the source has
 * consumers.
 */
export function createTestPatternSource(options: TestPatternSourceOptions = {}): FfmpegSource {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const frameRate = options.frameRate ?? 30;
  assertVideoGeometry(width, height, frameRate);
  const audio = options.audio ?? 'none';
  assertOption(['tone', 'none'].includes(audio), `audio of the test pattern must be tone or none; got ${audio}`);
  const graph =
    audio === 'tone'
      ? toneTestPatternGraph(width, height, frameRate)
      : `testsrc2=size=${width}x${height}:rate=${frameRate}`;
  return new FfmpegSource({
    id: options.id ?? 'testpattern',
    kind: 'testpattern',
    inputArgs: ['-re', '-f', 'lavfi', '-i', graph],
    ...(audio === 'tone' ? { audio: { map: '0:a:0', channels: 1 } } : {}),
    codec: options.codec ?? 'jpeg',
    frameRate,
    h264: { keyframeIntervalFrames: Math.max(1, Math.round(frameRate)), ...options.h264 },
    ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
    ...(options.onDemand === undefined ? {} : { onDemand: options.onDemand }),
    ...(options.idleStopMs === undefined ? {} : { idleStopMs: options.idleStopMs }),
  });
}
