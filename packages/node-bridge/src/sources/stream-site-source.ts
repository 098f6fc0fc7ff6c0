import { assertOption } from '@framewire/core';
import type { H264EncodeOptions } from '../process/ffmpeg-args.js';
import { resolveStreamUrl, ytDlpArgs } from '../process/yt-dlp.js';
import { FfmpegSource } from './ffmpeg-source.js';
import { urlInputArgs, urlProbeArgs } from './url-source.js';

/** Options of {@link createStreamSiteSource}. */
export interface StreamSiteSourceOptions {
  /** Source id. Default: `stream`. */
  id?: string;
  /** The page of the video on a streaming site (YouTube, Vimeo, Twitch, any page yt-dlp reads). Required. */
  pageUrl: string;
  /** yt-dlp's format selector (`-f`). Default: `best[height<=?720]/best` (one file with video and audio, ≤ 720p). */
  format?: string;
  /** Whether the media's H.264 is passed through: see {@link UrlSourceOptions.videoPassthrough}. Default: `auto`. */
  videoPassthrough?: 'auto' | 'always' | 'never';
  /** H.264 settings when the bridge encodes. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /** Also read the media's audio (see {@link UrlSourceOptions.audio}). Default: false. */
  audio?: boolean;
  /** An ffmpeg filtergraph for the video (see {@link FfmpegSourceOptions.videoFilter}). Default: none. */
  videoFilter?: string;
  /** yt-dlp executable. Default: `yt-dlp` on PATH. */
  ytDlpPath?: string;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /** First restart delay, in ms. Default: 500. */
  restartDelayMs?: number;
}

/**
 * A video on a streaming site (vidgear's CamGear `stream_mode`): before each ffmpeg run (media URLs expire),
 * `yt-dlp -g -f <format>` finds the media URL of the page, which ffmpeg then reads like any HTTP URL (probed, passed
 * through or decoded, see {@link createUrlSource}). yt-dlp runs without configuration files, update check or
 * cache. Without yt-dlp the source fails with a fatal `FW_ERR_NOT_SUPPORTED` saying to install it; a page yt-dlp
 * finds no media in fails it with `FW_ERR_MEDIA_UNREADABLE` (yt-dlp's reason). Bad options throw
 * `FW_ERR_INVALID_OPTION`.
 */
export function createStreamSiteSource(options: StreamSiteSourceOptions): FfmpegSource {
  ytDlpArgs(options.pageUrl, options.format); // validates both before anything runs
  const passthrough = options.videoPassthrough ?? 'auto';
  assertOption(
    ['auto', 'always', 'never'].includes(passthrough),
    `videoPassthrough must be auto, always or never; got ${passthrough}`,
  );
  const always = passthrough === 'always';
  const mediaOptions = (url: string): { url: string } => ({ url });
  return new FfmpegSource({
    id: options.id ?? 'stream',
    kind: 'stream',
    inputArgs: [],
    codec: always ? 'h264' : 'jpeg',
    ...(options.h264 || always ? { h264: { ...options.h264, ...(always ? { copy: true } : {}) } } : {}),
    resolveInput: async () => {
      const url = await resolveStreamUrl(options.pageUrl, {
        ...(options.format === undefined ? {} : { format: options.format }),
        ...(options.ytDlpPath === undefined ? {} : { ytDlpPath: options.ytDlpPath }),
      });
      return { inputArgs: urlInputArgs(mediaOptions(url)), probeArgs: urlProbeArgs(mediaOptions(url)) };
    },
    ...(passthrough === 'auto' || (options.audio === true && always)
      ? { probe: { inputArgs: ['(resolved by yt-dlp)'], video: passthrough === 'auto' } }
      : {}),
    ...(options.audio ? { audio: { map: '0:a:0?', channels: 2 } } : {}),
    ...(options.videoFilter === undefined ? {} : { videoFilter: options.videoFilter }),
    ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
    ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
  });
}
