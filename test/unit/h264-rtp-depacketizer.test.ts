// H264RtpDepacketizer (packages/node-bridge/src/media/h264-rtp-depacketizer.ts): RTP packets back to Annex B access
// units, round trip through the bridge's own RFC 6184 packetizer, with losses and a start mid-stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpPacket } from 'werift';
import { H264RtpDepacketizer } from '../../packages/node-bridge/src/media/h264-rtp-depacketizer.js';
import { H264RtpPacketizer } from '../../packages/node-bridge/src/media/h264-rtp-packetizer.js';

const START = Buffer.from([0, 0, 0, 1]);
/** A NAL unit of `type` (nal_ref_idc 3) with `size` bytes in all. */
function nal(type: number, size: number): Buffer {
  const unit = Buffer.alloc(size);
  unit[0] = 0x60 | type;
  for (let i = 1; i < size; i++) unit[i] = (i * 13 + type) % 251 || 1;
  return unit;
}
const annexB = (...units: Buffer[]): Buffer => Buffer.concat(units.flatMap((u) => [START, u]));
const KEY = annexB(nal(7, 12), nal(8, 5), nal(5, 5000));
const DELTA = annexB(nal(1, 300));
const BIG_DELTA = annexB(nal(1, 3000));

/** The packets of `units` (one access unit each, 1/30 s apart). */
function packetsOf(units: Buffer[]): RtpPacket[] {
  const packetizer = new H264RtpPacketizer({ maxPacketBytes: 1200 });
  return units.flatMap((unit, i) =>
    packetizer.packetize(unit, Math.round((i * 1e6) / 30)).packets.map((p) => RtpPacket.deSerialize(p)),
  );
}

function run(packets: RtpPacket[], depacketizer = new H264RtpDepacketizer()): Buffer[] {
  const units: Buffer[] = [];
  for (const packet of packets) {
    const unit = depacketizer.push(packet);
    if (unit) units.push(unit.data);
  }
  return units;
}

describe('H264RtpDepacketizer', () => {
  it('gives back every access unit of an in-order stream, keyframes marked', () => {
    const units = [KEY, DELTA, BIG_DELTA, KEY, DELTA];
    const depacketizer = new H264RtpDepacketizer();
    const out = packetsOf(units).flatMap((p) => {
      const unit = depacketizer.push(p);
      return unit ? [unit] : [];
    });
    assert.deepEqual(
      out.map((u) => u.data),
      units,
    );
    assert.deepEqual(
      out.map((u) => u.key),
      [true, false, false, true, false],
    );
    assert.equal(depacketizer.lost, 0);
    assert.equal(depacketizer.needsKeyframe, false);
  });

  it('waits for a keyframe when the stream starts mid-group', () => {
    const depacketizer = new H264RtpDepacketizer();
    assert.deepEqual(run(packetsOf([DELTA, BIG_DELTA, KEY, DELTA]), depacketizer), [KEY, DELTA]);
  });

  const losses: { name: string; drop: (packets: RtpPacket[]) => RtpPacket[]; expected: Buffer[] }[] = [
    {
      name: 'a lost middle part of a fragmented keyframe drops the group up to the next keyframe',
      drop: (packets) => packets.filter((_, i) => i !== 2),
      expected: [KEY, DELTA],
    },
    {
      name: 'a lost delta frame drops the rest of its group',
      drop: (packets) => {
        const keyPackets = packetsOf([KEY]).length;
        return packets.filter((_, i) => i !== keyPackets);
      },
      expected: [KEY, KEY, DELTA],
    },
  ];
  for (const { name, drop, expected } of losses)
    it(name, () => {
      const depacketizer = new H264RtpDepacketizer();
      const units = [KEY, DELTA, BIG_DELTA, KEY, DELTA];
      const out = run(drop(packetsOf(units)), depacketizer);
      assert.deepEqual(out.slice(-expected.length), expected);
      assert.equal(out.length, expected.length);
      assert.equal(depacketizer.lost, 1);
      assert.equal(depacketizer.needsKeyframe, false, 'the later keyframe repaired it');
    });

  it('asks for a keyframe after a loss until one arrives', () => {
    const depacketizer = new H264RtpDepacketizer();
    const packets = packetsOf([KEY, DELTA, BIG_DELTA]);
    const keyPackets = packetsOf([KEY]).length;
    run(
      packets.filter((_, i) => i !== keyPackets),
      depacketizer,
    );
    assert.equal(depacketizer.needsKeyframe, true);
  });
});
