import { assertOption } from '@framewire/core';
import { AnnexBSplitter } from '../media/annex-b-splitter.js';
import type { CameraH264Encoder } from '../process/h264-encoder-choice.js';
import { PI_HARDWARE_H264_LEVELS, assertH264Level, x264Params } from '../process/h264-settings.js';
import { ProcessSource } from './process-source.js';
import { assertVideoGeometry } from './test-pattern-source.js';

/** Options of {@link PiCameraSource}. */
export interface PiCameraSourceOptions {
  /** Source id. Default: `picamera`. */
  id?: string;
  /** The camera tool: `rpicam-vid`, `libcamera-vid` (older Raspberry Pi OS), or a stand-in that takes the same arguments and writes H.264 to stdout. Default: `rpicam-vid`. */
  command?: string;
  /** Which camera, for boards with two (`--camera`). Default: 0. */
  camera?: number;
  /** Frame width in pixels. Default: 1280. */
  width?: number;
  /** Frame height in pixels. Default: 720. */
  height?: number;
  /** Frames per second. Default: 30. */
  frameRate?: number;
  /**
   * Which encoder makes the H.264: `hardware`, rpicam-vid's `h264` codec (the VideoCore encoder of a Pi 4 and
   * earlier), or `software`, libx264 inside rpicam-vid (`--codec libav --libav-video-codec libx264 --low-latency`,
   * i.e. `ultrafast`/`zerolatency`) for a Pi 5, which has no hardware encoder. `chooseCameraEncoder` picks one from
   * the board model. Default: `hardware`.
   */
  encoder?: CameraH264Encoder;
  /**
   * H.264 level (`--level`), e.g. `4.1`: with the hardware encoder 4, 4.1 or 4.2; with libx264 any level from 1 to
   * 5.2. Default: the encoder's own choice.
   */
  level?: string;
  /** Encoder bitrate, in bits per second. Default: 2,000,000. */
  bitrateBps?: number;
  /** Frames between keyframes (`--intra`): late joiners wait at most this long. Default: `frameRate` (1 s). */
  keyframeIntervalFrames?: number;
  /** H.264 profile. Default: `baseline` (every browser decodes it, no B-frames). */
  profile?: 'baseline' | 'main' | 'high';
  /** Rotation in degrees (`--rotation`; the Pi supports 0 and 180). Default: 0. */
  rotation?: 0 | 180;
  /** Mirror horizontally (`--hflip`). Default: false. */
  hflip?: boolean;
  /** Flip vertically (`--vflip`). Default: false. */
  vflip?: boolean;
  /**
   * Camera controls passed as `--<name> <value>` (e.g. `{ shutter: 10000, gain: 2, awb: 'indoor', ev: 0.5,
   * brightness: 0.1, contrast: 1.2, saturation: 1, sharpness: 1, denoise: 'cdn_off' }`); `true` passes a bare flag.
   * Default: none.
   */
  controls?: Record<string, string | number | boolean>;
  /**
   * Emit an access unit when the camera pipe goes quiet for this long, in ms, instead of when the next one starts
   * (rpicam-vid's `--flush` writes one frame at a time). 0 waits for the next frame (always exact, one frame more
   * latency). Default: 3.
   */
  flushIdleMs?: number;
  /** First restart delay after the tool exits, in ms. Default: 500. */
  restartDelayMs?: number;
}

