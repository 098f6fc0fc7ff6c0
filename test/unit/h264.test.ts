// H.264 Annex B helpers (packages/core/src/h264-bitstream.ts, shared by the bridge and the browser SDK): NAL
// splitting, keyframe checks, SPS parsing; and the bridge's JPEG size reader (packages/node-bridge/src/media/h264.ts). The SPS cases are real encoder output (ffmpeg/libx264, size known from the encode) plus
// SPSs written here field by field, for the branches x264 never takes (scaling lists, POC type 1, odd crops).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  NAL_TYPES,
  avcCodecOfSps,
  findSps,
  findSpsUnit,
  h264FrameType,
  isKeyAccessUnit,
  nalType,
  parseSps,
  splitNalUnits,
} from '../../packages/core/src/h264-bitstream.js';
import { jpegSize } from '../../packages/node-bridge/src/media/h264.js';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Writes an SPS RBSP bit by bit (H.264 7.3.2.1.1), then adds emulation-prevention bytes like an encoder. */
class SpsWriter {
  readonly #bits: number[] = [];
  u(count: number, value: number): this {
    for (let i = count - 1; i >= 0; i--) this.#bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }
  ue(value: number): this {
    const length = Math.floor(Math.log2(value + 1));
    return this.u(length, 0).u(length + 1, value + 1);
  }
  se(value: number): this {
    return this.ue(value <= 0 ? -2 * value : 2 * value - 1);
  }
  /** The NAL unit: header byte 0x67, the escaped RBSP with its stop bit. */
  nal(): Uint8Array {
    const bits = [...this.#bits, 1];
    while (bits.length % 8 !== 0) bits.push(0);
    const rbsp: number[] = [];
    for (let i = 0; i < bits.length; i += 8) rbsp.push(bits.slice(i, i + 8).reduce((v, b) => v * 2 + b, 0));
    const out = [0x67];
    let zeros = 0;
    for (const byte of rbsp) {
      if (zeros >= 2 && byte <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(byte);
      zeros = byte === 0 ? zeros + 1 : 0;
    }
    return Uint8Array.from(out);
  }
}

interface SpsFields {
  profileIdc: number;
  levelIdc?: number;
  spsId?: number;
  chromaFormatIdc?: number;
  scalingLists?: boolean;
  pocType?: 0 | 1 | 2;
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  crop?: [left: number, right: number, top: number, bottom: number];
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function writeSps(f: SpsFields): Uint8Array {
  const w = new SpsWriter()
    .u(8, f.profileIdc)
    .u(8, 0)
    .u(8, f.levelIdc ?? 30)
    .ue(f.spsId ?? 0);
  const chroma = f.chromaFormatIdc ?? 1;
  if (HIGH_PROFILES.has(f.profileIdc)) {
    w.ue(chroma);
    if (chroma === 3) w.u(1, 0); // separate_colour_plane_flag
    w.ue(0).ue(0).u(1, 0); // bit depths, qpprime bypass
    w.u(1, f.scalingLists ? 1 : 0);
    if (f.scalingLists) {
      for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
        const present = i % 3 !== 2; // some lists present, some not
        w.u(1, present ? 1 : 0);
        if (!present) continue;
        if (i === 1) {
          w.se(-8); // next scale 0 at once: "use the default list", the list ends here
          continue;
        }
        for (let j = 0; j < (i < 6 ? 16 : 64); j++) w.se(j % 2 === 0 ? 1 : -1);
      }
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  const pocType = f.pocType ?? 0;
  w.ue(pocType);
  if (pocType === 0) w.ue(2);
  else if (pocType === 1) w.u(1, 0).se(-1).se(2).ue(3).se(1).se(-2).se(5);
  w.ue(1).u(1, 0); // max_num_ref_frames, gaps
  w.ue(f.widthMbs - 1).ue(f.heightMapUnits - 1);
  const frameMbsOnly = f.frameMbsOnly ?? true;
  w.u(1, frameMbsOnly ? 1 : 0);
  if (!frameMbsOnly) w.u(1, 0);
  w.u(1, 1); // direct_8x8_inference_flag
  if (f.crop) {
    w.u(1, 1);
    for (const value of f.crop) w.ue(value);
  } else w.u(1, 0);
  w.u(1, 0); // vui_parameters_present_flag
  return w.nal();
}

describe('splitNalUnits and nalType', () => {
  const cases: { name: string; input: Uint8Array; units: number[][] }[] = [
    { name: 'empty input', input: bytes(), units: [] },
    { name: 'no start code at all', input: bytes(0x65, 1, 2, 3), units: [] },
    { name: 'one unit after a 3-byte start code', input: bytes(0, 0, 1, 0x65, 0xaa), units: [[0x65, 0xaa]] },
    {
      name: '4-byte start codes: the leading zero of the next one is not part of the unit',
      input: bytes(0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3),
      units: [
        [0x67, 1],
        [0x68, 2],
        [0x65, 3],
      ],
    },
    { name: 'bytes before the first start code are dropped', input: bytes(9, 9, 0, 0, 1, 0x41, 7), units: [[0x41, 7]] },
    {
      name: 'empty units between start codes vanish',
      input: bytes(0, 0, 1, 0, 0, 1, 0x09, 0xf0),
      units: [[0x09, 0xf0]],
    },
    { name: 'a trailing start code without a body', input: bytes(0, 0, 1, 0x06, 5, 0, 0, 1), units: [[0x06, 5]] },
  ];
  for (const { name, input, units } of cases) {
    it(name, () => {
      assert.deepEqual(
        splitNalUnits(input).map((u) => [...u]),
        units,
      );
    });
  }

  it('nalType is the low 5 bits of the header byte (0 for an empty unit)', () => {
    for (const [header, type] of [
      [0x67, NAL_TYPES.sps],
      [0x68, NAL_TYPES.pps],
      [0x65, NAL_TYPES.idr],
      [0x41, NAL_TYPES.slice],
      [0x06, NAL_TYPES.sei],
      [0x09, NAL_TYPES.aud],
      [0xff, 31],
    ] as const) {
      assert.equal(nalType(bytes(header)), type, `header 0x${header.toString(16)}`);
    }
    assert.equal(nalType(bytes()), 0);
  });

  it('isKeyAccessUnit is true only when an IDR slice is present', () => {
    assert.equal(isKeyAccessUnit(bytes(0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 3)), true);
    assert.equal(isKeyAccessUnit(bytes(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 3)), false);
    assert.equal(isKeyAccessUnit(bytes(0x65, 1, 2)), false, 'an IDR header byte without a start code');
  });
});

describe('parseSps: SPSs written by libx264 (ffmpeg), size and codec string as encoded', () => {
  const cases = [
    {
      name: 'High, 1280x720',
      sps: '6764001facd9405005bb011000000300100000030140f1831960',
      codec: 'avc1.64001f',
      w: 1280,
      h: 720,
    },
    {
      name: 'Constrained Baseline, 640x360 (8 lines cropped)',
      sps: '6742c016d900a02ff97011000003000100000300140f162e48',
      codec: 'avc1.42c016',
      w: 640,
      h: 360,
    },
    {
      name: 'Main, 1920x1080',
      sps: '674d4028eca03c0113f2e022000003000200000300281e30632c',
      codec: 'avc1.4d4028',
      w: 1920,
      h: 1080,
    },
    {
      name: 'High 4:4:4, 176x144',
      sps: '67f4000a919b28589d8088000003000800000300a078912cb0',
      codec: 'avc1.f4000a',
      w: 176,
      h: 144,
    },
    {
      name: 'High 4:4:4, 174x98 (crop unit 1 pixel)',
      sps: '67f4000a919b2859fdc7e022000003000200000300281e244b2c',
      codec: 'avc1.f4000a',
      w: 174,
      h: 98,
    },
    {
      name: 'High 4:2:2, 352x288',
      sps: '677a000cbcd9416096c044000003000400000300503c50a658',
      codec: 'avc1.7a000c',
      w: 352,
      h: 288,
    },
    {
      name: 'High, monochrome 320x240 (chroma_format_idc 0)',
      sps: '6764000cf3650507ec05b2000003000200000300281e28532c',
      codec: 'avc1.64000c',
      w: 320,
      h: 240,
    },
    {
      name: 'High, interlaced 720x576 (frame_mbs_only 0)',
      sps: '67640016acd940b424d80880000003008000000a0f8a14cb',
      codec: 'avc1.640016',
      w: 720,
      h: 576,
    },
    {
      name: 'High, 322x242 (odd crop on both axes)',
      sps: '6764000cacd94150878888c044000003000400000300503c50a658',
      codec: 'avc1.64000c',
      w: 322,
      h: 242,
    },
  ];
  for (const { name, sps, codec, w, h } of cases) {
    it(name, () => {
      assert.deepEqual(parseSps(hex(sps)), { codec, width: w, height: h });
    });
  }
});

describe('parseSps: SPSs written field by field', () => {
  const cases: { name: string; fields: SpsFields; width: number; height: number }[] = [
    {
      name: 'Baseline, no crop',
      fields: { profileIdc: 66, widthMbs: 20, heightMapUnits: 15 },
      width: 320,
      height: 240,
    },
    {
      name: 'High with scaling lists (explicit and "use default")',
      fields: { profileIdc: 100, scalingLists: true, widthMbs: 40, heightMapUnits: 30 },
      width: 640,
      height: 480,
    },
    {
      name: 'High 4:4:4 with twelve scaling lists and a crop in single pixels',
      fields: {
        profileIdc: 244,
        chromaFormatIdc: 3,
        scalingLists: true,
        widthMbs: 8,
        heightMapUnits: 8,
        crop: [1, 2, 3, 4],
      },
      width: 125,
      height: 121,
    },
    {
      name: 'POC type 1 (offsets for ref frames in the cycle are skipped)',
      fields: { profileIdc: 77, pocType: 1, widthMbs: 80, heightMapUnits: 45 },
      width: 1280,
      height: 720,
    },
    {
      name: 'POC type 2',
      fields: { profileIdc: 66, pocType: 2, widthMbs: 11, heightMapUnits: 9 },
      width: 176,
      height: 144,
    },
    {
      name: '4:2:0 field coding: crop units are 2 wide, 4 high',
      fields: { profileIdc: 100, widthMbs: 45, heightMapUnits: 18, frameMbsOnly: false, crop: [1, 1, 1, 1] },
      width: 716,
      height: 568,
    },
    {
      name: '4:2:2: crop units are 2 wide, 1 high',
      fields: { profileIdc: 122, chromaFormatIdc: 2, widthMbs: 10, heightMapUnits: 10, crop: [0, 3, 0, 5] },
      width: 154,
      height: 155,
    },
    {
      name: 'an emulation-prevention byte inside the parsed fields',
      fields: { profileIdc: 66, levelIdc: 0, spsId: 63, widthMbs: 40, heightMapUnits: 30 },
      width: 640,
      height: 480,
    },
    {
      name: 'the largest size accepted, 16384x16384',
      fields: { profileIdc: 66, widthMbs: 1024, heightMapUnits: 1024 },
      width: 16384,
      height: 16384,
    },
  ];
  for (const { name, fields, width, height } of cases) {
    it(name, () => {
      const sps = writeSps(fields);
      const level = (fields.levelIdc ?? 30).toString(16).padStart(2, '0');
      assert.deepEqual(parseSps(sps), { codec: `avc1.${fields.profileIdc.toString(16)}00${level}`, width, height });
    });
  }

  it('the emulation-prevention case really carries an escape byte (00 00 03)', () => {
    const sps = writeSps({ profileIdc: 66, levelIdc: 0, spsId: 63, widthMbs: 40, heightMapUnits: 30 });
    assert.match(Buffer.from(sps).toString('hex'), /000003/);
  });
});

describe('parseSps and findSps: malformed input gives undefined', () => {
  const good = writeSps({ profileIdc: 100, widthMbs: 40, heightMapUnits: 30 });
  const cases: { name: string; unit: Uint8Array }[] = [
    { name: 'empty', unit: bytes() },
    { name: 'shorter than 4 bytes', unit: bytes(0x67, 0x64, 0x00) },
    { name: 'not an SPS (a PPS header)', unit: Uint8Array.from([0x68, ...good.subarray(1)]) },
    { name: 'truncated after the level', unit: good.subarray(0, 4) },
    { name: 'truncated in the middle', unit: good.subarray(0, 6) },
    { name: 'an exp-Golomb code of more than 31 leading zeros', unit: bytes(0x67, 0x42, 0, 0x1e, 0, 0, 0, 0, 0, 0) },
    {
      name: 'a crop larger than the picture',
      unit: writeSps({ profileIdc: 66, widthMbs: 2, heightMapUnits: 2, crop: [10, 10, 0, 0] }),
    },
    { name: 'wider than 16384 pixels', unit: writeSps({ profileIdc: 66, widthMbs: 1025, heightMapUnits: 10 }) },
  ];
  for (const { name, unit } of cases) {
    it(name, () => {
      assert.equal(parseSps(unit), undefined);
    });
  }

  it('findSps takes the first SPS of an access unit, and undefined when there is none', () => {
    const second = writeSps({ profileIdc: 66, widthMbs: 20, heightMapUnits: 15 });
    const au = Uint8Array.from([
      0,
      0,
      0,
      1,
      0x09,
      0xf0,
      0,
      0,
      0,
      1,
      ...good,
      0,
      0,
      0,
      1,
      ...second,
      0,
      0,
      1,
      0x65,
      0x88,
    ]);
    assert.deepEqual(findSps(au), { codec: 'avc1.64001e', width: 640, height: 480 });
    assert.equal(findSps(Uint8Array.from([0, 0, 0, 1, 0x65, 0x88, 0x80])), undefined);
    assert.deepEqual(findSpsUnit(au), good);
    assert.equal(findSpsUnit(Uint8Array.from([0, 0, 0, 1, 0x65, 0x88, 0x80])), undefined);
  });
});

describe('avcCodecOfSps: the codec string from the first three bytes (as the SDK configures its decoder)', () => {
  const cases: { name: string; unit: Uint8Array; expected: string | undefined }[] = [
    { name: 'High 3.1', unit: bytes(0x67, 0x64, 0x00, 0x1f, 0xac), expected: 'avc1.64001f' },
    { name: 'constrained Baseline 3.0', unit: bytes(0x67, 0x42, 0xe0, 0x1e), expected: 'avc1.42e01e' },
    {
      name: 'Main 4.0, a body the full parser would refuse',
      unit: bytes(0x67, 0x4d, 0x00, 0x28),
      expected: 'avc1.4d0028',
    },
    { name: 'shorter than 4 bytes', unit: bytes(0x67, 0x64, 0x00), expected: undefined },
    { name: 'not an SPS (an IDR slice)', unit: bytes(0x65, 0x64, 0x00, 0x1f), expected: undefined },
  ];
  for (const { name, unit, expected } of cases) {
    it(name, () => {
      assert.equal(avcCodecOfSps(unit), expected);
    });
  }

  it('agrees with parseSps on a whole SPS', () => {
    const unit = writeSps({ profileIdc: 100, levelIdc: 40, widthMbs: 120, heightMapUnits: 68 });
    assert.equal(avcCodecOfSps(unit), parseSps(unit)?.codec);
  });
});

describe('jpegSize', () => {
  const segment = (marker: number, body: number[]): number[] => [0xff, marker, 0, body.length + 2, ...body];
  const sof = (marker: number, width: number, height: number): number[] =>
    segment(marker, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  const jpeg = (...segments: number[][]): Uint8Array => Uint8Array.from([0xff, 0xd8, ...segments.flat(), 0xff, 0xd9]);
  const app0 = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dht = segment(
    0xc4,
    Array.from({ length: 20 }, () => 0),
  );
  const cases: { name: string; data: Uint8Array; size: { width: number; height: number } | undefined }[] = [
    { name: 'baseline SOF0 after APP0', data: jpeg(app0, sof(0xc0, 640, 480)), size: { width: 640, height: 480 } },
    { name: 'progressive SOF2', data: jpeg(sof(0xc2, 1920, 1080)), size: { width: 1920, height: 1080 } },
    {
      name: 'DHT (0xC4) is skipped, not read as a SOF',
      data: jpeg(dht, sof(0xc0, 3, 2)),
      size: { width: 3, height: 2 },
    },
    { name: 'a zero width is no size', data: jpeg(sof(0xc0, 0, 480)), size: undefined },
    { name: 'no SOF before the end', data: jpeg(app0), size: undefined },
    {
      name: 'garbage where a marker should be',
      data: Uint8Array.from([0xff, 0xd8, 0x12, 0x34, ...sof(0xc0, 8, 8)]),
      size: undefined,
    },
  ];
  for (const { name, data, size } of cases) {
    it(name, () => {
      assert.deepEqual(jpegSize(data), size);
    });
  }
});

describe('h264FrameType', () => {
  // Slice headers written by hand: NAL header, then first_mb_in_slice and slice_type as exp-Golomb codes.
  for (const [name, data, type] of [
    ['an IDR slice (slice_type 7)', hex('00000001 65 88 84 00'), 'I'],
    ['AUD and SPS before an IDR slice', hex('00000001 09f0 00000001 6742c01e 00000001 65 88 84'), 'I'],
    ['a non-IDR I slice (slice_type 2)', hex('000001 41 b0 00'), 'I'],
    ['a P slice (slice_type 5)', hex('000001 41 9a 00'), 'P'],
    ['a P slice (slice_type 0)', hex('000001 41 c0'), 'P'],
    ['a B slice (slice_type 6), not a reference', hex('000001 01 9c 00'), 'B'],
    ['a B slice (slice_type 1)', hex('000001 01 a0'), 'B'],
    ['an SI slice (slice_type 4 → I)', hex('000001 41 94'), 'I'],
    ['SPS and PPS only', hex('00000001 6742c01e 00000001 68ce3c80'), undefined],
    ['a truncated slice header', hex('000001 41 00'), undefined],
    ['no start code', hex('41 9a 00'), undefined],
    ['nothing', bytes(), undefined],
  ] as const) {
    it(`${name}: ${String(type)}`, () => assert.equal(h264FrameType(data), type));
  }
  it("libx264 with B-frames: the types of its access units are ffprobe's picture types", async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const encode = [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=3'],
      ...['-c:v', 'libx264', '-bf', '2', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'h264', 'pipe:1'],
    ];
    const { stdout } = await run('ffmpeg', encode, { encoding: 'buffer', maxBuffer: 1 << 24 });
    const data = Uint8Array.from(stdout);
    // One access unit per AUD-less picture: split at each slice with first_mb_in_slice 0 (one slice per picture).
    const starts: number[] = [];
    for (let i = 0; i + 4 < data.length; i++)
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && [1, 5].includes((data[i + 3] ?? 0) & 0x1f))
        starts.push(i);
    const types = starts.map((start, n) => h264FrameType(data.subarray(start, starts[n + 1] ?? data.length)));
    const { stdout: pictTypes } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(
        'ffprobe',
        ['-v', 'error', '-f', 'h264', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', '-i', 'pipe:0'],
        (error, out) => (error ? reject(new Error(error.message)) : resolve({ stdout: out })),
      );
      child.stdin?.end(stdout);
    });
    // A picture's line may carry further fields (its side data), on a line of its own too: the type is the first field.
    const expected = pictTypes
      .trim()
      .split('\n')
      .map((line) => line.split(',')[0])
      .filter((type) => type !== '');
    const count = (list: readonly (string | undefined)[], type: string): number =>
      list.filter((t) => t === type).length;
    assert.equal(types.length, expected.length, 'one type per picture');
    assert.ok(count(types, 'B') > 0, 'the encode has B-frames');
    for (const type of ['I', 'P', 'B']) assert.equal(count(types, type), count(expected, type), `${type} pictures`);
  });
});
