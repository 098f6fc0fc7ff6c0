import { assertOption } from '@framewire/core';

/**
 * Where a source's audio comes from (CLI `--audio`): `tone` (the test pattern's beep, once a second, in sync with
 * a white flash), `source` (the audio track of an RTSP camera or a file, read by the same ffmpeg as the video),
 * `alsa` or `pulse` (a capture device, e.g. a USB microphone next to a Pi camera), or `none`.
 */
export type AudioSpec =
  { kind: 'none' } | { kind: 'tone' } | { kind: 'source' } | { kind: 'alsa' | 'pulse'; device: string };

/** The Opus settings of every audio the bridge encodes: 48 kHz, 20 ms frames, low-delay mode. */
export const OPUS_ENCODE = { sampleRate: 48_000, frameDurationMs: 20, bitrateBps: 64_000 } as const;

/** The test pattern's beep: its pitch, length and period, in Hz and ms. */
export const TONE = { frequencyHz: 1000, durationMs: 100, periodMs: 1000 } as const;

/**
 * Parses an `--audio` value: `tone`, `source`, `alsa:<device>` (e.g. `alsa:hw:1,0`, `alsa:default`),
 * `pulse:<device>` (e.g. `pulse:default`) or `none`. Throws `FW_ERR_INVALID_OPTION` for anything else.
 */
export function parseAudioSpec(text: string): AudioSpec {
  assertOption(typeof text === 'string', '--audio must be a string');
  if (text === 'none' || text === 'tone' || text === 'source') return { kind: text };
  const match = /^(alsa|pulse):(.+)$/.exec(text);
  assertOption(
    match?.[1] !== undefined && match[2] !== undefined && /^[\w.,:@/=-]{1,200}$/.test(match[2]),
    `--audio must be tone, source, alsa:<device>, pulse:<device> or none; got ${text}`,
  );
  return { kind: match[1] as 'alsa' | 'pulse', device: match[2] };
}

/** ffmpeg input arguments of a capture device: `-f alsa -i <device>` or `-f pulse -i <device>`, low delay. */
export function audioDeviceInputArgs(spec: { kind: 'alsa' | 'pulse'; device: string }): string[] {
  return [
    '-fflags',
    'nobuffer',
    '-f',
    spec.kind,
    ...(spec.kind === 'pulse' ? ['-fragment_size', '1920'] : []),
    '-i',
    spec.device,
  ];
}

/**
 * The lavfi graph of the test pattern with its tone: `testsrc2` with a white frame painted on the frames of the
 * beep (`[out0]`), and a 1 kHz beep of 100 ms once a second (`[out1]`, silence between), both on ffmpeg's one
 * clock, so that each flash frame and its beep start at the same media time.
 */
export function toneTestPatternGraph(width: number, height: number, frameRate: number): string {
  const on = `lt(mod(t\\,${TONE.periodMs / 1000})\\,${TONE.durationMs / 1000})`;
  return (
    `testsrc2=size=${width}x${height}:rate=${frameRate},` +
    `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='${on}'[out0];` +
    `aevalsrc='if(${on}\\,0.5*sin(2*PI*${TONE.frequencyHz}*t)\\,0)':s=${OPUS_ENCODE.sampleRate}:c=mono:n=480[out1]`
  );
}

/**
 * ffmpeg output arguments that encode the mapped audio stream `map` to Opus (libopus, 48 kHz, 20 ms frames, at most
 * `channels` channels) in Ogg pages of one packet each, flushed at once, on `target` (e.g. `pipe:3`).
 */
export function opusOutputArgs(map: string, target: string, channels: 1 | 2 = 2): string[] {
  return [
    '-map',
    map,
    '-vn',
    '-c:a',
    'libopus',
    '-b:a',
    String(OPUS_ENCODE.bitrateBps),
    '-ar',
    String(OPUS_ENCODE.sampleRate),
    '-ac',
    String(channels),
    '-frame_duration',
    String(OPUS_ENCODE.frameDurationMs),
    '-application',
    'lowdelay',
    '-f',
    'ogg',
    '-page_duration',
    String(OPUS_ENCODE.frameDurationMs * 1000),
    '-flush_packets',
    '1',
    target,
  ];
}

/**
 * ffmpeg output arguments that copy the mapped Opus stream `map` as it is (no decode, no encode) into Ogg pages
 * flushed at once, on `target`: for inputs whose audio already is Opus (a WebM or Matroska file, an Ogg stream).
 */
export function opusCopyArgs(map: string, target: string): string[] {
  return [
    '-map',
    map,
    '-vn',
    '-c:a',
    'copy',
    '-f',
    'ogg',
    '-page_duration',
    String(OPUS_ENCODE.frameDurationMs * 1000),
    '-flush_packets',
    '1',
    target,
  ];
}
