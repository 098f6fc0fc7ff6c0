// H264RtpPacketizer (packages/node-bridge/src/media/h264-rtp-packetizer.ts): H.264 access units to RTP packets
// (RFC 6184, packetization-mode 1), checked against werift's own depacketizer and a real libx264 stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import { AnnexBSplitter } from '../../packages/node-bridge/src/media/annex-b-splitter.js';
import { splitNalUnits } from '../../packages/node-bridge/src/media/h264.js';
import { H264RtpPacketizer } from '../../packages/node-bridge/src/media/h264-rtp-packetizer.js';
import { H264RtpPayload, RtpPacket } from 'werift';
import { encodeTestPattern } from '../helpers/ffmpeg-test-pattern.js';

const START = Buffer.from([0, 0, 0, 1]);
/** A NAL unit of `type` (nal_ref_idc 3) with `size` bytes in all, its body a counting pattern. */
function nal(type: number, size: number): Buffer {
  const unit = Buffer.alloc(size);
  unit[0] = 0x60 | type;
  for (let i = 1; i < size; i++) unit[i] = (i * 7 + type) % 251 || 1;
  return unit;
}
const annexB = (...units: Buffer[]): Buffer => Buffer.concat(units.flatMap((u) => [START, u]));
const SPS = nal(7, 12);
const PPS = nal(8, 5);

/** Depacketizes with werift's own H.264 depacketizer: the NAL units of the packets, in order. */
function depacketize(packets: Buffer[]): Buffer[] {
  const units: Buffer[] = [];
  let fragment: Buffer | undefined;
  for (const buffer of packets) {
    const rtp = RtpPacket.deSerialize(buffer);
    const h264 = H264RtpPayload.deSerialize(rtp.payload, fragment);
    fragment = h264.fragment;
    const payload = h264.payload as Buffer | undefined;
    if (payload) units.push(...splitNalUnits(payload).map((u) => Buffer.from(u)));
  }
  assert.equal(fragment, undefined, 'no FU-A left unfinished');
  return units;
}

const headerOf = (packet: Buffer): { marker: boolean; pt: number; seq: number; ts: number; type: number } => ({
  marker: ((packet[1] ?? 0) & 0x80) !== 0,
  pt: (packet[1] ?? 0) & 0x7f,
  seq: packet.readUInt16BE(2),
  ts: packet.readUInt32BE(4),
  type: (packet[12] ?? 0) & 0x1f,
});

