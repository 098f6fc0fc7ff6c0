// The demuxed-input contract (packages/browser-sdk/src/core/demuxed-input.ts): how outputs reach the container
// tracks of a file source (FileSource registers them) without importing the source.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputAudioTrack, InputVideoTrack } from 'mediabunny';
import {
  audioTrackOf,
  isDemuxedInput,
  registerDemuxedTracks,
  videoTrackOf,
  type DemuxedInput,
} from '../../packages/browser-sdk/src/core/demuxed-input.js';

/** Stand-ins for mediabunny's tracks: the contract only stores and returns them. */
const video = { id: 1, type: 'video' } as unknown as InputVideoTrack;
const audio = { id: 2, type: 'audio' } as unknown as InputAudioTrack;

/** An input that declares the contract's members; only registration makes it one. */
function input(): DemuxedInput {
  return { durationUs: 1_000_000, width: 640, height: 360, rotation: 0, codec: 'avc', audio: null } as DemuxedInput;
}

describe('DemuxedInput', () => {
  it('a registered input gives back its tracks', () => {
    const cases = [
      { name: 'video and audio', tracks: { video, audio }, expectAudio: audio },
      { name: 'video only', tracks: { video, audio: null }, expectAudio: undefined },
    ];
    for (const { name, tracks, expectAudio } of cases) {
      const source = input();
      registerDemuxedTracks(source, tracks);
      assert.equal(isDemuxedInput(source), true, name);
      assert.equal(videoTrackOf(source), video, name);
      assert.equal(audioTrackOf(source), expectAudio, name);
    }
  });

  it('anything not registered is not a demuxed input, whatever members it has', () => {
    const values: [string, unknown][] = [
      ['an object with the members', input()],
      ['an empty object', {}],
      ['null', null],
      ['undefined', undefined],
      ['a URL string', 'file.mp4'],
      ['a number', 42],
      ['a Blob', new Blob([])],
    ];
    for (const [name, value] of values) assert.equal(isDemuxedInput(value), false, name);
  });

  it('an unregistered input has no audio track, and asking for its video fails with FW_ERR_CLOSED', () => {
    const source = input();
    assert.equal(audioTrackOf(source), undefined);
    assert.throws(() => videoTrackOf(source), { code: 'FW_ERR_CLOSED' });
  });
});
