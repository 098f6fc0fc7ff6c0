import { FramewireError } from '@framewire/core';
import type { InputAudioTrack, InputVideoTrack } from 'mediabunny';
import type { FrameSource } from './frame-source.js';

/** The audio of a {@link DemuxedInput}: the members outputs read. */
export interface DemuxedAudioInfo {
  /** mediabunny's codec name (`aac`, `opus`, `mp3`, …), or `null` when unknown. */
  readonly codec: string | null;
  /** Sample rate in Hz. */
  readonly sampleRate: number;
  /** Number of channels. */
  readonly channels: number;
}

/**
 * A frame source decoded from a demuxed media file, as outputs take it when they copy its tracks without decoding
 * (the Packager's transmux, the Recorder's and the Packager's file audio). `FileSource` implements it. The
 * container tracks themselves are kept off the public types: the implementation registers them with
 * {@link registerDemuxedTracks}, and outputs read them with {@link videoTrackOf} and {@link audioTrackOf}.
 */
export interface DemuxedInput extends FrameSource {
  /** Duration of the file in µs (end of its last sample). */
  readonly durationUs: number;
  /** Upright width in pixels (after rotation). */
  readonly width: number;
  /** Upright height in pixels (after rotation). */
  readonly height: number;
  /** Clockwise rotation from the file's metadata, in degrees. */
  readonly rotation: 0 | 90 | 180 | 270;
  /** The video codec, in mediabunny's naming (`avc`, `hevc`, `vp8`, `vp9`, `av1`). */
  readonly codec: string;
  /** The file's first audio track, or `null` when it has none. */
  readonly audio: DemuxedAudioInfo | null;
}

/** The container tracks behind a {@link DemuxedInput}. */
export interface DemuxedTracks {
  /** The video track its frames are decoded from. */
  readonly video: InputVideoTrack;
  /** Its first audio track, or `null` when the file has none. */
  readonly audio: InputAudioTrack | null;
}

const tracksOf = new WeakMap<DemuxedInput, DemuxedTracks>();

/** Registers the container tracks of `input` (called once by its implementation, when it opens). */
export function registerDemuxedTracks(input: DemuxedInput, tracks: DemuxedTracks): void {
  tracksOf.set(input, tracks);
}

/** Whether `value` is a {@link DemuxedInput} whose tracks were registered. */
export function isDemuxedInput(value: unknown): value is DemuxedInput {
  return typeof value === 'object' && value !== null && tracksOf.has(value as DemuxedInput);
}

/** The audio track of `input`, or `undefined` when its file has none. */
export function audioTrackOf(input: DemuxedInput): InputAudioTrack | undefined {
  return tracksOf.get(input)?.audio ?? undefined;
}

/** The video track of `input` (for copying its packets without decoding); `FW_ERR_CLOSED` when there is none. */
export function videoTrackOf(input: DemuxedInput): InputVideoTrack {
  const track = tracksOf.get(input)?.video;
  if (!track) throw new FramewireError('FW_ERR_CLOSED', 'The file source has no open video track', { stage: 'read' });
  return track;
}
