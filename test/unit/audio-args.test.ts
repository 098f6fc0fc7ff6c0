// Audio arguments (packages/node-bridge/src/process/audio-args.ts and the device capture's command line): the
// --audio values, the ffmpeg arguments of ALSA and PulseAudio devices (no sound card here: the capture itself
// cannot run on a test machine) and of the Opus output, and the test pattern's tone graph, checked with ffmpeg.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import {
  opusOutputArgs,
  parseAudioSpec,
  toneTestPatternGraph,
} from '../../packages/node-bridge/src/process/audio-args.js';
import { deviceAudioCaptureArgs } from '../../packages/node-bridge/src/sources/device-audio-capture.js';

const run = promisify(execFile);
const invalid = (error: unknown): boolean => error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION';

describe('parseAudioSpec', () => {
  for (const [text, spec] of [
    ['none', { kind: 'none' }],
    ['tone', { kind: 'tone' }],
    ['source', { kind: 'source' }],
    ['alsa:hw:1,0', { kind: 'alsa', device: 'hw:1,0' }],
    ['alsa:plughw:CARD=Device,DEV=0', { kind: 'alsa', device: 'plughw:CARD=Device,DEV=0' }],
    ['pulse:default', { kind: 'pulse', device: 'default' }],
    [
      'pulse:alsa_input.usb-0d8c_USB-00.mono-fallback',
      { kind: 'pulse', device: 'alsa_input.usb-0d8c_USB-00.mono-fallback' },
    ],
  ] as const) {
    it(`reads ${text}`, () => assert.deepEqual(parseAudioSpec(text), spec));
  }
  for (const text of ['', 'beep', 'alsa:', 'alsa:hw 1', 'pulse:$(reboot)', 'oss:/dev/dsp']) {
    it(`refuses ${JSON.stringify(text)} with FW_ERR_INVALID_OPTION`, () =>
      assert.throws(() => parseAudioSpec(text), invalid));
  }
});

describe('deviceAudioCaptureArgs', () => {
  it('reads an ALSA device with low delay and writes 20 ms Opus packets in Ogg on stdout', () => {
    const args = deviceAudioCaptureArgs({ kind: 'alsa', device: 'plughw:1,0' });
    const input = args.indexOf('-i');
    assert.deepEqual(args.slice(input - 2, input + 2), ['-f', 'alsa', '-i', 'plughw:1,0']);
    assert.ok(args.includes('nobuffer'));
    assert.deepEqual(args.slice(-1), ['pipe:1']);
    for (const [flag, value] of [
      ['-c:a', 'libopus'],
      ['-ar', '48000'],
      ['-ac', '2'],
      ['-frame_duration', '20'],
      ['-f', 'ogg'],
      ['-page_duration', '20000'],
    ] as const)
      assert.equal(args[args.lastIndexOf(flag) + 1], value, flag);
  });
  it('reads a PulseAudio source, in small fragments, downmixed to mono when asked', () => {
    const args = deviceAudioCaptureArgs({ kind: 'pulse', device: 'default', channels: 1 });
    assert.equal(args[args.indexOf('-f') + 1], 'pulse');
    assert.equal(args[args.indexOf('-fragment_size') + 1], '1920');
    assert.equal(args[args.indexOf('-ac') + 1], '1');
  });
  for (const options of [
    { kind: 'oss', device: 'default' },
    { kind: 'alsa', device: 'hw 1' },
    { kind: 'alsa', device: 'default', channels: 6 },
  ]) {
    it(`refuses ${JSON.stringify(options)}`, () =>
      assert.throws(() => deviceAudioCaptureArgs(options as Parameters<typeof deviceAudioCaptureArgs>[0]), invalid));
  }
});

describe('the tone test pattern', () => {
  it('beeps for 100 ms each second and paints exactly the frames of the beep white (ffmpeg renders the graph)', async () => {
    const graph = toneTestPatternGraph(64, 48, 30);
    const common = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-t', '2', '-i', graph];
    const video = await run(
      'ffmpeg',
      [...common, '-map', '0:v:0', '-vf', 'scale=1:1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
      {
        encoding: 'buffer',
      },
    );
    const white = [...video.stdout].map((luma, frame) => (luma > 240 ? frame : -1)).filter((f) => f >= 0);
    assert.deepEqual(white, [0, 1, 2, 30, 31, 32]);
    const audio = await run('ffmpeg', [...common, '-map', '0:a:0', '-f', 's16le', 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 1 << 24,
    });
    const samples = new Int16Array(audio.stdout.buffer, audio.stdout.byteOffset, audio.stdout.length / 2);
    const loud = (fromMs: number, toMs: number): boolean =>
      samples.subarray(fromMs * 48, toMs * 48).some((s) => Math.abs(s) > 8000);
    assert.ok(loud(0, 5) && loud(95, 100) && loud(1000, 1005) && loud(1095, 1100), 'the beeps sound');
    assert.ok(!loud(100, 1000) && !loud(1100, 2000), 'silence between the beeps');
  });
  it('maps the Opus output to its own pipe', () => {
    const args = opusOutputArgs('0:a:0?', 'pipe:3', 1);
    assert.deepEqual(args.slice(0, 3), ['-map', '0:a:0?', '-vn']);
    assert.equal(args.at(-1), 'pipe:3');
  });
});
