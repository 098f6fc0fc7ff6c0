import { assertOption } from '@framewire/core';
import { parseAudioSpec, type AudioSpec } from '../process/audio-args.js';
import { assertSafeVideoFilter } from '../process/video-filter.js';
import { DeviceAudioCapture } from './device-audio-capture.js';
import { SourceBase } from './source-base.js';
import { PiCameraSource } from './pi-camera-source.js';
import { createTestPatternSource } from './test-pattern-source.js';
import { createStreamSiteSource } from './stream-site-source.js';
import { createUrlSource } from './url-source.js';
import { createV4l2Source } from './v4l2-source.js';
import type { VideoSource } from './video-source.js';
import type { CameraH264Encoder } from '../process/h264-encoder-choice.js';
import type { H264Profile } from '../process/h264-settings.js';

/** Settings {@link createSource} applies to every source it makes from a spec. */
export interface SourceSpecOptions {
  /** Frame width of cameras and the test pattern. Default: 1280. */
  width?: number;
  /** Frame height of cameras and the test pattern. Default: 720. */
  height?: number;
  /** Frames per second of cameras and the test pattern. Default: 30. */
  frameRate?: number;
  /** H.264 keyframe interval, in frames. Default: the frame rate (one per second). */
  keyframeIntervalFrames?: number;
  /** H.264 bitrate of cameras that encode. Default: 2,000,000. */
  bitrateBps?: number;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /** The Pi camera tool. Default: `rpicam-vid`. */
  cameraCommand?: string;
  /**
   * The Pi camera's encoder: `hardware` (rpicam-vid's h264 codec) or `software` (libx264 inside rpicam-vid, for a
   * Pi 5); `chooseCameraEncoder` picks one from the board model. Default: `hardware`.
   */
  cameraEncoder?: CameraH264Encoder;
  /** H.264 profile of cameras and encoders that encode. Default: `baseline`. */
  h264Profile?: H264Profile;
  /** H.264 level of cameras and encoders that encode, e.g. `4.1`. Default: the encoder's choice. */
  h264Level?: string;
  /**
   * yt-dlp's format selector for `ytdl:` sources (CLI `--stream-format`), e.g. `best[height<=720]`.
   * Default: `best[height<=?720]/best`.
   */
  streamFormat?: string;
  /** yt-dlp executable of `ytdl:` sources. Default: `yt-dlp` on PATH. */
  ytDlpPath?: string;
  /**
   * Whether URL/file and V4L2 sources send their input's H.264 as is (`-c:v copy`, no decode, no encode) instead of
   * JPEG frames the bridge would encode to H.264 again (CLI `--video-passthrough`). `auto`: a file or URL is probed
   * with ffprobe when it starts and passed through when its video is H.264 browsers play as is (constrained
   * baseline, baseline, main or high profile, 8-bit 4:2:0, no B-frames); a V4L2 device is decoded (it is not
   * probed). `always`: passed through without a probe (the input must be H.264; for WebRTC viewers without
   * B-frames), and a V4L2 device is asked for its H.264 format. `never`: always decoded. Default: `auto`.
   */
  videoPassthrough?: 'auto' | 'always' | 'never';
  /** Same as `videoPassthrough: 'always'` (the older name, CLI `--h264-passthrough`). Default: false. */
  h264Passthrough?: boolean;
  /**
   * The audio of every source made (CLI `--audio`; a spec's own `#audio=` wins): `tone` (test pattern only),
   * `source` (file and URL sources), `alsa:<device>`, `pulse:<device>` or `none`. Default: `none`.
   */
  audio?: string;
  /**
   * Whether a `testpattern` without audio runs on demand (its ffmpeg only while something consumes it, see
   * {@link TestPatternSourceOptions.onDemand}); false runs it all the time (CLI `--pattern-always-on`). Default: true.
   */
  patternOnDemand?: boolean;
}

/** Makes the source(s) of a registered scheme (NetGear's multi-server mode makes one per sender port). */
export type SourceKindFactory = (
  spec: string,
  id: string | undefined,
  options: SourceSpecOptions,
) => VideoSource | VideoSource[];

/** Extra constructors for source kinds defined outside this module (NetGear registers `netgear:`). */
const extraKinds = new Map<string, SourceKindFactory>();

