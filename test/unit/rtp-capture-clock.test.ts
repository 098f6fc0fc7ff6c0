// RtpCaptureClock (packages/browser-sdk/src/network/rtp-capture-clock.ts): a received WebRTC frame's capture time,
// recovered from its RTP timestamp and the sender's (capture, feed) times that travel on a data channel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpCaptureClock } from '../../packages/browser-sdk/src/network/rtp-capture-clock.js';

/** A sent frame: when it was fed to the sender's track, when it was captured, and its RTP timestamp. */
interface SentFrame {
  f: number;
  c: number;
  rtp: number;
}

const START_MS = 1_760_000_000_000;
const CAPTURE_DELAY_MS = 1000;
/**
 * Misses that still get a time from the last known delay (GUESSED_MISSES in the clock); frames and metas both
 * count, so twice as many frames may pass.
 */
const GUESSED = 5;

/**
 * `count` frames fed about every 33 ms (`jitter`: pseudo-random, deterministic ±6 ms, or none for a perfectly regular sender),
 * captured a second before, with RTP timestamps at 90 kHz from the feed time plus `offsetMs`.
 */
function sentFrames(count: number, { offsetMs = 123_456.789, jitter = true, from = START_MS } = {}): SentFrame[] {
  const frames: SentFrame[] = [];
  let f = from;
  let seed = 12345; // a linear congruential sequence: jitter that never repeats a pattern the clock could lock to
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    f += 33 + (jitter ? (seed % 13) - 6 : 1 / 3);
    frames.push({ f, c: f - CAPTURE_DELAY_MS, rtp: Math.round((f + offsetMs) * 90) % 2 ** 32 });
  }
  return frames;
}

/**
 * Plays `frames` into a clock, each frame's meta arriving `metaLagFrames` frames after the frame itself (negative:
 * before it); returns what the clock said of each frame.
 */
function play(clock: RtpCaptureClock, frames: SentFrame[], metaLagFrames: number): (number | undefined)[] {
  const said: (number | undefined)[] = [];
  const lead = Math.max(0, -metaLagFrames);
  for (let i = 0; i < frames.length + Math.max(0, metaLagFrames); i++) {
    const metaIndex = i - metaLagFrames;
    if (metaLagFrames < 0) {
      // Metas run ahead: the one `lead` frames ahead arrives before this frame.
      for (const j of i === 0 ? Array.from({ length: lead + 1 }, (_, k) => k) : [i + lead]) {
        const sent = frames[j];
        if (sent) clock.addMeta({ c: sent.c, f: sent.f });
      }
    }
    const frame = frames[i];
    if (frame) said.push(clock.captureTimeOf(frame.rtp));
    const late = metaLagFrames >= 0 ? frames[metaIndex] : undefined;
    if (late) clock.addMeta({ c: late.c, f: late.f });
  }
  return said;
}

/**
 * Index of the first frame the clock gave a capture time for; every later one must be that frame's own (exactly
 * when its meta was there, to within the millisecond the RTP clock rounds to when it was still on its way).
 */
function firstKnown(said: (number | undefined)[], frames: SentFrame[]): number {
  const first = said.findIndex((value) => value !== undefined);
  assert.ok(first >= 0, 'the clock never locked');
  for (let i = first; i < said.length; i++) {
    const value = said[i];
    assert.ok(value !== undefined && Math.abs(value - frames[i]!.c) <= 1, `frame ${i}: ${value} vs ${frames[i]!.c}`);
  }
  return first;
}