describe('H264RtpPacketizer (RFC 6184, packetization-mode 1)', () => {
  const cases: {
    name: string;
    units: Buffer[];
    options?: ConstructorParameters<typeof H264RtpPacketizer>[0];
    /** Access units packetized first, to teach the packetizer SPS/PPS. */
    before?: Buffer[][];
    /** Payload types (NAL or STAP-A 24 / FU-A 28) of the packets. */
    types: number[];
    /** NAL units the receiver gets back (default: `units`). */
    expected?: Buffer[];
    inserted?: boolean;
  }[] = [
    { name: 'a small P slice: one single NAL unit packet', units: [nal(1, 300)], types: [1] },
    {
      name: 'SPS, PPS and a small IDR: one STAP-A',
      units: [SPS, PPS, nal(5, 400)],
      types: [24],
    },
    {
      name: 'SPS, PPS and a large IDR: STAP-A then FU-A fragments',
      units: [SPS, PPS, nal(5, 5000)],
      types: [24, 28, 28, 28, 28, 28],
    },
    {
      name: 'without aggregation: single packets, then FU-A',
      units: [SPS, PPS, nal(5, 2000)],
      options: { aggregate: false },
      types: [7, 8, 28, 28],
    },
    {
      name: 'an access unit delimiter is not sent',
      units: [nal(9, 2), nal(1, 100)],
      types: [1],
      expected: [nal(1, 100)],
    },
    {
      name: 'an IDR without SPS/PPS gets the latest ones',
      before: [[SPS, PPS, nal(5, 50)], [nal(1, 50)]],
      units: [nal(5, 3000)],
      types: [24, 28, 28, 28],
      expected: [SPS, PPS, nal(5, 3000)],
      inserted: true,
    },
    {
      name: 'an IDR with only its SPS gets the PPS',
      before: [[SPS, PPS, nal(5, 50)]],
      units: [SPS, nal(5, 50)],
      types: [24],
      expected: [SPS, PPS, nal(5, 50)],
      inserted: true,
    },
    {
      name: 'an IDR before any SPS/PPS is sent as it is',
      units: [nal(5, 800)],
      types: [5],
      inserted: false,
    },
    {
      name: 'a small packet size limit: more fragments',
      units: [nal(5, 1000)],
      options: { maxPacketBytes: 300 },
      types: [28, 28, 28, 28],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const max = c.options?.maxPacketBytes ?? 1200;
      const packetizer = new H264RtpPacketizer({
        initialSequenceNumber: 100,
        initialTimestamp: 1000,
        payloadType: 102,
        ...c.options,
      });
      let sequence = 100;
      for (const units of c.before ?? []) sequence += packetizer.packetize(annexB(...units), 0).packets.length;
      const result = packetizer.packetize(annexB(...c.units), 1_000_000);
      const headers = result.packets.map(headerOf);
      assert.deepEqual(
        headers.map((h) => h.type),
        c.types,
      );
      for (const [i, packet] of result.packets.entries())
        assert.ok(packet.length <= max, `packet ${i}: ${packet.length}`);
      assert.deepEqual(
        headers.map((h) => h.marker),
        headers.map((_, i) => i === headers.length - 1),
        'the marker bit is on the last packet only',
      );
      assert.deepEqual(
        headers.map((h) => h.seq),
        headers.map((_, i) => sequence + i),
      );
      assert.ok(headers.every((h) => h.ts === 1000 + 90_000 && h.pt === 102));
      assert.equal(result.rtpTimestamp, 91_000);
      assert.equal(
        result.key,
        c.units.some((u) => ((u[0] ?? 0) & 0x1f) === 5),
      );
      if (c.inserted !== undefined) assert.equal(result.parameterSetsInserted, c.inserted);
      assert.deepEqual(depacketize(result.packets), c.expected ?? c.units);
    });
  }

  it('wraps the sequence number and the 90 kHz timestamp', () => {
    const packetizer = new H264RtpPacketizer({ initialSequenceNumber: 0xfffe, initialTimestamp: 0xffff_ff00 });
    const a = packetizer.packetize(annexB(nal(1, 3000)), 0).packets.map(headerOf);
    assert.deepEqual(
      a.map((h) => h.seq),
      [0xfffe, 0xffff, 0],
    );
    const [b] = packetizer.packetize(annexB(nal(1, 10)), 33_333).packets.map(headerOf);
    assert.ok(b);
    assert.equal(b.seq, 1);
    assert.equal(b.ts, (0xffff_ff00 + 3000) >>> 0);
  });

  it('refuses malformed access units with FW_ERR_FRAME_UNUSABLE and keeps its state', () => {
    const packetizer = new H264RtpPacketizer({ initialSequenceNumber: 7 });
    for (const [name, data] of [
      ['empty', Buffer.alloc(0)],
      ['no start code', Buffer.from([0x65, 1, 2, 3, 4, 5])],
      ['only start codes', Buffer.from([0, 0, 1, 0, 0, 0, 1])],
      ['only an access unit delimiter', annexB(nal(9, 2))],
    ] as const) {
      assert.throws(
        () => packetizer.packetize(data, 0),
        (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_FRAME_UNUSABLE',
        name,
      );
    }
    const [packet] = packetizer.packetize(annexB(nal(1, 10)), 0).packets;
    assert.ok(packet);
    assert.equal(headerOf(packet).seq, 7);
  });

  it('validates its options', () => {
    for (const options of [
      { maxPacketBytes: 20 },
      { payloadType: 128 },
      { ssrc: -1 },
      { initialSequenceNumber: 70_000 },
    ])
      assert.throws(
        () => new H264RtpPacketizer(options),
        (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION',
        JSON.stringify(options),
      );
  });

  it('round-trips a real libx264 stream through werift’s depacketizer', async () => {
    const stdout = await encodeTestPattern(40, [
      ...['-c:v', 'libx264', '-profile:v', 'baseline', '-g', '15', '-bf', '0', '-sc_threshold', '0'],
      ...['-x264-params', 'aud=1', '-bsf:v', 'filter_units=remove_types=6', '-f', 'h264', 'pipe:1'],
    ]);
    const splitter = new AnnexBSplitter();
    const accessUnits = [...splitter.push(stdout), ...splitter.flush()];
    assert.equal(accessUnits.length, 40);
    assert.equal(accessUnits.filter((au) => au.key).length, 3);
    const packetizer = new H264RtpPacketizer();
    let fragments = 0;
    for (const [i, au] of accessUnits.entries()) {
      const { packets } = packetizer.packetize(au.data, Math.round((i * 1e6) / 30));
      assert.ok(packets.every((p) => p.length <= 1200));
      fragments += packets.filter((p) => headerOf(p).type === 28).length;
      const expected = splitNalUnits(au.data)
        .filter((u) => ((u[0] ?? 0) & 0x1f) !== 9)
        .map((u) => Buffer.from(u));
      assert.deepEqual(depacketize(packets), expected, `access unit ${i}`);
    }
    assert.ok(fragments > 0, 'the stream needed FU-A fragments');
  });
});
