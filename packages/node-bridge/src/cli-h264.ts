import { assertOption, createLogger } from '@framewire/core';
import { readDeviceModel } from './process/device-model.js';
import type { H264EncodeOptions } from './process/ffmpeg-args.js';
import { chooseCameraEncoder, chooseRawEncoder, type H264EncoderRequest } from './process/h264-encoder-choice.js';
import { assertH264Level, assertH264Profile } from './process/h264-settings.js';
import { probeHardwareH264 } from './process/hardware-encoder-probe.js';
import type { SourceSpecOptions } from './sources/source-spec.js';

/** The CLI's H.264 options (`--h264-encoder`, `--h264-profile`, `--h264-level`, `--device-model-file`). */
export interface H264CliOptions {
  encoder: string | undefined;
  profile: string | undefined;
  level: string | undefined;
  deviceModelFile: string | undefined;
  ffmpegPath: string | undefined;
  /** A `picamera` source is configured (its choice is then logged). */
  usesCamera: boolean;
}

/** What the CLI passes to the sources and to the bridge's own H.264 encoder. */
export interface H264CliSettings {
  source: Pick<SourceSpecOptions, 'cameraEncoder' | 'h264Profile' | 'h264Level'>;
  encode: Pick<H264EncodeOptions, 'profile' | 'level' | 'encoder'>;
}

const log = createLogger('h264');

/**
 * Validates the H.264 options and chooses the encoders from the board model (`chooseCameraEncoder`,
 * `chooseRawEncoder`); on a Raspberry Pi with a hardware encoder, `h264_v4l2m2m` is tried once with a tiny encode.
 * Off a Pi, with no option given, nothing changes: rpicam-vid's h264 codec and libx264 baseline.
 */
export async function h264CliSettings(options: H264CliOptions): Promise<H264CliSettings> {
  const requested = options.encoder ?? 'auto';
  assertOption(
    ['auto', 'hardware', 'software'].includes(requested),
    `--h264-encoder must be auto, hardware or software; got ${requested}`,
  );
  const { profile, level } = options;
  if (profile !== undefined) assertH264Profile(profile, '--h264-profile');
  if (level !== undefined) assertH264Level(level, '--h264-level');
  const device = readDeviceModel(options.deviceModelFile);
  const request = requested as H264EncoderRequest;
  const camera = chooseCameraEncoder(device, request);
  const hardware = device.kind === 'pi' && request === 'auto' ? await probeHardwareH264(options.ffmpegPath) : undefined;
  const raw = chooseRawEncoder(device, hardware, request);
  if (options.usesCamera || device.kind !== 'other' || request !== 'auto') {
    log.info(`picamera encodes with ${camera.encoder}: ${camera.reason}`);
    log.info(`raw sources encode with ${raw.encoder}: ${raw.reason}`);
  }
  return {
    source: {
      cameraEncoder: camera.encoder,
      ...(profile === undefined ? {} : { h264Profile: profile }),
      ...(level === undefined ? {} : { h264Level: level }),
    },
    encode: {
      ...(profile === undefined ? {} : { profile }),
      ...(level === undefined ? {} : { level }),
      ...(raw.encoder === 'libx264' ? {} : { encoder: raw.encoder }),
    },
  };
}
