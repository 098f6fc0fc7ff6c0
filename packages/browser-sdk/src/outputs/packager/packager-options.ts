import { assertOption } from '@framewire/core';
import { isDemuxedInput } from '../../core/demuxed-input.js';
import type { FileSource } from '../../sources/file-source.js';
import { validateOriginUploadTarget } from './origin-upload-writer.js';
import type { PackagerTarget } from './package-writer.js';

/** Manifest formats a {@link Packager} writes over its one set of CMAF segments. */
export type PackagerFormat = 'dash' | 'hls';
/** Video codecs a {@link Packager} encodes renditions to (CMAF-capable ones). */
export type PackagerVideoCodec = 'avc' | 'vp9' | 'av1';
const CODECS: readonly PackagerVideoCodec[] = ['avc', 'vp9', 'av1'];

/** One rendition of the ABR ladder (StreamGear's `-streams` entry). */
export interface PackagerRendition {
  /** Width in pixels (even). Required. */
  width: number;
  /** Height in pixels (even). Required. */
  height: number;
  /** Target bitrate in bits per second. Default: `width × height × frameRate × bitsPerPixel`. */
  bitrateBps?: number;
}

/** Options of {@link Packager}. Every field is optional. */
export interface PackagerOptions {
  /** Manifests to write. Default: `['dash', 'hls']` (both, over the same segments). */
  formats?: readonly PackagerFormat[];
  /** Target segment duration in seconds; key frames are forced at every segment boundary. Default: 2. */
  segmentDurationS?: number;
  /**
   * The ABR ladder: renditions encoded in parallel, GOP-aligned. Renditions larger than the source are dropped
   * (never upscaled; when none is left, one rendition at the source size is made). Default: one rendition at the
   * source size, and for a file whose codec CMAF can carry (H.264, VP9, AV1), no re-encoding at all.
   */
  ladder?: readonly PackagerRendition[];
  /** Bits per pixel per frame for renditions without `bitrateBps` (StreamGear's `-bpp`). Default: 0.1. */
  bitsPerPixel?: number;
  /** Video codec of the renditions. Default: `avc`. */
  codec?: PackagerVideoCodec;
  /**
   * `auto` copies a file's video without re-encoding when the ladder allows it (no ladder, or a single rendition
   * at the source size without a bitrate) and CMAF can carry its codec; `never` always transcodes. Default: `auto`.
   */
  transmux?: 'auto' | 'never';
  /** Nominal frame rate for rate control and the manifests. Default: the file's rate, 30 for live sources. */
  frameRate?: number;
  /**
   * Live: seconds of media to package (from the first frame) before stopping by itself; progress events then
   * carry `percent` and `etaS`. Ignored by `package()` (a file has its own length). Default: none (until `stop()`
   * or the end of the source).
   */
  durationS?: number;
  /** Live: segments listed in the manifests (StreamGear's `-window_size`). Default: 5. */
  windowSize?: number;
  /**
   * Live: segments kept on the target after they left the window, before they are deleted (StreamGear's
   * `-extra_window_size`; the deletion delay). Default: 5.
   */
  extraWindowSize?: number;
  /** Where the files go. Default: `memory` (see `packager.files`). */
  target?: PackagerTarget;
  /**
   * Audio, as its own track: a live `MediaStreamTrack` (a microphone; encoded to `audioCodec`), or the audio of a
   * media file (a `Blob` or a {@link FileSource}; copied, it must be AAC or Opus). `false` leaves audio out.
   * Default: the packaged file's own audio track with `package()`; none with `start()`.
   */
  audio?: MediaStreamTrack | Blob | FileSource | false;
  /** Codec for a live audio track. Default: `opus`. */
  audioCodec?: 'opus' | 'aac';
  /** Bitrate for a live audio track, in bits per second. Default: 128000. */
  audioBitrateBps?: number;
}

/** A rendition with its size and bitrate settled. */
export interface ResolvedRendition {
  id: string;
  width: number;
  height: number;
  bitrateBps: number;
}

const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);

