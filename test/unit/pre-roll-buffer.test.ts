// PreRollBuffer (packages/node-bridge/src/recording/pre-roll-buffer.ts): the compressed pre-roll of triggered
// recording keeps every entry from the last keyframe at or before the window's start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PreRollBuffer, type PreRollEntry } from '../../packages/node-bridge/src/recording/pre-roll-buffer.js';

type Entry = PreRollEntry & { tag: string };
const video = (t: number, key = false): Entry => ({ key, captureTimeMs: t, tag: `${key ? 'K' : 'v'}${t}` });
const audio = (t: number): Entry => ({ key: false, captureTimeMs: t, tag: `a${t}` });
const tags = (entries: Entry[]): string[] => entries.map((e) => e.tag);

function fill(windowMs: number, entries: Entry[]): PreRollBuffer<Entry> {
  const buffer = new PreRollBuffer<Entry>(windowMs);
  for (const entry of entries) buffer.push(entry);
  return buffer;
}

describe('PreRollBuffer', () => {
  it('keeps from the last keyframe at or before the window start', () => {
    // Keyframes every 1000 ms, frames every 250 ms, audio between; window 1500 ms, newest at 3750.
    const entries: Entry[] = [];
    for (let t = 0; t <= 3750; t += 250) {
      entries.push(video(t, t % 1000 === 0), audio(t + 10));
    }
    const drained = fill(1500, entries).drain();
    // The window starts at 2250: the last keyframe at or before it is at 2000.
    assert.equal(drained[0]?.tag, 'K2000');
    assert.equal(drained.at(-1)?.tag, 'a3760');
    assert.ok(drained.every((e) => e.captureTimeMs >= 2000));
  });

  it('drops what comes before the first keyframe and starts with one', () => {
    const buffer = fill(5000, [audio(0), video(10), video(20, true), audio(25), video(30)]);
    assert.deepEqual(tags(buffer.drain()), ['K20', 'a25', 'v30']);
  });

  it('holds nothing without a keyframe, and is empty after drain', () => {
    const buffer = fill(5000, [audio(0), video(10), video(20)]);
    assert.equal(buffer.length, 0);
    assert.deepEqual(buffer.drain(), []);
    buffer.push(video(30, true));
    assert.equal(buffer.drain().length, 1);
    assert.equal(buffer.length, 0);
  });

  it('keeps a whole GOP when the keyframes are farther apart than the window', () => {
    const entries = [video(0, true), ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => video(s * 1000))];
    assert.deepEqual(tags(fill(2000, entries).drain()).slice(0, 2), ['K0', 'v1000']);
  });

  it('with a zero window keeps from the newest keyframe', () => {
    const buffer = fill(0, [video(0, true), video(10), video(20, true), video(30)]);
    assert.deepEqual(tags(buffer.drain()), ['K20', 'v30']);
  });
});