/** Teaches {@link createSource} a URL scheme, e.g. `netgear` for `netgear://*:5555`; `create` may return several sources. */
export function registerSourceKind(scheme: string, create: SourceKindFactory): void {
  extraKinds.set(scheme, create);
}

/**
 * Makes a source from a command-line spec: `testpattern`, `v4l2:/dev/video0`, `picamera`, `file:/path`,
 * `rtsp://…`, `rtmp://…`, `http(s)://…`, `ytdl:https://…` (a streaming site's page, resolved by yt-dlp, see
 * {@link createStreamSiteSource}), or a registered scheme such as `netgear://*:5555?pattern=1`.
 * A `#id=<name>` suffix names the source in URLs, `#audio=<audio>` gives it audio (both: `#id=cam&audio=source`),
 * `#vf=<filtergraph>` filters the video of a file, URL or V4L2 source in its own ffmpeg (vidgear's FFGear, e.g.
 * `file:/x.mp4#id=x&vf=hflip,eq=gamma=1.2`; put `vf=` last, filters that open files or sockets are refused).
 * `testpattern` without audio runs on demand (its ffmpeg only while something consumes it, see
 * {@link TestPatternSourceOptions.onDemand}) unless `patternOnDemand` is false. Throws `FW_ERR_INVALID_OPTION` for an unknown spec or an audio the source cannot have.
 */
export function createSource(spec: string, options: SourceSpecOptions = {}): VideoSource {
  const sources = createSources(spec, options);
  assertOption(
    sources.length === 1 && sources[0],
    `--source ${spec} makes ${sources.length} sources; use createSources`,
  );
  return sources[0];
}

/**
 * Like {@link createSource}, for specs that may make several sources, e.g. NetGear's multi-server mode
 * (`netgear://*:5555,5556?pattern=1&multiserver=1` makes one source per sender port).
 */
export function createSources(spec: string, options: SourceSpecOptions = {}): VideoSource[] {
  return [createOneOrMore(spec, options)].flat();
}

/** The keys of a spec's `#…` suffix. */
const SUFFIX_KEYS = ['id', 'audio', 'vf'];

/** What a spec's `#id=x&audio=y&vf=z` suffix says. */
interface SpecSuffix {
  body: string;
  id: string | undefined;
  audio: string | undefined;
  vf: string | undefined;
}

/** Splits `spec#id=x&audio=y&vf=z` into the spec and its suffix's values (`vf` last may hold `=` and `,`). */
function splitSuffix(spec: string): SpecSuffix {
  const hash = /#(?:id|audio|vf)=/.exec(spec)?.index ?? -1;
  if (hash < 0) return { body: spec, id: undefined, audio: undefined, vf: undefined };
  const values = new Map<string, string>();
  for (const pair of spec.slice(hash + 1).split('&')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at);
    assertOption(at > 0 && SUFFIX_KEYS.includes(key), `--source ${spec}: the suffix takes id=, audio= and vf=`);
    assertOption(!values.has(key), `--source ${spec}: ${key}= appears twice`);
    values.set(key, pair.slice(at + 1));
  }
  return { body: spec.slice(0, hash), id: values.get('id'), audio: values.get('audio'), vf: values.get('vf') };
}

function createOneOrMore(spec: string, options: SourceSpecOptions): VideoSource | VideoSource[] {
  const suffix = splitSuffix(spec);
  const { body, id, vf } = suffix;
  const audio = parseAudioSpec(suffix.audio ?? options.audio ?? 'none');
  if (vf !== undefined) assertSafeVideoFilter(vf);
  const made = createVideo(body, id, audio, vf, options);
  if (audio.kind !== 'alsa' && audio.kind !== 'pulse') return made;
  const sources = [made].flat();
  for (const source of sources) {
    assertOption(
      source instanceof SourceBase,
      `--audio ${audio.kind}: source ${source.id} cannot take a capture device's audio`,
    );
    source.attachAudio(
      new DeviceAudioCapture({
        kind: audio.kind,
        device: audio.device,
        ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
      }),
    );
  }
  return made;
}

