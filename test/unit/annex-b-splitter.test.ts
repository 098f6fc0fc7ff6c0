// AnnexBSplitter (packages/node-bridge/src/media/annex-b-splitter.ts): a raw H.264 byte stream cut into access
// units, however the pipe happens to chunk it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnnexBSplitter, type AccessUnit } from '../../packages/node-bridge/src/media/annex-b-splitter.js';

const SC4 = [0, 0, 0, 1];
const SC3 = [0, 0, 1];
// NAL units (header byte + a body): first_mb_in_slice = 0 is the top bit of the first body byte.
const AUD = [0x09, 0xf0];
const SPS = [0x67, 0x42, 0xc0, 0x1e, 0xd9];
const PPS = [0x68, 0xce, 0x3c, 0x80];
const SEI = [0x06, 0x05, 0x01, 0x80];
const IDR = (tag: number): number[] => [0x65, 0x88, tag, 0x11];
const P = (tag: number): number[] => [0x41, 0x9a, tag, 0x22];
/** A second slice of the same picture: first_mb_in_slice != 0 (top bit of the first body byte clear). */
const P_SLICE2 = (tag: number): number[] => [0x41, 0x01, tag, 0x33];

const annexB = (...units: number[][]): number[] => units.flatMap((unit) => [...SC4, ...unit]);
const describeUnits = (units: AccessUnit[]): { key: boolean; hex: string }[] =>
  units.map((u) => ({ key: u.key, hex: u.data.toString('hex') }));
const hexOf = (...units: number[][]): string => Buffer.from(annexB(...units)).toString('hex');

/** Feeds `stream` in pieces of `size` bytes, then flushes. */
function split(stream: number[], size: number, splitter = new AnnexBSplitter()): AccessUnit[] {
  const out: AccessUnit[] = [];
  for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(Buffer.from(stream.slice(i, i + size))));
  out.push(...splitter.flush());
  return out;
}

