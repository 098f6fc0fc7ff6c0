// probed-media (packages/node-bridge/src/media/probed-media.ts): ffprobe's JSON to the first video and audio tracks,
// and which tracks the bridge may send as is (H.264 that browsers play, Opus with one or two channels).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import {
  h264PassthroughVerdict,
  opusPassthroughVerdict,
  parseProbeJson,
  type ProbedVideo,
} from '../../packages/node-bridge/src/media/probed-media.js';

describe('parseProbeJson', () => {
  it('reads the first video and audio streams (ffprobe -print_format json -show_entries stream=…)', () => {
    const json = JSON.stringify({
      programs: [],
      streams: [
        { index: 0, codec_name: 'h264', profile: 'High', codec_type: 'video', has_b_frames: 0, pix_fmt: 'yuv420p' },
        { index: 1, codec_name: 'opus', codec_type: 'audio', sample_rate: '48000', channels: 1 },
        { index: 2, codec_name: 'aac', codec_type: 'audio', sample_rate: '44100', channels: 2 },
        { index: 3, codec_name: 'hevc', codec_type: 'video', profile: 'Main', pix_fmt: 'yuv420p' },
      ],
    });
    assert.deepEqual(parseProbeJson(json), {
      video: { codec: 'h264', profile: 'High', pixelFormat: 'yuv420p', reorderFrames: 0 },
      audio: { codec: 'opus', channels: 1, sampleRate: 48000 },
    });
  });

  it('an input without streams has neither track; missing fields become empty or 0', () => {
    assert.deepEqual(parseProbeJson('{"streams":[]}'), {});
    assert.deepEqual(parseProbeJson('{"streams":[{"codec_type":"video"}]}'), {
      video: { codec: '', profile: '', pixelFormat: '', reorderFrames: 0 },
    });
  });

  for (const [name, text] of [
    ['not JSON', 'ffprobe: error'],
    ['no stream list', '{"format":{}}'],
    ['null', 'null'],
  ] as const) {
    it(`refuses ${name} with FW_ERR_PROBE_FAILED`, () => {
      assert.throws(
        () => parseProbeJson(text),
        (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_PROBE_FAILED',
      );
    });
  }
});

describe('h264PassthroughVerdict', () => {
  const h264 = (fields: Partial<ProbedVideo>): ProbedVideo => ({
    codec: 'h264',
    profile: 'High',
    pixelFormat: 'yuv420p',
    reorderFrames: 0,
    ...fields,
  });
  for (const [name, video, pass] of [
    ['High, yuv420p, no B-frames', h264({}), true],
    ['Constrained Baseline', h264({ profile: 'Constrained Baseline' }), true],
    ['Baseline', h264({ profile: 'Baseline' }), true],
    ['Main, full-range yuvj420p (a camera)', h264({ profile: 'Main', pixelFormat: 'yuvj420p' }), true],
    ['High with B-frames', h264({ reorderFrames: 2 }), false],
    ['High 10', h264({ profile: 'High 10', pixelFormat: 'yuv420p10le' }), false],
    ['High 4:2:2', h264({ profile: 'High 4:2:2', pixelFormat: 'yuv422p' }), false],
    ['High with a 4:4:4 picture', h264({ pixelFormat: 'yuv444p' }), false],
    ['no profile reported', h264({ profile: '' }), false],
    ['HEVC', { codec: 'hevc', profile: 'Main', pixelFormat: 'yuv420p', reorderFrames: 0 }, false],
    ['MJPEG', { codec: 'mjpeg', profile: 'Baseline', pixelFormat: 'yuvj422p', reorderFrames: 0 }, false],
    ['no video track', undefined, false],
  ] as const) {
    it(`${name}: ${pass ? 'passed through' : 'decoded'}`, () => {
      const verdict = h264PassthroughVerdict(video);
      assert.equal(verdict.pass, pass, verdict.reason);
      assert.ok(verdict.reason.length > 0);
    });
  }
});

describe('opusPassthroughVerdict', () => {
  for (const [name, audio, pass] of [
    ['Opus mono', { codec: 'opus', channels: 1, sampleRate: 48000 }, true],
    [
      'Opus stereo whose header names 44.1 kHz (Opus decodes at 48 kHz)',
      { codec: 'opus', channels: 2, sampleRate: 44100 },
      true,
    ],
    ['Opus 5.1', { codec: 'opus', channels: 6, sampleRate: 48000 }, false],
    ['AAC', { codec: 'aac', channels: 2, sampleRate: 44100 }, false],
    ['no audio track', undefined, false],
  ] as const) {
    it(`${name}: ${pass ? 'copied' : 'encoded'}`, () => assert.equal(opusPassthroughVerdict(audio).pass, pass));
  }
});