describe('RtpCaptureClock', () => {
  const cases: { name: string; lag: number; jitter: boolean; lockedBy: number }[] = [
    { name: 'metas arrive just before their frames', lag: -1, jitter: true, lockedBy: 15 },
    { name: 'metas arrive with their frames', lag: 0, jitter: true, lockedBy: 15 },
    { name: 'metas arrive 5 frames after their frames (a busy data channel)', lag: 5, jitter: true, lockedBy: 25 },
    { name: 'metas arrive 20 frames late', lag: 20, jitter: true, lockedBy: 61 },
    { name: 'a perfectly regular sender, metas first', lag: -1, jitter: false, lockedBy: 61 },
    { name: 'a perfectly regular sender, metas 5 frames late', lag: 5, jitter: false, lockedBy: 61 },
  ];
  for (const { name, lag, jitter, lockedBy } of cases) {
    it(`${name}: every frame after the lock maps to its own capture time`, () => {
      const frames = sentFrames(150, { jitter });
      const clock = new RtpCaptureClock();
      const said = play(clock, frames, lag);
      const first = firstKnown(said, frames);
      assert.ok(first <= lockedBy, `locked at frame ${first}`);
      assert.equal(clock.locked, true);
    });
  }

  for (const lag of [-1, 0, 5]) {
    it(`a perfectly regular sender whose metas carry the RTP timestamp (lag ${lag}): every frame its own time from the first`, () => {
      const frames = sentFrames(120, { jitter: false, offsetMs: 2 ** 32 / 90 - (START_MS % (2 ** 32 / 90)) - 1000 });
      const clock = new RtpCaptureClock();
      const said: (number | undefined)[] = [];
      const meta = (sent: SentFrame | undefined): void => {
        if (sent) clock.addMeta({ c: sent.c, f: sent.f, r: sent.rtp });
      };
      for (let i = 0; i < frames.length; i++) {
        if (lag < 0) meta(frames[i]);
        said.push(clock.captureTimeOf(frames[i]!.rtp));
        if (lag >= 0) meta(frames[i - lag]);
      }
      const first = firstKnown(said, frames);
      // Metas first: the first frame; otherwise the first frame after the first meta, once a frame met its meta.
      assert.ok(first <= lag + 2, `first capture time at frame ${first}`);
      assert.ok(
        frames.some((frame, i) => i > 0 && frame.rtp < frames[i - 1]!.rtp),
        'the stream wraps',
      );
    });
  }

  it('says nothing (undefined) rather than guess when no frame has met its meta', () => {
    const clock = new RtpCaptureClock();
    // Frames without any meta: the sender sends none.
    for (const frame of sentFrames(200)) assert.equal(clock.captureTimeOf(frame.rtp), undefined);
    assert.equal(clock.locked, false);
  });

  it('a lost meta after the lock: the frame gets the last known delay', () => {
    const frames = sentFrames(60);
    const clock = new RtpCaptureClock();
    for (const [i, frame] of frames.entries()) {
      if (i !== 50) clock.addMeta({ c: frame.c, f: frame.f });
      const said = clock.captureTimeOf(frame.rtp);
      if (i === 50) assert.ok(Math.abs(said! - frame.c) < 1, `frame 50: ${said} vs ${frame.c}`);
    }
  });

  it('a sender whose RTP offset changes (a restarted track) is found again after a lock that no longer matches', () => {
    const before = sentFrames(80);
    const after = sentFrames(150, { offsetMs: 9_999_000.5, from: before.at(-1)!.f });
    const clock = new RtpCaptureClock();
    firstKnown(play(clock, before, -1), before);
    const said = play(clock, after, -1);
    // The first few frames may still get a time from the last known delay (as for a lost meta), then none until
    // the offset is found again, then every frame its own.
    const found = said.findIndex((value, i) => i >= 2 * GUESSED && value !== undefined);
    // At most 30 misses, then a new vote of at most 60 frames.
    assert.ok(found > 0 && found <= 30 + 60, `found again at frame ${found}`);
    assert.ok(
      said.slice(2 * GUESSED, found).every((value) => value === undefined),
      'no capture time while the lock is in doubt',
    );
    firstKnown(said.slice(found), after.slice(found));
  });

  it('RTP timestamps that wrap around 2^32 keep mapping', () => {
    // An offset that puts the 32-bit wrap in the middle of the stream.
    const wrapAtMs = 2 ** 32 / 90;
    const frames = sentFrames(200, { offsetMs: wrapAtMs - (START_MS % wrapAtMs) - 3000 });
    assert.ok(
      frames.some((frame, i) => i > 0 && frame.rtp < frames[i - 1]!.rtp),
      'the stream wraps',
    );
    const clock = new RtpCaptureClock();
    firstKnown(play(clock, frames, -1), frames);
  });

  it('ignores malformed metas', () => {
    const clock = new RtpCaptureClock();
    for (const meta of [{ c: 'x', f: 1 }, { c: 1 }, {}] as unknown as { c: number; f: number }[]) clock.addMeta(meta);
    const frames = sentFrames(100);
    firstKnown(play(clock, frames, -1), frames);
  });
});
