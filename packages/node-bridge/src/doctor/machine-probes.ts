import { createServer } from 'node:net';
import { h264EncoderArgs } from '../process/ffmpeg-args.js';
import { lastLine, runCommand } from '../process/hardware-encoder-probe.js';

/** The camera tool `doctor` found and the cameras it lists. */
export interface CameraToolReport {
  /** The tool tried last (the one found, if any). */
  command: string;
  /** It runs. */
  found: boolean;
  /** The cameras it lists, one line each, e.g. `0 : imx708 [4608x2592 10-bit RGGB] (/base/…)`. */
  cameras: string[];
  /** Its whole `--list-cameras` output (empty when it was not found). */
  listing: string;
  /** Why it was not found, or `ok`. */
  detail: string;
}

/** The camera tools tried when none is configured, in order. */
export const CAMERA_TOOLS: readonly string[] = ['rpicam-vid', 'libcamera-vid'];

/**
 * Runs `<tool> --list-cameras` for `command`, or else for each of {@link CAMERA_TOOLS} until one runs. A tool that
 * cannot start is "not found"; one that runs but lists nothing reports no cameras.
 */
export async function probeCameraTool(command?: string): Promise<CameraToolReport> {
  const tools = command === undefined ? CAMERA_TOOLS : [command];
  let detail = 'no camera tool tried';
  for (const tool of tools) {
    const result = await runCommand(tool, ['--list-cameras'], 20_000);
    if (result.startError !== undefined) {
      detail = `${tool}: ${result.startError === 'ENOENT' ? 'not installed (not on PATH)' : result.startError}`;
      continue;
    }
    const listing = `${result.stdout}${result.stderr}`;
    const cameras = listing
      .split('\n')
      .filter((line) => /^\s*\d+\s*:\s*\S/.test(line))
      .map((line) => line.trim());
    return {
      command: tool,
      found: true,
      cameras,
      listing,
      detail: result.code === 0 ? 'ok' : `exit code ${String(result.code)}`,
    };
  }
  return { command: tools[tools.length - 1] ?? '', found: false, cameras: [], listing: '', detail };
}

/** ffmpeg as `doctor` found it. */
export interface FfmpegReport {
  /** The executable. */
  path: string;
  /** It runs. */
  found: boolean;
  /** The first line of `ffmpeg -version`, e.g. `ffmpeg version 5.1.6-0+deb12u1 …`. */
  version: string;
  /** Whether each encoder the bridge may use is listed (`libx264`, `h264_v4l2m2m`, `libvpx`, `mjpeg`, `libopus`). */
  encoders: Record<string, boolean>;
}

/** The encoders {@link probeFfmpeg} looks for. */
export const BRIDGE_ENCODERS: readonly string[] = ['libx264', 'h264_v4l2m2m', 'libvpx', 'mjpeg', 'libopus'];

/** Runs `ffmpeg -version` and `ffmpeg -encoders`. */
export async function probeFfmpeg(path: string): Promise<FfmpegReport> {
  const version = await runCommand(path, ['-hide_banner', '-version']);
  if (version.startError !== undefined) {
    return {
      path,
      found: false,
      version: version.startError === 'ENOENT' ? 'not installed' : version.startError,
      encoders: Object.fromEntries(BRIDGE_ENCODERS.map((name) => [name, false])),
    };
  }
  const listing = (await runCommand(path, ['-hide_banner', '-encoders'])).stdout;
  const listed = new Set(listing.split('\n').map((line) => line.trim().split(/\s+/)[1]));
  return {
    path,
    found: true,
    version: version.stdout.split('\n')[0]?.trim() ?? '',
    encoders: Object.fromEntries(BRIDGE_ENCODERS.map((name) => [name, listed.has(name)])),
  };
}

/** How fast libx264 (`ultrafast`/`zerolatency`) encodes at the configured size on this machine. */
export interface SoftwareSpeedReport {
  width: number;
  height: number;
  /** The configured frame rate. */
  frameRate: number;
  /** Frames encoded per second of real time (ffmpeg's `-benchmark` rtime, generating the picture included); undefined when the run failed. */
  fps: number | undefined;
  /** `fps` is at least the configured frame rate. */
  keepsUp: boolean;
  /** Why the run failed, or `ok`. */
  detail: string;
}

/**
 * Encodes `2 × frameRate` frames (at least 30) of ffmpeg's `testsrc2` at `width`×`height` with the bridge's own
 * libx264 settings (`ultrafast`/`zerolatency`, baseline), one shot as fast as it goes, and reports the frames per second of real time.
 */
export async function measureSoftwareH264(
  ffmpegPath: string,
  width: number,
  height: number,
  frameRate: number,
): Promise<SoftwareSpeedReport> {
  const frames = Math.max(30, Math.round(frameRate * 2));
  const result = await runCommand(
    ffmpegPath,
    [
      '-hide_banner',
      '-nostdin',
      '-benchmark',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=${frameRate}`,
      '-frames:v',
      String(frames),
      ...h264EncoderArgs({}),
      '-f',
      'null',
      '-',
    ],
    120_000,
  );
  const rtime = /rtime=([\d.]+)s/.exec(result.stderr)?.[1];
  if (result.code !== 0 || rtime === undefined || Number(rtime) <= 0) {
    const detail = result.startError ?? lastLine(result.stderr, `exit code ${String(result.code)}`);
    return { width, height, frameRate, fps: undefined, keepsUp: false, detail };
  }
  const fps = Math.round((frames / Number(rtime)) * 10) / 10;
  return { width, height, frameRate, fps, keepsUp: fps >= frameRate, detail: 'ok' };
}

/** Whether the bridge could listen on its configured address. */
export interface PortReport {
  host: string;
  port: number;
  /** Nothing listens there and the bridge may bind it. */
  free: boolean;
  /** `free`, `in use` or the error code. */
  detail: string;
}

/** Listens on `host`:`port` for a moment (port 0 is always free). */
export function probePort(host: string, port: number): Promise<PortReport> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve({
        host,
        port,
        free: false,
        detail: error.code === 'EADDRINUSE' ? 'in use' : (error.code ?? error.message),
      });
    });
    server.listen(port, host, () => {
      server.close(() => resolve({ host, port, free: true, detail: 'free' }));
    });
  });
}
