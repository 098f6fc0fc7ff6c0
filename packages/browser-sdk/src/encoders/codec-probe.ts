import { FramewireError, assertOption } from '@framewire/core';
import { avcCodecForSize } from './avc-codec-string.js';
import { assertSecureContext } from '../core/secure-context.js';

/** Video codecs a recording can use, by their short names (mediabunny's naming). */
export const RECORDER_VIDEO_CODECS = ['avc', 'vp9', 'vp8', 'av1'] as const;
/** One of {@link RECORDER_VIDEO_CODECS}. */
export type RecorderVideoCodec = (typeof RECORDER_VIDEO_CODECS)[number];

/** What {@link chooseVideoCodec} needs to know. */
export interface CodecProbeOptions {
  /** Codecs in order of preference; the first one this browser can encode wins. Default: avc, vp9, vp8, av1. */
  preferences?: readonly RecorderVideoCodec[];
  /** Frame width in pixels. Required. */
  width: number;
  /** Frame height in pixels. Required. */
  height: number;
  /** Frame rate, frames per second. Default: 30. */
  frameRate?: number;
  /** Target bitrate in bits per second. Default: 2,000,000. */
  bitrateBps?: number;
  /** Hardware acceleration preference. Default: `no-preference`. */
  hardwareAcceleration?: HardwareAcceleration;
  /** Rate control to probe for. Default: `variable`. */
  bitrateMode?: VideoEncoderBitrateMode;
}

/** The codec {@link chooseVideoCodec} picked. */
export interface ChosenCodec {
  /** The short name, e.g. `vp9`. */
  codec: RecorderVideoCodec;
  /** The full codec string for `VideoEncoder`, e.g. `vp09.00.31.08`. */
  codecString: string;
}

/**
 * The RFC 6381 codec string of `codec` at a level that fits `width`×`height` at `frameRate` (the level bounds
 * the frame size some encoders accept).
 */
export function codecStringFor(codec: RecorderVideoCodec, width: number, height: number, frameRate = 30): string {
  const pixels = width * height;
  switch (codec) {
    case 'avc':
      return avcCodecForSize(width, height, frameRate);
    case 'vp8':
      return 'vp8';
    case 'vp9': {
      // VP9 levels by picture size (luma samples): 2.1 → 0.55 MP, 3.1 → 0.98 MP, 4.0 → 2.2 MP, 5.1 → 8.9 MP.
      const level = pixels <= 552_960 ? '21' : pixels <= 983_040 ? '31' : pixels <= 2_228_224 ? '40' : '51';
      return `vp09.00.${level}.08`;
    }
    case 'av1': {
      // AV1 seq_level_idx: 4 (level 3.0, 0.66 MP), 8 (4.0, 2.2 MP), 12 (5.0, 8.9 MP).
      const level = pixels <= 665_856 ? '04' : pixels <= 2_228_224 ? '08' : '12';
      return `av01.0.${level}M.08`;
    }
  }
}

/**
 * Picks the first codec of `preferences` that this browser can encode at the given size, rate and bitrate
 * (asking `VideoEncoder.isConfigSupported`). Rejects with `FW_ERR_CODEC_UNSUPPORTED` when none can, and with
 * `FW_ERR_NOT_SUPPORTED` without WebCodecs.
 */
export async function chooseVideoCodec(options: CodecProbeOptions): Promise<ChosenCodec> {
  const preferences = options.preferences ?? RECORDER_VIDEO_CODECS;
  assertOption(preferences.length > 0, 'preferences must name at least one codec');
  for (const codec of preferences) {
    assertOption(
      RECORDER_VIDEO_CODECS.includes(codec),
      `unknown codec ${codec}: use ${RECORDER_VIDEO_CODECS.join(', ')}`,
    );
  }
  assertSecureContext('chooseVideoCodec', 'encode');
  if (typeof VideoEncoder !== 'function') {
    throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'WebCodecs VideoEncoder is not available', {
      fatal: true,
      stage: 'encode',
    });
  }
  const frameRate = options.frameRate ?? 30;
  for (const codec of preferences) {
    const codecString = codecStringFor(codec, options.width, options.height, frameRate);
    const config: VideoEncoderConfig = {
      codec: codecString,
      width: options.width,
      height: options.height,
      bitrate: options.bitrateBps ?? 2_000_000,
      framerate: frameRate,
      hardwareAcceleration: options.hardwareAcceleration ?? 'no-preference',
    };
    if (options.bitrateMode && options.bitrateMode !== 'variable') config.bitrateMode = options.bitrateMode;
    if (codec === 'avc') config.avc = { format: 'avc' };
    const support = await VideoEncoder.isConfigSupported(config).catch(() => ({ supported: false }));
    if (support.supported) return { codec, codecString };
  }
  throw new FramewireError(
    'FW_ERR_CODEC_UNSUPPORTED',
    `This browser can encode none of ${preferences.join(', ')} at ${options.width}x${options.height}`,
    { fatal: true, stage: 'encode', details: { preferences: [...preferences] } },
  );
}
