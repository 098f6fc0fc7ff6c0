import { readDeviceModel, type DeviceModel } from '../process/device-model.js';
import { h264OutputArgs } from '../process/ffmpeg-args.js';
import {
  chooseCameraEncoder,
  chooseRawEncoder,
  type CameraH264Encoder,
  type EncoderDecision,
  type H264EncoderRequest,
  type HardwareEncoderState,
  type RawH264Encoder,
} from '../process/h264-encoder-choice.js';
import type { H264Profile } from '../process/h264-settings.js';
import { probeHardwareH264 } from '../process/hardware-encoder-probe.js';
import { piCameraArgs } from '../sources/pi-camera-source.js';
import {
  measureSoftwareH264,
  probeCameraTool,
  probeFfmpeg,
  probePort,
  type CameraToolReport,
  type FfmpegReport,
  type PortReport,
  type SoftwareSpeedReport,
} from './machine-probes.js';

/** The configuration `doctor` checks (the bridge's own options). */
export interface DoctorConfig {
  /** The `--source` specs. */
  sources: string[];
  width: number;
  height: number;
  frameRate: number;
  host: string;
  port: number;
  /** `--camera-command`; undefined tries rpicam-vid, then libcamera-vid. */
  cameraCommand: string | undefined;
  ffmpegPath: string;
  /** `--device-model-file`; undefined reads `FRAMEWIRE_DEVICE_MODEL_FILE` or the device tree. */
  deviceModelFile: string | undefined;
  encoder: H264EncoderRequest;
  profile: H264Profile;
  level: string | undefined;
  bitrateBps: number;
  keyframeIntervalFrames: number;
}

/** Something that keeps the configuration from working (`error`) or working well (`warning`). */
export interface DoctorProblem {
  severity: 'error' | 'warning';
  message: string;
}

/** What `framewire-bridge doctor --json` prints. */
export interface DoctorReport {
  /** No problem of severity `error`: the configuration can work (the exit code is 0). */
  ok: boolean;
  /** The configuration checked. */
  config: DoctorConfig;
  device: DeviceModel;
  cameraTool: CameraToolReport;
  /** ffmpeg's `h264_v4l2m2m`: listed, and whether a tiny real encode worked. */
  hardwareEncoder: HardwareEncoderState;
  softwareEncoder: SoftwareSpeedReport;
  ffmpeg: FfmpegReport;
  port: PortReport;
  /** What the bridge will choose, each with its reason. */
  choices: {
    /** The `picamera` source's encoder and the camera tool's arguments. */
    picamera: EncoderDecision<CameraH264Encoder> & { command: string; args: string[] };
    /** The bridge's own H.264 encode of raw sources (test pattern, decoded cameras and files). */
    rawSources: EncoderDecision<RawH264Encoder> & { args: string[] };
  };
  problems: DoctorProblem[];
}

/**
 * Looks at this machine (board model, camera tool and its cameras, ffmpeg and its encoders, a test encode with
 * `h264_v4l2m2m`, libx264's speed at the configured size, the port) and says what the bridge will choose for
 * `config`, and why. Throws `FW_ERR_INVALID_OPTION` for options the bridge would refuse.
 */
