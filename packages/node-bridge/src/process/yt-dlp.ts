import { execFile } from 'node:child_process';
import { FramewireError, assertOption } from '@framewire/core';

/** The format {@link resolveStreamUrl} asks yt-dlp for: one file with video and audio, at most 720p when known. */
export const DEFAULT_STREAM_FORMAT = 'best[height<=?720]/best';

/** Options of {@link resolveStreamUrl}. */
export interface StreamResolveOptions {
  /** yt-dlp's format selector (`-f`), e.g. `best[height<=720]`. Default: {@link DEFAULT_STREAM_FORMAT}. */
  format?: string;
  /** yt-dlp executable. Default: `yt-dlp` on PATH. */
  ytDlpPath?: string;
  /** How long yt-dlp may take, in ms. Default: 30000. */
  timeoutMs?: number;
}

/**
 * yt-dlp's arguments that print the media URL of `pageUrl` in `format` (`-g -f`): no configuration files (a user's
 * config could add a proxy or downloads), no update check, no cache, no playlist (the page's own video only).
 * Validates both (`FW_ERR_INVALID_OPTION`): an `http(s)` page URL, a one-line format of at most 200 characters.
 */
export function ytDlpArgs(pageUrl: string, format: string = DEFAULT_STREAM_FORMAT): string[] {
  let url: URL | undefined;
  try {
    url = new URL(pageUrl);
  } catch {
    url = undefined;
  }
  assertOption(
    url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:'),
    `a streaming site's page must be an http(s) URL; got ${pageUrl}`,
  );
  assertOption(
    typeof format === 'string' && /^[^\s]{1,200}$/.test(format),
    `stream format must be a yt-dlp format selector such as best[height<=720]; got ${JSON.stringify(format)}`,
  );
  return [
    ...['--ignore-config', '--no-update', '--no-cache-dir', '--no-playlist', '--no-warnings'],
    ...['--socket-timeout', '15', '-f', format, '-g', '--', pageUrl],
  ];
}

/**
 * Asks yt-dlp for the media URL of a streaming site's page (vidgear's CamGear `stream_mode`): the first URL it
 * prints (the video; a format of separate video and audio prints both). Rejects with a fatal `FW_ERR_NOT_SUPPORTED`
 * when yt-dlp is not installed (saying how to install it), `FW_ERR_MEDIA_UNREADABLE` when it finds no media in
 * the page or no format matching, `FW_ERR_TIMEOUT` after `timeoutMs`.
 */
export function resolveStreamUrl(pageUrl: string, options: StreamResolveOptions = {}): Promise<string> {
  const args = ytDlpArgs(pageUrl, options.format);
  const command = options.ytDlpPath ?? 'yt-dlp';
  const timeoutMs = options.timeoutMs ?? 30_000;
  assertOption(Number.isFinite(timeoutMs) && timeoutMs > 0, `timeoutMs must be > 0; got ${timeoutMs}`);
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') {
        reject(
          new FramewireError(
            'FW_ERR_NOT_SUPPORTED',
            `${command} is not installed: streaming-site sources (ytdl:) need it. Install it (Debian/Ubuntu: apt-get install yt-dlp; elsewhere: pipx install yt-dlp) and start the bridge again`,
            { cause: error, fatal: true, stage: 'source', details: { command } },
          ),
        );
        return;
      }
      if (error && (error as { killed?: boolean }).killed) {
        reject(
          new FramewireError('FW_ERR_TIMEOUT', `yt-dlp did not resolve ${pageUrl} within ${timeoutMs} ms`, {
            cause: error,
            fatal: false,
            stage: 'source',
          }),
        );
        return;
      }
      const url = stdout
        .split('\n')
        .map((line) => line.trim())
        .find((line) => /^https?:\/\//.test(line));
      if (error || url === undefined) {
        const reason =
          stderr
            .split('\n')
            .filter((line) => line.startsWith('ERROR'))
            .join(' ')
            .trim() || 'it printed no media URL';
        reject(
          new FramewireError('FW_ERR_MEDIA_UNREADABLE', `yt-dlp found no media in ${pageUrl}: ${reason}`, {
            cause: error ?? undefined,
            fatal: false,
            stage: 'source',
          }),
        );
        return;
      }
      resolve(url);
    });
  });
}
