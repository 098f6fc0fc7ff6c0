import { assertOption } from '@framewire/core';
import { LOW_DELAY_INPUT_ARGS, type H264EncodeOptions } from '../process/ffmpeg-args.js';
import { FfmpegSource } from './ffmpeg-source.js';

/** Options of {@link createUrlSource}. */
export interface UrlSourceOptions {
  /** Source id. Default: `url`. */
  id?: string;
  /** An `rtsp://`, `rtsps://`, `rtmp://`, `http(s)://` or `file:` URL, or a file path. Required. */
  url: string;
  /**
   * What the source produces when it decodes its input: `jpeg` or `h264` (the bridge encodes). A passed-through
   * input produces `h264` whatever this says. Default: `jpeg`.
   */
  codec?: 'jpeg' | 'h264';
  /**
   * Whether the input's video is sent as is (`-c:v copy`, no decode, no encode): `auto` probes the input with
   * ffprobe when the source starts and passes H.264 through when browsers play it as is (constrained baseline,
   * baseline, main or high profile, 8-bit 4:2:0, no B-frames), `always` passes the input through without a probe
   * (it must be H.264; for WebRTC viewers without B-frames), `never` always decodes. `h264: { copy: true }` means
   * `always`. Default: `auto`.
   */
  videoPassthrough?: 'auto' | 'always' | 'never';
  /** How long the `auto` probe may take, in ms; a slower one is reported (`FW_ERR_PROBE_FAILED`) and the input decoded. Default: 5000. */
  probeTimeoutMs?: number;
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
   * ffmpeg on the same clock as the video, or copied as is when it already is Opus (with `videoPassthrough` other
   * than `never`: ffprobe tells); an input without audio just gives none. Default: false.
   */
  audio?: boolean;
  /**
   * An ffmpeg filtergraph for the video (vidgear's FFGear), applied by the source's own ffmpeg, e.g.
   * `hflip,eq=gamma=1.2`; see {@link FfmpegSourceOptions.videoFilter}. Default: none.
   */
  videoFilter?: string;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /** ffprobe executable of the `auto` probe. Default: `ffprobe` in the folder of `ffmpegPath`, else on PATH. */
  ffprobePath?: string;
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

/** The ffprobe input arguments of the `auto` probe of {@link createUrlSource} (the RTSP transport and the input). */
export function urlProbeArgs(options: UrlSourceOptions): string[] {
  const args = urlInputArgs(options);
  const input = args.at(-1) ?? '';
  const transport = args.indexOf('-rtsp_transport');
  return [...(transport >= 0 ? args.slice(transport, transport + 2) : []), input];
}

/**
 * A source reading an RTSP/RTMP stream, an HTTP URL or a file through ffmpeg (vidgear's CamGear for network
 * streams). Live inputs are opened with ffmpeg's low-delay flags; files play at their own pace, optionally looped.
 * By default the input is probed when the source starts: H.264 that browsers play is passed through, Opus audio
 * copied (see {@link UrlSourceOptions.videoPassthrough}).
 */
export function createUrlSource(options: UrlSourceOptions): FfmpegSource {
  const passthrough = options.h264?.copy === true ? 'always' : (options.videoPassthrough ?? 'auto');
  assertOption(
    ['auto', 'always', 'never'].includes(passthrough),
    `videoPassthrough must be auto, always or never; got ${passthrough}`,
  );
  const always = passthrough === 'always';
  return new FfmpegSource({
    id: options.id ?? 'url',
    kind: 'url',
    inputArgs: urlInputArgs(options),
    codec: always ? 'h264' : (options.codec ?? 'jpeg'),
    ...(options.jpegQuality === undefined ? {} : { jpegQuality: options.jpegQuality }),
    ...(options.h264 || always ? { h264: { ...options.h264, ...(always ? { copy: true } : {}) } } : {}),
    // `auto` probes for the video (with a filter too: to learn whether filtering costs an encode that passthrough
    // would not); with audio, `always` probes too (only to learn whether the audio is Opus).
    ...(passthrough === 'auto' || (options.audio === true && passthrough === 'always')
      ? {
          probe: {
            inputArgs: urlProbeArgs(options),
            video: passthrough === 'auto',
            ...(options.ffprobePath === undefined ? {} : { ffprobePath: options.ffprobePath }),
            ...(options.probeTimeoutMs === undefined ? {} : { timeoutMs: options.probeTimeoutMs }),
          },
        }
      : {}),
    ...(options.audio ? { audio: { map: '0:a:0?', channels: 2 } } : {}),
    ...(options.videoFilter === undefined ? {} : { videoFilter: options.videoFilter }),
    ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
    ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
  });
}