/** The arguments {@link PiCameraSource} passes to `rpicam-vid` for `options` (exported for tests and logs). */
export function piCameraArgs(options: PiCameraSourceOptions = {}): string[] {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const frameRate = options.frameRate ?? 30;
  assertVideoGeometry(width, height, frameRate);
  const bitrateBps = options.bitrateBps ?? 2_000_000;
  assertOption(bitrateBps >= 10_000 && bitrateBps <= 50_000_000, 'bitrateBps must be in 10000..50000000');
  const intra = options.keyframeIntervalFrames ?? Math.max(1, Math.round(frameRate));
  assertOption(Number.isInteger(intra) && intra >= 1, 'keyframeIntervalFrames must be an integer >= 1');
  const rotation = options.rotation ?? 0;
  assertOption([0, 180].includes(rotation), 'rotation must be 0 or 180');
  const profile = options.profile ?? 'baseline';
  assertOption(['baseline', 'main', 'high'].includes(profile), 'profile must be baseline, main or high');
  const encoder: string = options.encoder ?? 'hardware';
  assertOption(['hardware', 'software'].includes(encoder), `encoder must be hardware or software; got ${encoder}`);
  if (options.level !== undefined)
    assertH264Level(options.level, 'level', encoder === 'hardware' ? PI_HARDWARE_H264_LEVELS : undefined);
  // rpicam-vid's libav codec writes a raw H.264 stream (`--libav-format h264`) from libx264 in-process; x264 puts
  // SPS/PPS only before its first keyframe unless asked to repeat them (`--inline` speaks to the hardware encoder).
  const codec =
    encoder === 'hardware'
      ? ['--codec', 'h264']
      : [
          '--codec',
          'libav',
          '--libav-format',
          'h264',
          '--libav-video-codec',
          'libx264',
          '--low-latency',
          '--libav-video-codec-opts',
          `x264-params=${x264Params(profile, true)}`,
        ];
  const args = [
    '--timeout',
    '0',
    '--nopreview',
    ...codec,
    '--inline',
    '--flush',
    '--camera',
    String(options.camera ?? 0),
    '--width',
    String(width),
    '--height',
    String(height),
    '--framerate',
    String(frameRate),
    '--bitrate',
    String(bitrateBps),
    '--intra',
    String(intra),
    '--profile',
    profile,
    ...(options.level === undefined ? [] : ['--level', options.level]),
  ];
  if (rotation) args.push('--rotation', String(rotation));
  if (options.hflip) args.push('--hflip');
  if (options.vflip) args.push('--vflip');
  for (const [name, value] of Object.entries(options.controls ?? {})) {
    assertOption(/^[a-z][a-z0-9-]*$/.test(name), `controls: ${name} is not a camera option name`);
    if (value === false) continue;
    args.push(`--${name}`);
    if (value !== true) args.push(String(value));
  }
  args.push('--output', '-');
  return args;
}

/**
 * A Raspberry Pi camera through `rpicam-vid` (or `libcamera-vid`): the camera tool's H.264 (the Pi's hardware
 * encoder, or libx264 inside rpicam-vid on a Pi 5, see {@link PiCameraSourceOptions.encoder}) is passed through
 * without re-encoding — the low-CPU path to browsers over WebSocket. SPS/PPS come before every keyframe
 * (`--inline`), so viewers can join at any keyframe. The tool is supervised: if it exits (camera unplugged,
 * another program holds it) it is restarted with backoff.
 */
export class PiCameraSource extends ProcessSource {
  readonly #flushIdleMs: number;
  #splitter = new AnnexBSplitter();
  #flushTimer: NodeJS.Timeout | undefined;

  /** Validates the options; `start()` launches the camera tool. */
  constructor(options: PiCameraSourceOptions = {}) {
    super(options.id ?? 'picamera', 'picamera', {
      command: options.command ?? 'rpicam-vid',
      args: piCameraArgs(options),
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
    });
    this.#flushIdleMs = options.flushIdleMs ?? 3;
    assertOption(this.#flushIdleMs >= 0, 'flushIdleMs must be >= 0');
  }

  /** A new camera run: a new H.264 stream. */
  protected onSpawn(): void {
    this.#splitter = new AnnexBSplitter();
  }

  /** Stops the camera tool. */
  protected override release(): Promise<void> {
    clearTimeout(this.#flushTimer);
    return super.release();
  }

  /** Splits the camera's Annex B output into access units. */
  protected onChunk(chunk: Buffer): void {
    clearTimeout(this.#flushTimer);
    this.#emitUnits(this.#splitter.push(chunk));
    if (this.#flushIdleMs > 0)
      this.#flushTimer = setTimeout(() => this.#emitUnits(this.#splitter.flush()), this.#flushIdleMs);
  }

  #emitUnits(units: { data: Buffer; key: boolean }[]): void {
    for (const unit of units) {
      const now = Date.now();
      this.emitFrame({
        codec: 'h264',
        key: unit.key,
        data: unit.data,
        timestampUs: (now - this.startedAtMs) * 1000,
        captureTimeMs: now,
      });
    }
  }
}