function createVideo(
  body: string,
  id: string | undefined,
  audio: AudioSpec,
  vf: string | undefined,
  options: SourceSpecOptions,
): VideoSource | VideoSource[] {
  const { width, height, frameRate, keyframeIntervalFrames, bitrateBps, ffmpegPath } = options;
  const { h264Profile, h264Level } = options;
  const h264 = {
    ...(keyframeIntervalFrames ? { keyframeIntervalFrames } : {}),
    ...(bitrateBps ? { bitrateBps } : {}),
    ...(h264Profile ? { profile: h264Profile } : {}),
    ...(h264Level ? { level: h264Level } : {}),
  };
  assertOption(
    options.h264Passthrough !== true || (options.videoPassthrough ?? 'always') === 'always',
    `--h264-passthrough means --video-passthrough always; got --video-passthrough ${options.videoPassthrough ?? ''}`,
  );
  const mode = options.h264Passthrough === true ? 'always' : (options.videoPassthrough ?? 'auto');
  assertOption(
    ['auto', 'always', 'never'].includes(mode),
    `--video-passthrough must be auto, always or never; got ${mode}`,
  );
  const passthrough = mode === 'always';
  const ffmpeg = ffmpegPath ? { ffmpegPath } : {};
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(body)?.[1]?.toLowerCase();
  assertOption(
    audio.kind !== 'tone' || body === 'testpattern',
    `--audio tone is the test pattern's beep; --source ${body} cannot have it`,
  );
  const urlKind = scheme !== undefined && URL_SCHEMES.includes(scheme);
  const siteKind = scheme === 'ytdl';
  assertOption(
    audio.kind !== 'source' || siteKind || (urlKind && !extraKinds.has(scheme)),
    `--audio source reads the audio track of a file or URL source; --source ${body} has none`,
  );
  const filter = vf === undefined ? {} : { videoFilter: vf };
  assertOption(
    vf === undefined || scheme === 'v4l2' || siteKind || (urlKind && !extraKinds.has(scheme)),
    `--source ${body}: #vf= filters the video of file, URL and v4l2 sources (read by ffmpeg)`,
  );
  if (body === 'testpattern')
    return createTestPatternSource({
      ...(id ? { id } : {}),
      width,
      height,
      frameRate,
      h264,
      ...ffmpeg,
      ...(audio.kind === 'tone' ? { audio: 'tone' as const } : {}),
      // The pattern (and its tone, made by the same ffmpeg) runs only while something consumes its frames or its
      // audio. With a capture device's audio it keeps running: the device is read from the source's start to its
      // close, not on demand.
      onDemand: (audio.kind === 'none' || audio.kind === 'tone') && options.patternOnDemand !== false,
    });
  if (body === 'picamera')
    return new PiCameraSource({
      ...(id ? { id } : {}),
      width,
      height,
      frameRate,
      ...(keyframeIntervalFrames ? { keyframeIntervalFrames } : {}),
      ...(bitrateBps ? { bitrateBps } : {}),
      ...(options.cameraCommand ? { command: options.cameraCommand } : {}),
      ...(options.cameraEncoder ? { encoder: options.cameraEncoder } : {}),
      ...(h264Profile ? { profile: h264Profile } : {}),
      ...(h264Level ? { level: h264Level } : {}),
    });
  if (scheme === 'v4l2')
    return createV4l2Source({
      ...(id ? { id } : {}),
      device: body.slice(5),
      width,
      height,
      frameRate,
      h264,
      ...(passthrough ? { codec: 'h264' as const, inputFormat: 'h264' } : {}),
      ...ffmpeg,
      ...filter,
    });
  if (siteKind)
    return createStreamSiteSource({
      ...(id ? { id } : {}),
      pageUrl: body.slice('ytdl:'.length),
      videoPassthrough: mode,
      h264,
      ...(options.streamFormat === undefined ? {} : { format: options.streamFormat }),
      ...(options.ytDlpPath === undefined ? {} : { ytDlpPath: options.ytDlpPath }),
      ...ffmpeg,
      ...(audio.kind === 'source' ? { audio: true } : {}),
      ...filter,
    });
  const extra = scheme === undefined ? undefined : extraKinds.get(scheme);
  if (extra) return extra(body, id, options);
  assertOption(
    urlKind,
    `--source must be testpattern, picamera, v4l2:<device>, netgear://…, ytdl:<page URL>, file:<path> or a URL; got ${body}`,
  );
  return createUrlSource({
    ...(id ? { id } : {}),
    url: body,
    h264,
    videoPassthrough: mode,
    ...ffmpeg,
    ...(audio.kind === 'source' ? { audio: true } : {}),
    ...filter,
  });
}

const URL_SCHEMES = ['file', 'rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'srt', 'udp', 'tcp'];
