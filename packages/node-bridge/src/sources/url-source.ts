import { assertOption } from '@framewire/core';
import { LOW_DELAY_INPUT_ARGS, type H264EncodeOptions } from '../process/ffmpeg-args.js';
import { FfmpegSource } from './ffmpeg-source.js';

/** Options of {@link createUrlSource}. */
export interface UrlSourceOptions {
  /** Source id. Default: `url`. */
  id?: string;
  /** An `rtsp://`, `rtsps://`, `rtmp://`, `http(s)://` or `file:` URL, or a file path. Required. */
  url: string;
  /** What the source produces: `jpeg` or `h264`. Default: `jpeg`. */
  codec?: 'jpeg' | 'h264';
  /** JPEG quality (2 best – 31). Default: 5. */
  jpegQuality?: number;
  /** H.264 settings; `{ copy: true }` passes a camera's H.264 through without re-encoding. Default: re-encode. */
  h264?: H264EncodeOptions;
  /** Read files and HTTP media at their own frame rate (`-re`) rather than as fast as possible. Default: true for files and HTTP, false for RTSP/RTMP. */
  realtime?: boolean;
  /** Start a file again at its end (`-stream_loop -1`). Default: false. */
  loop?: boolean;
  /** RTSP transport. Default: `tcp` (no lost packets behind NAT or on Wi-Fi). */
  rtspTransport?: 'tcp' | 'udp';
  /**
   * Also read the input's first audio track (a camera's microphone, a file's sound), encoded to Opus by the same
   * ffmpeg on the same clock as the video; an input without audio just gives none. Default: false.
   */
  audio?: boolean;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /** First restart delay, in ms. Default: 500. */
  restartDelayMs?: number;
}

/** The ffmpeg input arguments {@link createUrlSource} uses for `options` (exported for tests and logs). */
export function urlInputArgs(options: UrlSourceOptions): string[] {
  assertOption(typeof options.url === 'string' && options.url.length > 0, 'url must be a non-empty string');
  const url = options.url.startsWith('file:')
    ? decodeURIComponent(options.url.replace(/^file:(\/\/)?/, ''))
    : options.url;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  assertOption(
    scheme === undefined || ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'srt', 'udp', 'tcp'].includes(scheme),
    `url scheme must be rtsp, rtsps, rtmp, rtmps, http, https, srt, udp, tcp or file; got ${scheme ?? ''}`,
  );
  const live = scheme !== undefined && !['http', 'https'].includes(scheme);
  const args: string[] = [];
  if (live) args.push(...LOW_DELAY_INPUT_ARGS);
  if (scheme === 'rtsp' || scheme === 'rtsps') args.push('-rtsp_transport', options.rtspTransport ?? 'tcp');
  if (options.realtime ?? !live) args.push('-re');
  if (options.loop) args.push('-stream_loop', '-1');
  args.push('-i', url);
  return args;
}

/**
 * A source reading an RTSP/RTMP stream, an HTTP URL or a file through ffmpeg (vidgear's CamGear for network
 * streams). Live inputs are opened with ffmpeg's low-delay flags; files play at their own pace, optionally looped.
 */
export function createUrlSource(options: UrlSourceOptions): FfmpegSource {
  return new FfmpegSource({
    id: options.id ?? 'url',
    kind: 'url',
    inputArgs: urlInputArgs(options),
    codec: options.codec ?? 'jpeg',
    ...(options.jpegQuality === undefined ? {} : { jpegQuality: options.jpegQuality }),
    ...(options.h264 ? { h264: options.h264 } : {}),
    ...(options.audio ? { audio: { map: '0:a:0?', channels: 2 } } : {}),
    ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
    ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
  });
}
