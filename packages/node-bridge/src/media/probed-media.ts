import { FramewireError } from '@framewire/core';

/** The first video track of a probed input, as ffprobe names its properties. */
export interface ProbedVideo {
  /** ffprobe's codec name, e.g. `h264`, `hevc`, `mjpeg`. */
  codec: string;
  /** ffprobe's profile name, e.g. `High`, `Constrained Baseline`; `''` when it reports none. */
  profile: string;
  /** Pixel format, e.g. `yuv420p`; `''` when unknown. */
  pixelFormat: string;
  /** Pictures the decoder holds back for reordering (> 0 with B-frames). */
  reorderFrames: number;
}

/** The first audio track of a probed input. */
export interface ProbedAudio {
  /** ffprobe's codec name, e.g. `opus`, `aac`. */
  codec: string;
  /** Channels, 0 when unknown. */
  channels: number;
  /** Sample rate in Hz, 0 when unknown. */
  sampleRate: number;
}

/** What ffprobe found in an input: its first video and first audio track, when it has them. */
export interface ProbedMedia {
  /** The first video track. */
  video?: ProbedVideo;
  /** The first audio track. */
  audio?: ProbedAudio;
}

/** Whether a track can be sent as is, and why (for logs). */
export interface PassthroughVerdict {
  /** True when the track can be passed through. */
  pass: boolean;
  /** Why, in a few words, e.g. `H.264 High, yuv420p, no B-frames`. */
  reason: string;
}

/** The H.264 profiles every browser decodes (WebCodecs and WebRTC), as ffprobe names them. */
const BROWSER_H264_PROFILES = ['Constrained Baseline', 'Baseline', 'Main', 'High'];
/** 8-bit 4:2:0 (the `j` variant is the full-range flag of some cameras). */
const BROWSER_PIXEL_FORMATS = ['yuv420p', 'yuvj420p'];

/**
 * Reads the JSON ffprobe prints for `-print_format json -show_streams` (or `-show_entries stream=…`): the first
 * video and audio tracks. Throws `FW_ERR_PROBE_FAILED` for text that is not that JSON.
 */
export function parseProbeJson(text: string): ProbedMedia {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FramewireError('FW_ERR_PROBE_FAILED', `ffprobe printed no JSON: ${(error as Error).message}`, {
      cause: error,
      stage: 'source',
    });
  }
  const streams = (parsed as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams))
    throw new FramewireError('FW_ERR_PROBE_FAILED', 'ffprobe printed no stream list', { stage: 'source' });
  const media: ProbedMedia = {};
  for (const stream of streams as Record<string, unknown>[]) {
    const text = (key: string): string => {
      const value = stream[key];
      return typeof value === 'string' ? value : '';
    };
    const number = (key: string): number => {
      const value = Number(stream[key] ?? 0);
      return Number.isFinite(value) ? value : 0;
    };
    if (stream['codec_type'] === 'video' && !media.video)
      media.video = {
        codec: text('codec_name'),
        profile: text('profile'),
        pixelFormat: text('pix_fmt'),
        reorderFrames: number('has_b_frames'),
      };
    else if (stream['codec_type'] === 'audio' && !media.audio)
      media.audio = { codec: text('codec_name'), channels: number('channels'), sampleRate: number('sample_rate') };
  }
  return media;
}

/**
 * Whether a video track can reach browsers as is: H.264 in a profile every browser decodes (constrained baseline,
 * baseline, main, high), 8-bit 4:2:0, and no B-frames (WebRTC receivers play pictures in the order they arrive).
 */
export function h264PassthroughVerdict(video: ProbedVideo | undefined): PassthroughVerdict {
  if (!video) return { pass: false, reason: 'no video track' };
  if (video.codec !== 'h264') return { pass: false, reason: `${video.codec || 'unknown'} video` };
  const what = `H.264 ${video.profile || '(no profile)'}, ${video.pixelFormat || 'unknown pixel format'}`;
  if (!BROWSER_H264_PROFILES.includes(video.profile))
    return { pass: false, reason: `${what}: not a profile browsers decode` };
  if (!BROWSER_PIXEL_FORMATS.includes(video.pixelFormat)) return { pass: false, reason: `${what}: not 8-bit 4:2:0` };
  if (video.reorderFrames > 0) return { pass: false, reason: `${what}: B-frames` };
  return { pass: true, reason: `${what}, no B-frames` };
}

/**
 * Whether an audio track can be sent as is: Opus with one or two channels (what WebRTC and WebCodecs receivers
 * decode; Opus always runs at 48 kHz inside, whatever rate its header names, and its RTP clock is 48 kHz).
 */
export function opusPassthroughVerdict(audio: ProbedAudio | undefined): PassthroughVerdict {
  if (!audio) return { pass: false, reason: 'no audio track' };
  if (audio.codec !== 'opus') return { pass: false, reason: `${audio.codec || 'unknown'} audio` };
  if (audio.channels < 1 || audio.channels > 2)
    return { pass: false, reason: `Opus with ${audio.channels} channels (browsers take 1 or 2)` };
  return { pass: true, reason: `Opus, ${audio.channels === 1 ? 'mono' : 'stereo'}` };
}
