// AudioHoldback (packages/browser-sdk/src/sources/audio-holdback.ts): how long BridgeSource and MqttSource hold an
// audio packet so that it plays with the video captured at the same time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AudioHoldback } from '../../packages/browser-sdk/src/sources/audio-holdback.js';

/** A receiver clock the test moves, and a holdback that reads it. */
function receiver(startMs = 5_000_000): { holdback: AudioHoldback; at: (ms: number) => void } {
  let now = startMs;
  return {
    holdback: new AudioHoldback(() => now),
    at: (ms) => {
      now = ms;
    },
  };
}

describe('AudioHoldback', () => {
  it('holds nothing before the first video frame', () => {
    const { holdback } = receiver();
    assert.equal(holdback.videoDelayMs, undefined);
    assert.equal(holdback.holdMs(5_000_000 - 30), 0);
  });

  it('holds an audio packet by the video delay minus its own, whatever the offset between the clocks', () => {
    for (const senderAheadMs of [0, 123_456, -987_654]) {
      const { holdback, at } = receiver();
      // A frame captured at receiver time 5_000_000 (stamped on the sender's clock, senderAheadMs ahead) is decoded
      // 120 ms later.
      at(5_000_120);
      holdback.videoDecoded(5_000_000 + senderAheadMs);
      assert.equal(holdback.videoDelayMs, 120 - senderAheadMs);
      // Audio captured at the same moment, arriving 20 ms after its capture: held the 100 ms the video takes more.
      at(5_000_020);
      assert.equal(holdback.holdMs(5_000_000 + senderAheadMs), 100);
    }
  });

  it('never holds audio that comes later than the video, and never more than a second', () => {
    const { holdback, at } = receiver();
    at(5_000_050);
    holdback.videoDecoded(5_000_000); // video: 50 ms
    at(5_000_080);
    assert.equal(holdback.holdMs(5_000_000), 0, 'audio 80 ms late: no hold');
    const slow = receiver();
    slow.at(5_005_000);
    slow.holdback.videoDecoded(5_000_000); // video: 5 s (a broken clock)
    assert.equal(slow.holdback.holdMs(5_005_000), 1000);
  });

  it('never releases a packet before the one that came before it, when the video delay shrinks', () => {
    const { holdback, at } = receiver(0);
    at(1000);
    holdback.videoDecoded(0); // video: 1000 ms
    at(1020);
    assert.equal(holdback.holdMs(1000), 980, 'released at 2000');
    at(1040);
    holdback.videoDecoded(1000); // video: 40 ms now, so the average falls to 952 ms
    assert.equal(holdback.holdMs(1020), 960, 'not before 2000, although the video delay says 932');
    at(3000);
    assert.equal(
      holdback.holdMs(2980),
      Math.round((holdback.videoDelayMs ?? Number.NaN) - 20),
      'later packets are held as measured',
    );
  });

  it('follows the video delay slowly (1/20 of each change), ignoring one frame’s jitter', () => {
    const { holdback, at } = receiver(0);
    at(100);
    holdback.videoDecoded(0); // 100 ms
    at(1300);
    holdback.videoDecoded(1000); // 300 ms: moves by (300 − 100) / 20
    assert.equal(holdback.videoDelayMs, 110);
    for (let i = 0; i < 200; i++) {
      at(2000 + i * 33 + 300);
      holdback.videoDecoded(2000 + i * 33);
    }
    assert.ok(Math.abs(holdback.videoDelayMs - 300) < 1, String(holdback.videoDelayMs));
  });

  it('adds the frame interval (the decoded frame’s wait for the screen), ignoring pauses', () => {
    const { holdback, at } = receiver(0);
    for (let i = 0; i < 100; i++) {
      at(i * 33 + 80); // 30 fps, 80 ms from capture to decoded
      holdback.videoDecoded(i * 33);
    }
    assert.ok(Math.abs((holdback.frameIntervalMs ?? 0) - 33) < 0.01, String(holdback.frameIntervalMs));
    // Audio captured with the last frame arrives 10 ms after capture: held by 80 − 10 + 33 ms.
    at(99 * 33 + 10);
    assert.ok(Math.abs(holdback.holdMs(99 * 33) - 103) < 0.5);
    at(99 * 33 + 2000);
    holdback.videoDecoded(99 * 33 + 1920); // a 1.9 s pause is not a frame interval
    assert.ok(Math.abs((holdback.frameIntervalMs ?? 0) - 33) < 0.01);
  });
});
