import type { DeviceModel } from './device-model.js';

/** What `--h264-encoder` asks for: `auto` (the board decides), `hardware` or `software`. */
export type H264EncoderRequest = 'auto' | 'hardware' | 'software';

/** The H.264 encoders the `picamera` source can use: rpicam-vid's hardware `h264` codec, or libx264 through its libav codec. */
export type CameraH264Encoder = 'hardware' | 'software';

/** The ffmpeg encoders the bridge's own H.264 encode of raw sources can use. */
export type RawH264Encoder = 'libx264' | 'h264_v4l2m2m';

/** A choice and why it was made (what `framewire-bridge doctor` prints). */
export interface EncoderDecision<T extends string> {
  /** The encoder chosen. */
  encoder: T;
  /** One sentence saying why. */
  reason: string;
}

/** Whether ffmpeg's `h264_v4l2m2m` ran a test encode (see `probeHardwareH264`). */
export interface HardwareEncoderState {
  /** ffmpeg lists the encoder. */
  listed: boolean;
  /** A tiny test encode succeeded. */
  works: boolean;
  /** ffmpeg's last error line when it failed, else `ok`. */
  detail: string;
}

function describe(device: DeviceModel): string {
  return device.model === undefined ? `no board model (${device.file} unreadable)` : `"${device.model}"`;
}

/**
 * The encoder of the `picamera` source: on a Raspberry Pi 5 (no hardware H.264 encoder) libx264 inside rpicam-vid
 * (`--codec libav`); anywhere else rpicam-vid's hardware `h264` codec, as before. `requested` other than `auto`
 * wins. Default `requested`: `auto`.
 */
export function chooseCameraEncoder(
  device: DeviceModel,
  requested: H264EncoderRequest = 'auto',
): EncoderDecision<CameraH264Encoder> {
  if (requested !== 'auto')
    return { encoder: requested, reason: `--h264-encoder ${requested} asks for it (board: ${describe(device)})` };
  if (device.kind === 'pi5')
    return {
      encoder: 'software',
      reason: `${describe(device)} has no hardware H.264 encoder: rpicam-vid encodes with libx264 (ultrafast, zerolatency)`,
    };
  if (device.kind === 'pi')
    return {
      encoder: 'hardware',
      reason: `${describe(device)} has the hardware H.264 encoder: rpicam-vid's h264 codec`,
    };
  return {
    encoder: 'hardware',
    reason: `${describe(device)} is not a Raspberry Pi: the camera tool's default h264 codec`,
  };
}

/**
 * The encoder of the bridge's own H.264 encode of raw sources (test pattern, decoded cameras and files): ffmpeg's
 * `h264_v4l2m2m` on a Raspberry Pi whose hardware encoder passed a test encode, else libx264
 * (`ultrafast`/`zerolatency`). `requested` other than `auto` wins. Default `requested`: `auto`.
 */
export function chooseRawEncoder(
  device: DeviceModel,
  hardware: HardwareEncoderState | undefined,
  requested: H264EncoderRequest = 'auto',
): EncoderDecision<RawH264Encoder> {
  if (requested === 'hardware') return { encoder: 'h264_v4l2m2m', reason: '--h264-encoder hardware asks for it' };
  if (requested === 'software') return { encoder: 'libx264', reason: '--h264-encoder software asks for it' };
  if (device.kind === 'pi5') return { encoder: 'libx264', reason: `${describe(device)} has no hardware H.264 encoder` };
  if (device.kind === 'other') return { encoder: 'libx264', reason: `${describe(device)} is not a Raspberry Pi` };
  if (hardware?.works === true)
    return { encoder: 'h264_v4l2m2m', reason: `${describe(device)}: a test encode with h264_v4l2m2m worked` };
  return {
    encoder: 'libx264',
    reason: `${describe(device)}: ${
      hardware === undefined
        ? 'h264_v4l2m2m was not tried'
        : hardware.listed
          ? `a test encode with h264_v4l2m2m failed (${hardware.detail})`
          : 'ffmpeg has no h264_v4l2m2m encoder'
    }`,
  };
}
