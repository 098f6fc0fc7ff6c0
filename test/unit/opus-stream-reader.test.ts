// OpusStreamReader and MediaStartClock (packages/node-bridge/src/media/): Ogg Opus from a real-time encoder to
// packets stamped on the capture clock, whatever the delivery jitter, and one clock shared with the video.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaStartClock } from '../../packages/node-bridge/src/media/media-start-clock.js';
import { OpusStreamReader } from '../../packages/node-bridge/src/media/opus-stream-reader.js';
import { OPUS_TAGS, celt20, oggPage, opusHead } from '../helpers/ogg-pages.js';

const page = oggPage;
const head = opusHead(1, 0);
const tags = OPUS_TAGS;
const celt = celt20();

describe('MediaStartClock', () => {
  it('keeps the earliest start any arrival allows', () => {
    const clock = new MediaStartClock();
    assert.equal(clock.startMs, undefined);
    assert.equal(clock.observe(1050, 20, 0), 1030);
    assert.equal(clock.observe(1050, 40, 20), 1030); // arrived 20 ms later than it could have: no change
    assert.equal(clock.observe(1070, 60, 40), 1050); // earlier bound
    assert.equal(clock.startMs, 1010);
  });
});

describe('OpusStreamReader', () => {
  it('stamps packets at their media time on the wall clock, ignoring late deliveries', () => {
    let now = 10_000;
    const reader = new OpusStreamReader(() => now);
    reader.push(Buffer.concat([page([head], 0n, 2), page([tags], 0n)]));
    assert.deepEqual(reader.info, { codec: 'opus', sampleRate: 48000, channels: 1 });
    const stamps: number[] = [];
    // Arrivals: on time, 15 ms late, on time, 5 ms late.
    for (const [i, lateMs] of [0, 15, 0, 5].entries()) {
      now = 10_000 + (i + 1) * 20 + lateMs;
      for (const packet of reader.push(page([celt], BigInt((i + 1) * 960)))) {
        assert.equal(packet.durationUs, 20_000);
        assert.equal(packet.timestampUs, i * 20_000);
        stamps.push(packet.captureTimeMs);
      }
    }
    assert.deepEqual(stamps, [10_000, 10_020, 10_040, 10_060]);
  });

  it('shares its clock with the video of the same encoder', () => {
    const clock = new MediaStartClock();
    clock.observe(5000 + 33 + 12, 33); // a video frame, 12 ms of encoding after its media time
    const reader = new OpusStreamReader(() => 5000 + 20 + 3, clock);
    reader.push(Buffer.concat([page([head], 0n, 2), page([tags], 0n)]));
    const [packet] = reader.push(page([celt], 960n));
    assert.equal(packet?.captureTimeMs, 5000 + 3);
  });
});