describe('AnnexBSplitter', () => {
  const cases: { name: string; stream: number[]; expected: { key: boolean; hex: string }[] }[] = [
    {
      name: 'SPS PPS IDR, then P frames: one access unit per picture, the first one key',
      stream: annexB(SPS, PPS, IDR(1), P(2), P(3)),
      expected: [
        { key: true, hex: hexOf(SPS, PPS, IDR(1)) },
        { key: false, hex: hexOf(P(2)) },
        { key: false, hex: hexOf(P(3)) },
      ],
    },
    {
      name: 'an AUD or SEI starts a new access unit',
      stream: annexB(AUD, SPS, PPS, IDR(1), AUD, P(2), SEI, P(3)),
      expected: [
        { key: true, hex: hexOf(AUD, SPS, PPS, IDR(1)) },
        { key: false, hex: hexOf(AUD, P(2)) },
        { key: false, hex: hexOf(SEI, P(3)) },
      ],
    },
    {
      name: 'slices of one picture stay together (first_mb_in_slice != 0)',
      stream: annexB(P(1), P_SLICE2(1), P(2), P_SLICE2(2)),
      expected: [
        { key: false, hex: hexOf(P(1), P_SLICE2(1)) },
        { key: false, hex: hexOf(P(2), P_SLICE2(2)) },
      ],
    },
    {
      name: '3-byte start codes are rewritten as 4-byte ones',
      stream: [...SC3, ...IDR(1), ...SC3, ...P(2)],
      expected: [
        { key: true, hex: hexOf(IDR(1)) },
        { key: false, hex: hexOf(P(2)) },
      ],
    },
    {
      name: 'bytes before the first start code are ignored',
      stream: [0x12, 0x34, 0x56, ...annexB(IDR(1))],
      expected: [{ key: true, hex: hexOf(IDR(1)) }],
    },
    { name: 'parameter sets without any slice give nothing', stream: annexB(SPS, PPS), expected: [] },
  ];
  for (const { name, stream, expected } of cases) {
    it(name, () => {
      for (const size of [stream.length, 1, 2, 3, 5, 7]) {
        assert.deepEqual(describeUnits(split(stream, size)), expected, `fed ${size} bytes at a time`);
      }
    });
  }

  it('without flush(), an access unit is emitted once the first unit of the next one is complete', () => {
    const splitter = new AnnexBSplitter();
    assert.deepEqual(describeUnits(splitter.push(Buffer.from(annexB(IDR(1))))), []);
    // P(2) ends IDR(1)'s NAL unit, but P(2) itself is not complete until the next start code.
    assert.deepEqual(describeUnits(splitter.push(Buffer.from(annexB(P(2))))), []);
    assert.deepEqual(describeUnits(splitter.push(Buffer.from(annexB(P(3))))), [{ key: true, hex: hexOf(IDR(1)) }]);
    assert.deepEqual(describeUnits(splitter.flush()), [
      { key: false, hex: hexOf(P(2)) },
      { key: false, hex: hexOf(P(3)) },
    ]);
    assert.deepEqual(splitter.flush(), [], 'nothing is emitted twice');
  });

  const big = [0x41, 0x9a, ...Array.from({ length: 100 }, (_, i) => (i % 250) + 1)];
  it('an access unit over maxAccessUnitBytes is dropped and counted; its neighbours pass', () => {
    const splitter = new AnnexBSplitter(64);
    const units = [...splitter.push(Buffer.from(annexB(IDR(1), big, P(3)))), ...splitter.flush()];
    assert.deepEqual(describeUnits(units), [
      { key: true, hex: hexOf(IDR(1)) },
      { key: false, hex: hexOf(P(3)) },
    ]);
    assert.equal(splitter.oversizeDropped, 1);
  });

  it('a NAL unit that outgrows the limit while it arrives is never emitted; the stream resumes after it', () => {
    const splitter = new AnnexBSplitter(64);
    const units: AccessUnit[] = [];
    const stream = annexB(big, P(3), P(4));
    for (let i = 0; i < stream.length; i += 9) units.push(...splitter.push(Buffer.from(stream.slice(i, i + 9))));
    units.push(...splitter.flush());
    assert.deepEqual(describeUnits(units), [
      { key: false, hex: hexOf(P(3)) },
      { key: false, hex: hexOf(P(4)) },
    ]);
  });

  it('a NAL unit that outgrows the limit while it arrives keeps the complete access unit before it, and is counted', () => {
    for (const size of [7, 9, 64]) {
      const splitter = new AnnexBSplitter(64);
      const units: AccessUnit[] = [];
      const stream = annexB(SPS, PPS, IDR(1), big, P(3), P(4));
      for (let i = 0; i < stream.length; i += size)
        units.push(...splitter.push(Buffer.from(stream.slice(i, i + size))));
      units.push(...splitter.flush());
      assert.deepEqual(
        describeUnits(units),
        [
          { key: true, hex: hexOf(SPS, PPS, IDR(1)) },
          { key: false, hex: hexOf(P(3)) },
          { key: false, hex: hexOf(P(4)) },
        ],
        `pieces of ${size} bytes`,
      );
      assert.equal(splitter.oversizeDropped, 1, `pieces of ${size} bytes`);
    }
  });

  it('a stream with no start code keeps at most 3 pending bytes (a partial start code)', () => {
    const splitter = new AnnexBSplitter(16);
    for (let i = 0; i < 100; i++) assert.deepEqual(splitter.push(Buffer.alloc(50, 0xab)), []);
    // The 3 kept bytes plus a start code split over two pushes still find the unit.
    splitter.push(Buffer.from([0, 0]));
    assert.deepEqual(describeUnits([...splitter.push(Buffer.from([0, 1, ...IDR(9)])), ...splitter.flush()]), [
      { key: true, hex: hexOf(IDR(9)) },
    ]);
  });
});
