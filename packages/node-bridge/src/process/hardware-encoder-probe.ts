import { execFile } from 'node:child_process';
import type { HardwareEncoderState } from './h264-encoder-choice.js';

/** The output of a finished command, whether it succeeded or not. */
export interface CommandResult {
  /** The exit code; null when it could not start or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it could not start (e.g. `ENOENT`), if it could not. */
  startError?: string;
}

/** Runs `command args`, at most `timeoutMs` (default 30 s), and resolves with its exit code and output. */
export function runCommand(command: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (failure && typeof failure.code === 'string')
        resolve({ code: null, stdout, stderr, startError: failure.code });
      else resolve({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, stdout, stderr });
    });
  });
}

/** The last non-empty line of `text`, or `fallback`. */
export function lastLine(text: string, fallback: string): string {
  const lines = text.split('\n').map((line) => line.trim());
  return lines.filter((line) => line !== '').pop() ?? fallback;
}

/** ffmpeg's first error line in `stderr` without its `[codec @ 0x…]` prefix (the cause, not the aftermath), or `fallback`. */
export function firstError(stderr: string, fallback: string): string {
  const line = stderr
    .split('\n')
    .map((text) => text.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
    .find((text) => text !== '');
  return line ?? fallback;
}

/**
 * Whether ffmpeg's `h264_v4l2m2m` (the Raspberry Pi 4's hardware encoder, and others' V4L2 encoders) exists and
 * works: it must be listed and encode five 320×240 frames of `testsrc2`. A listed encoder without a device fails
 * here, which is the honest answer. `ffmpegPath` default: `ffmpeg`.
 */
export async function probeHardwareH264(ffmpegPath = 'ffmpeg'): Promise<HardwareEncoderState> {
  const listing = await runCommand(ffmpegPath, ['-hide_banner', '-encoders']);
  if (!/\bh264_v4l2m2m\b/.test(listing.stdout)) return { listed: false, works: false, detail: 'not listed' };
  const encode = await runCommand(ffmpegPath, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=30',
    '-frames:v',
    '5',
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'h264_v4l2m2m',
    '-f',
    'null',
    '-',
  ]);
  return encode.code === 0
    ? { listed: true, works: true, detail: 'ok' }
    : { listed: true, works: false, detail: firstError(encode.stderr, `exit code ${String(encode.code)}`) };
}