/** The ladder for a source of `width`×`height`: never upscaled, bitrates from bits per pixel when not given. */
export function resolveLadder(
  options: PackagerOptions,
  width: number,
  height: number,
  frameRate: number,
): ResolvedRendition[] {
  const bpp = options.bitsPerPixel ?? 0.1;
  const fitting = (options.ladder ?? []).filter((r) => r.width <= width && r.height <= height);
  const ladder = fitting.length > 0 ? fitting : [{ width: even(width), height: even(height) }];
  return ladder.map((r, i) => ({
    id: `v${i}`,
    width: r.width,
    height: r.height,
    bitrateBps: 'bitrateBps' in r && r.bitrateBps ? r.bitrateBps : Math.round(r.width * r.height * frameRate * bpp),
  }));
}

/** Checks every option; throws `FW_ERR_INVALID_OPTION` naming the first bad one. */
export function validatePackagerOptions(options: PackagerOptions): void {
  const formats = options.formats ?? ['dash', 'hls'];
  assertOption(
    Array.isArray(formats) && formats.length > 0 && formats.every((f) => f === 'dash' || f === 'hls'),
    `options.formats must list 'dash' and/or 'hls'; got ${JSON.stringify(options.formats)}`,
  );
  for (const key of ['segmentDurationS', 'bitsPerPixel', 'frameRate', 'audioBitrateBps', 'durationS'] as const) {
    const value = options[key];
    assertOption(
      value === undefined || (Number.isFinite(value) && value > 0),
      `options.${key} must be > 0; got ${String(value)}`,
    );
  }
  assertOption(
    options.segmentDurationS === undefined || options.segmentDurationS >= 0.5,
    `options.segmentDurationS must be ≥ 0.5; got ${String(options.segmentDurationS)}`,
  );
  for (const key of ['windowSize', 'extraWindowSize'] as const) {
    const value = options[key];
    const min = key === 'windowSize' ? 1 : 0;
    assertOption(
      value === undefined || (Number.isInteger(value) && value >= min),
      `options.${key} must be an integer ≥ ${min}; got ${String(value)}`,
    );
  }
  assertOption(
    options.codec === undefined || CODECS.includes(options.codec),
    `options.codec must be one of ${CODECS.join(', ')}; got ${String(options.codec)}`,
  );
  assertOption(
    (['auto', 'never', undefined] as unknown[]).includes(options.transmux),
    `options.transmux must be 'auto' or 'never'; got ${String(options.transmux)}`,
  );
  assertOption(
    (['opus', 'aac', undefined] as unknown[]).includes(options.audioCodec),
    `options.audioCodec must be 'opus' or 'aac'; got ${String(options.audioCodec)}`,
  );
  if (options.ladder !== undefined) {
    assertOption(
      Array.isArray(options.ladder) && options.ladder.length > 0,
      'options.ladder must be a non-empty list of { width, height, bitrateBps? }',
    );
    for (const [i, r] of (options.ladder as readonly PackagerRendition[]).entries()) {
      assertOption(
        Number.isInteger(r.width) && Number.isInteger(r.height) && r.width >= 2 && r.height >= 2,
        `options.ladder[${i}] needs integer width and height ≥ 2`,
      );
      assertOption(
        r.width % 2 === 0 && r.height % 2 === 0,
        `options.ladder[${i}]: width and height must be even; got ${r.width}x${r.height}`,
      );
      assertOption(
        r.bitrateBps === undefined || (Number.isFinite(r.bitrateBps) && r.bitrateBps > 0),
        `options.ladder[${i}].bitrateBps must be > 0`,
      );
    }
  }
  const target = options.target;
  assertOption(
    target === undefined ||
      target === 'memory' ||
      (typeof target === 'object' &&
        (('opfs' in target && typeof target.opfs === 'string' && /^[\w.-]+$/.test(target.opfs)) || 'upload' in target)),
    "options.target must be 'memory', { opfs: 'folder' } (letters, digits, . _ -) or { upload: url | (path, method) => url }",
  );
  if (typeof target === 'object' && 'upload' in target) validateOriginUploadTarget(target);
  const audio = options.audio;
  assertOption(
    audio === undefined ||
      audio === false ||
      audio instanceof Blob ||
      isDemuxedInput(audio) ||
      (audio instanceof MediaStreamTrack && audio.kind === 'audio'),
    'options.audio must be false, an audio MediaStreamTrack, a media file Blob or a FileSource',
  );
}