export async function runDoctor(config: DoctorConfig): Promise<DoctorReport> {
  const device = readDeviceModel(config.deviceModelFile);
  const picamera = chooseCameraEncoder(device, config.encoder);
  const h264 = {
    bitrateBps: config.bitrateBps,
    keyframeIntervalFrames: config.keyframeIntervalFrames,
    profile: config.profile,
    ...(config.level === undefined ? {} : { level: config.level }),
  };
  const cameraArgs = piCameraArgs({
    width: config.width,
    height: config.height,
    frameRate: config.frameRate,
    encoder: picamera.encoder,
    ...h264,
  });
  const [cameraTool, ffmpeg, hardwareEncoder, softwareEncoder, port] = [
    await probeCameraTool(config.cameraCommand),
    await probeFfmpeg(config.ffmpegPath),
    await probeHardwareH264(config.ffmpegPath),
    await measureSoftwareH264(config.ffmpegPath, config.width, config.height, config.frameRate),
    await probePort(config.host, config.port),
  ];
  const raw = chooseRawEncoder(device, hardwareEncoder, config.encoder);
  const rawArgs = h264OutputArgs({ ...h264, encoder: raw.encoder });
  const usesCamera = config.sources.some((spec) => spec.split('#')[0] === 'picamera');
  const problems: DoctorProblem[] = [];
  const error = (message: string): void => void problems.push({ severity: 'error', message });
  const warn = (message: string): void => void problems.push({ severity: 'warning', message });
  if (!ffmpeg.found) error(`ffmpeg (${config.ffmpegPath}) is ${ffmpeg.version}: every source but picamera needs it`);
  if (usesCamera && !cameraTool.found)
    error(`--source picamera needs a camera tool: ${cameraTool.detail} (install rpicam-apps)`);
  if (usesCamera && cameraTool.found && cameraTool.cameras.length === 0)
    warn(`${cameraTool.command} --list-cameras lists no camera (${cameraTool.detail})`);
  if (!port.free) error(`port ${config.port} on ${config.host} is not free (${port.detail}): choose --port`);
  if (raw.encoder === 'h264_v4l2m2m' && !hardwareEncoder.works)
    error(`h264_v4l2m2m does not work here (${hardwareEncoder.detail}): use --h264-encoder auto or software`);
  if (raw.encoder === 'libx264' && ffmpeg.found && ffmpeg.encoders['libx264'] !== true)
    error('ffmpeg has no libx264: raw sources cannot be encoded to H.264');
  const softwareUsed = raw.encoder === 'libx264' || (usesCamera && picamera.encoder === 'software');
  if (softwareUsed && softwareEncoder.fps !== undefined && !softwareEncoder.keepsUp)
    warn(
      `libx264 encodes ${config.width}x${config.height} at ${softwareEncoder.fps} fps here, below --fps ${config.frameRate}: ` +
        'lower --size or --fps',
    );
  return {
    ok: problems.every((problem) => problem.severity !== 'error'),
    config,
    device,
    cameraTool,
    hardwareEncoder,
    softwareEncoder,
    ffmpeg,
    port,
    choices: {
      picamera: { ...picamera, command: cameraTool.command, args: cameraArgs },
      rawSources: { ...raw, args: rawArgs },
    },
    problems,
  };
}

/** The report as text for a terminal: one line per finding, each with its reason. */
export function formatDoctorReport(report: DoctorReport): string {
  const { device, cameraTool, hardwareEncoder, softwareEncoder, ffmpeg, port, choices } = report;
  const yes = (value: boolean): string => (value ? 'yes' : 'no');
  const lines = [
    `Board:            ${device.model ?? 'unknown'} (${device.file}; ${device.kind === 'other' ? 'not a Raspberry Pi' : device.kind === 'pi5' ? 'Raspberry Pi 5: no hardware H.264 encoder' : 'Raspberry Pi with a hardware H.264 encoder'})`,
    `Camera tool:      ${cameraTool.found ? `${cameraTool.command}, ${cameraTool.cameras.length} camera(s)` : `none (${cameraTool.detail})`}`,
    ...cameraTool.cameras.map((camera) => `                    ${camera}`),
    `Hardware H.264:   h264_v4l2m2m listed: ${yes(hardwareEncoder.listed)}, works: ${yes(hardwareEncoder.works)}${hardwareEncoder.works ? '' : ` (${hardwareEncoder.detail})`}`,
    `Software H.264:   libx264 ultrafast/zerolatency at ${softwareEncoder.width}x${softwareEncoder.height}: ${
      softwareEncoder.fps === undefined
        ? `failed (${softwareEncoder.detail})`
        : `${softwareEncoder.fps} fps (configured ${softwareEncoder.frameRate} fps: ${softwareEncoder.keepsUp ? 'keeps up' : 'too slow'})`
    }`,
    `ffmpeg:           ${ffmpeg.found ? ffmpeg.version : `${ffmpeg.path}: ${ffmpeg.version}`}`,
    `  encoders:       ${Object.entries(ffmpeg.encoders)
      .map(([name, listed]) => `${name} ${yes(listed)}`)
      .join(', ')}`,
    `Port:             ${port.host}:${port.port} ${port.detail}`,
    '',
    `picamera encodes: ${choices.picamera.encoder} (${choices.picamera.reason})`,
    `  ${choices.picamera.command} ${choices.picamera.args.join(' ')}`,
    `raw sources:      ${choices.rawSources.encoder} (${choices.rawSources.reason})`,
    '',
    ...(report.problems.length === 0
      ? ['No problems found.']
      : report.problems.map((problem) => `${problem.severity === 'error' ? 'ERROR' : 'warning'}: ${problem.message}`)),
  ];
  return `${lines.join('\n')}\n`;
}
