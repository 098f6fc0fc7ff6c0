import { parseArgs } from 'node:util';
import { FramewireError, assertOption } from '@framewire/core';
import type { H264EncoderRequest } from '../process/h264-encoder-choice.js';
import { assertH264Profile, parseBitrate } from '../process/h264-settings.js';
import { formatDoctorReport, runDoctor, type DoctorConfig } from './doctor-report.js';

/** `framewire-bridge doctor --help`. */
export const DOCTOR_USAGE = `Usage: framewire-bridge doctor [options]

Prints what this machine can do and what the bridge will choose, each with the reason: the board model, the camera
tool (rpicam-vid or libcamera-vid) and the cameras it lists, whether ffmpeg's hardware H.264 encoder (h264_v4l2m2m)
exists and works (a tiny real encode), how fast libx264 encodes at the configured size, ffmpeg and its encoders,
and whether the port is free. Exits 1 when the configuration cannot work (e.g. --source picamera without a camera
tool), 2 for a bad option.

Options (the bridge's own, with the same defaults):
  --source <spec>          repeat for several (default testpattern)
  --size <WxH>             (default 1280x720)      --fps <number>        (default 30)
  --host <address>         (default 127.0.0.1)     --port <number>       (default 8090)
  --camera-command <p>     the camera tool (default: rpicam-vid, else libcamera-vid)
  --ffmpeg <path>          (default ffmpeg)
  --device-model-file <f>  the board model file (default /proc/device-tree/model, then
                           /sys/firmware/devicetree/base/model; FRAMEWIRE_DEVICE_MODEL_FILE)
  --h264-encoder <auto|hardware|software>  --h264-profile <baseline|main|high>  --h264-level <4.1>
  --bitrate <bps>          e.g. 2000000 or 2M      --keyframe-interval <frames>
  --json                   print the report as JSON
  --help                   print this help`;

const options = {
  source: { type: 'string', multiple: true },
  size: { type: 'string' },
  fps: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'camera-command': { type: 'string' },
  ffmpeg: { type: 'string' },
  'device-model-file': { type: 'string' },
  'h264-encoder': { type: 'string' },
  'h264-profile': { type: 'string' },
  'h264-level': { type: 'string' },
  bitrate: { type: 'string' },
  'keyframe-interval': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function positiveNumber(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  assertOption(text !== '' && Number.isFinite(value) && value >= 0, `--${option} must be a number; got ${text}`);
  return value;
}

/** Reads the doctor's options (throws `FW_ERR_INVALID_OPTION` for a bad one). */
function doctorConfig(argv: string[]): { config: DoctorConfig; json: boolean; help: boolean } {
  let values;
  try {
    values = parseArgs({ args: argv, options, strict: true }).values;
  } catch (error) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `${(error as Error).message}\n\n${DOCTOR_USAGE}`);
  }
  const size = /^(\d+)x(\d+)$/.exec(values.size ?? '1280x720');
  assertOption(size, `--size must look like 1280x720; got ${values.size ?? ''}`);
  const frameRate = positiveNumber(values.fps, 'fps', 30);
  const encoder = values['h264-encoder'] ?? 'auto';
  assertOption(
    ['auto', 'hardware', 'software'].includes(encoder),
    `--h264-encoder must be auto, hardware or software; got ${encoder}`,
  );
  const profile = values['h264-profile'] ?? 'baseline';
  assertH264Profile(profile, '--h264-profile');
  return {
    json: values.json === true,
    help: values.help === true,
    config: {
      sources: values.source ?? ['testpattern'],
      width: Number(size[1]),
      height: Number(size[2]),
      frameRate,
      host: values.host ?? process.env['FRAMEWIRE_BRIDGE_HOST'] ?? '127.0.0.1',
      port: positiveNumber(values.port ?? process.env['FRAMEWIRE_BRIDGE_PORT'], 'port', 8090),
      cameraCommand: values['camera-command'],
      ffmpegPath: values.ffmpeg ?? 'ffmpeg',
      deviceModelFile: values['device-model-file'],
      encoder: encoder as H264EncoderRequest,
      profile,
      level: values['h264-level'],
      bitrateBps: values.bitrate === undefined ? 2_000_000 : parseBitrate(values.bitrate, '--bitrate'),
      keyframeIntervalFrames: positiveNumber(
        values['keyframe-interval'],
        'keyframe-interval',
        Math.max(1, Math.round(frameRate)),
      ),
    },
  };
}

/**
 * Runs `framewire-bridge doctor` with `argv` (the arguments after `doctor`): prints the report (text, or JSON with
 * `--json`) and resolves with the exit code: 0 when the configuration can work, 1 when it cannot, 2 for a bad option.
 */
export async function runDoctorCommand(argv: string[]): Promise<number> {
  try {
    const { config, json, help } = doctorConfig(argv);
    if (help) {
      process.stdout.write(`${DOCTOR_USAGE}\n`);
      return 0;
    }
    const report = await runDoctor(config);
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
    return report.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof FramewireError)) throw error;
    process.stderr.write(`framewire-bridge doctor: ${error.code}: ${error.message}\n`);
    return error.code === 'FW_ERR_INVALID_OPTION' ? 2 : 1;
  }
}
