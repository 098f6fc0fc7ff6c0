import { assertOption } from '@framewire/core';
import { PiCameraSource } from './pi-camera-source.js';
import { createTestPatternSource } from './test-pattern-source.js';
import { createUrlSource } from './url-source.js';
import { createV4l2Source } from './v4l2-source.js';
import type { VideoSource } from './video-source.js';

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
   * URL/file and V4L2 sources whose input is H.264 produce that H.264 as is (`-c:v copy`, no decode, no encode),
   * instead of JPEG frames the bridge would encode to H.264 again. The input must be H.264 (for WebRTC viewers:
   * without B-frames); a V4L2 device is asked for its H.264 format. Default: false.
   */
  h264Passthrough?: boolean;
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
 * `rtsp://…`, `rtmp://…`, `http(s)://…`, or a registered scheme such as `netgear://*:5555?pattern=1`.
 * A `#id=<name>` suffix names the source in URLs. Throws `FW_ERR_INVALID_OPTION` for an unknown spec.
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

function createOneOrMore(spec: string, options: SourceSpecOptions): VideoSource | VideoSource[] {
  const hash = spec.indexOf('#id=');
  const id = hash >= 0 ? spec.slice(hash + 4) : undefined;
  const body = hash >= 0 ? spec.slice(0, hash) : spec;
  const { width, height, frameRate, keyframeIntervalFrames, bitrateBps, ffmpegPath } = options;
  const h264 = { ...(keyframeIntervalFrames ? { keyframeIntervalFrames } : {}), ...(bitrateBps ? { bitrateBps } : {}) };
  const passthrough = options.h264Passthrough === true;
  const ffmpeg = ffmpegPath ? { ffmpegPath } : {};
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(body)?.[1]?.toLowerCase();
  if (body === 'testpattern')
    return createTestPatternSource({ ...(id ? { id } : {}), width, height, frameRate, h264, ...ffmpeg });
  if (body === 'picamera')
    return new PiCameraSource({
      ...(id ? { id } : {}),
      width,
      height,
      frameRate,
      ...(keyframeIntervalFrames ? { keyframeIntervalFrames } : {}),
      ...(bitrateBps ? { bitrateBps } : {}),
      ...(options.cameraCommand ? { command: options.cameraCommand } : {}),
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
    });
  const extra = scheme === undefined ? undefined : extraKinds.get(scheme);
  if (extra) return extra(body, id, options);
  assertOption(
    scheme !== undefined &&
      ['file', 'rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'srt', 'udp', 'tcp'].includes(scheme),
    `--source must be testpattern, picamera, v4l2:<device>, netgear://…, file:<path> or a URL; got ${spec}`,
  );
  return createUrlSource({
    ...(id ? { id } : {}),
    url: body,
    h264: passthrough ? { ...h264, copy: true } : h264,
    ...(passthrough ? { codec: 'h264' as const } : {}),
    ...ffmpeg,
  });
}
