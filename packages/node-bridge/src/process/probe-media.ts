import { execFile } from 'node:child_process';
import { FramewireError, assertOption } from '@framewire/core';
import { parseProbeJson, type ProbedMedia } from '../media/probed-media.js';

/** Options of {@link probeMedia}. */
export interface ProbeMediaOptions {
  /** The ffprobe executable. Default: `ffprobe`. */
  ffprobePath?: string;
  /** How long ffprobe may take before it is killed, in ms. Default: 5000. */
  timeoutMs?: number;
}

/** See {@link ProbeMediaOptions.timeoutMs}. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * Asks ffprobe what an input holds: `inputArgs` are ffprobe's input options and the input last (e.g.
 * `['-rtsp_transport', 'tcp', 'rtsp://cam/stream']`). Resolves its first video and audio tracks; rejects with
 * `FW_ERR_PROBE_FAILED` when ffprobe cannot run, fails (unreachable, not media) or takes longer than `timeoutMs`.
 */
export function probeMedia(inputArgs: readonly string[], options: ProbeMediaOptions = {}): Promise<ProbedMedia> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  assertOption(Number.isFinite(timeoutMs) && timeoutMs > 0, `probeTimeoutMs must be > 0; got ${timeoutMs}`);
  const input = inputArgs.at(-1) ?? '';
  const args = [
    '-hide_banner',
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_entries',
    'stream=codec_type,codec_name,profile,pix_fmt,has_b_frames,channels,sample_rate',
    ...inputArgs,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      options.ffprobePath ?? 'ffprobe',
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `no answer within ${timeoutMs} ms` : stderr.trim().slice(-500) || error.message;
          reject(
            new FramewireError('FW_ERR_PROBE_FAILED', `ffprobe ${input}: ${why}`, { cause: error, stage: 'source' }),
          );
          return;
        }
        let media: ProbedMedia;
        try {
          media = parseProbeJson(stdout);
        } catch (parseError) {
          reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
          return;
        }
        resolve(media);
      },
    );
  });
}
