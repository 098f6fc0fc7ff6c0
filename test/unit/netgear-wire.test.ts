// The NetGear / NetGear_Async wire formats (packages/node-bridge/src/netgear/netgear-wire.ts): peer-supplied
// headers, dtypes and shapes are validated, never trusted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import {
  curveCertificateText,
  netGearHeader,
  netGearRawFrame,
  packMsgpack,
  parseNetGearAsyncMessage,
  parseNetGearMessage,
  pythonTypeName,
} from '../../packages/node-bridge/src/netgear/netgear-wire.js';

const LIMITS = { maxFrameBytes: 10_000, maxDimension: 100 };
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const pixels = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => i % 256));
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 0xff, 0xd9]);

describe('netGearRawFrame', () => {
  const accepted: { name: string; dtype: unknown; shape: unknown; format: string; w: number; h: number }[] = [
    { name: 'BGR [rows, cols, 3]', dtype: 'uint8', shape: [4, 6, 3], format: 'BGR24', w: 6, h: 4 },
    { name: 'grey [rows, cols]', dtype: 'uint8', shape: [5, 7], format: 'GRAY8', w: 7, h: 5 },
    { name: "numpy's |u1 and a single channel", dtype: '|u1', shape: [2, 3, 1], format: 'GRAY8', w: 3, h: 2 },
    { name: 'the largest dimension', dtype: 'uint8', shape: [100, 1], format: 'GRAY8', w: 1, h: 100 },
  ];
  for (const { name, dtype, shape, format, w, h } of accepted) {
    it(`accepts ${name}`, () => {
      const bytes = (shape as number[]).reduce((a, b) => a * b, 1);
      const data = pixels(bytes);
      assert.deepEqual(netGearRawFrame(dtype, shape, data, LIMITS, 123), {
        width: w,
        height: h,
        format,
        data,
        captureTimeMs: 123,
      });
    });
  }

  const refused: { name: string; dtype: unknown; shape: unknown; bytes: number; code: string; why: RegExp }[] = [
    {
      name: 'a float dtype',
      dtype: 'float32',
      shape: [2, 2],
      bytes: 4,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /dtype/,
    },
    {
      name: 'a missing dtype',
      dtype: undefined,
      shape: [2, 2],
      bytes: 4,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /dtype/,
    },
    {
      name: 'a 1-D shape',
      dtype: 'uint8',
      shape: [4],
      bytes: 4,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /shape must be/,
    },
    {
      name: 'a shape that is a string',
      dtype: 'uint8',
      shape: '2x2',
      bytes: 4,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /shape must be/,
    },
    {
      name: '4 channels',
      dtype: 'uint8',
      shape: [2, 2, 4],
      bytes: 16,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /unsupported shape/,
    },
    {
      name: 'a zero dimension',
      dtype: 'uint8',
      shape: [0, 2],
      bytes: 0,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /unsupported shape/,
    },
    {
      name: 'a fractional dimension',
      dtype: 'uint8',
      shape: [1.5, 2],
      bytes: 3,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /unsupported shape/,
    },
    {
      name: 'over maxDimension',
      dtype: 'uint8',
      shape: [101, 1],
      bytes: 101,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /unsupported shape/,
    },
    {
      name: 'over maxFrameBytes',
      dtype: 'uint8',
      shape: [100, 100, 3],
      bytes: 30_000,
      code: 'FW_ERR_FRAME_TOO_LARGE',
      why: /limit/,
    },
    {
      name: 'fewer bytes than the shape needs',
      dtype: 'uint8',
      shape: [2, 2, 3],
      bytes: 11,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /needs 12 bytes/,
    },
    {
      name: 'more bytes than the shape needs',
      dtype: 'uint8',
      shape: [2, 2],
      bytes: 5,
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /needs 4 bytes/,
    },
  ];
  for (const { name, dtype, shape, bytes, code, why } of refused) {
    it(`refuses ${name} (${code})`, () => {
      assert.throws(() => netGearRawFrame(dtype, shape, pixels(bytes), LIMITS, 0), { code, message: why });
    });
  }
});

describe('parseNetGearMessage (JSON header + frame)', () => {
  it('a raw BGR frame with a message and a port', () => {
    const data = pixels(2 * 3 * 3);
    const parsed = parseNetGearMessage(
      [
        json({
          terminate_flag: false,
          compression: false,
          message: { n: 1 },
          port: 5556,
          dtype: 'uint8',
          shape: [2, 3, 3],
        }),
        data,
      ],
      LIMITS,
      50,
    );
    assert.deepEqual(parsed, {
      type: 'frame',
      frame: { width: 3, height: 2, format: 'BGR24', data, captureTimeMs: 50 },
      message: { n: 1 },
      port: '5556',
      bidirectional: false,
    });
  });

  it('a JPEG-compressed frame becomes an encoded keyframe', () => {
    const parsed = parseNetGearMessage([json({ terminate_flag: false, compression: { dct: false } }), JPEG], LIMITS, 7);
    assert.deepEqual(parsed, {
      type: 'frame',
      frame: { codec: 'jpeg', key: true, data: JPEG, timestampUs: 7000, captureTimeMs: 7 },
      message: null,
      port: undefined,
      bidirectional: false,
    });
  });

  it('a termination message needs no frame part', () => {
    assert.deepEqual(parseNetGearMessage([json({ terminate_flag: true, port: '5555' })], LIMITS), {
      type: 'terminate',
      port: '5555',
    });
  });

  const refused: { name: string; parts: Buffer[]; code: string; why: RegExp }[] = [
    { name: 'no parts', parts: [], code: 'FW_ERR_PROTOCOL_VIOLATION', why: /expected 1 or 2/ },
    { name: 'three parts', parts: [json({}), JPEG, JPEG], code: 'FW_ERR_PROTOCOL_VIOLATION', why: /expected 1 or 2/ },
    {
      name: 'a header over 64 KiB',
      parts: [Buffer.alloc(64 * 1024 + 1, 0x20)],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /64 KiB/,
    },
    {
      name: 'a header that is not JSON',
      parts: [Buffer.from('{nope')],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /not JSON/,
    },
    { name: 'a JSON array header', parts: [json([1])], code: 'FW_ERR_PROTOCOL_VIOLATION', why: /not a JSON object/ },
    {
      name: 'no terminate_flag',
      parts: [json({ compression: false }), JPEG],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /terminate_flag/,
    },
    {
      name: 'a data message without a frame',
      parts: [json({ terminate_flag: false })],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /without a frame/,
    },
    {
      name: 'a frame over the byte limit',
      parts: [json({ terminate_flag: false }), Buffer.alloc(10_001)],
      code: 'FW_ERR_FRAME_TOO_LARGE',
      why: /10001 byte frame/,
    },
    {
      name: 'compression that is a string',
      parts: [json({ terminate_flag: false, compression: 'jpeg' }), JPEG],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /compression must be/,
    },
    {
      name: 'a "compressed" frame that is not a JPEG',
      parts: [json({ terminate_flag: false, compression: {} }), pixels(8)],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /not a JPEG/,
    },
    {
      name: 'a raw frame with a lying shape',
      parts: [json({ terminate_flag: false, dtype: 'uint8', shape: [10, 10] }), pixels(99)],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /needs 100 bytes/,
    },
  ];
  for (const { name, parts, code, why } of refused) {
    it(`refuses ${name} (${code})`, () => {
      assert.throws(() => parseNetGearMessage(parts, LIMITS), { name: 'FramewireError', code, message: why });
    });
  }
});

describe('parseNetGearAsyncMessage (msgpack + msgpack-numpy)', () => {
  const array = (shape: number[], data: Uint8Array, extra: Record<string, unknown> = {}): Buffer =>
    Buffer.from(encode({ nd: true, type: '|u1', kind: '', shape, data, ...extra }));

  it('a bidirectional frame with data', () => {
    const data = pixels(4 * 2 * 3);
    const parsed = parseNetGearAsyncMessage(
      [Buffer.from(encode({ terminate: false, bi_mode: true, data: 'hi' })), array([4, 2, 3], data)],
      LIMITS,
      9,
    );
    assert.equal(parsed.type, 'frame');
    assert.deepEqual(
      { ...parsed, frame: { ...parsed.frame, data: [...(parsed.frame as { data: Buffer }).data] } },
      {
        type: 'frame',
        frame: { width: 2, height: 4, format: 'BGR24', data: [...data], captureTimeMs: 9 },
        message: 'hi',
        port: undefined,
        bidirectional: true,
      },
    );
  });

  it('map keys sent as bytes (msgpack bin) are read as text', () => {
    // fixmap(1) · bin8 "terminate" · true, as Python's msgpack writes a dict with a bytes key.
    const header = Buffer.from([0x81, 0xc4, 9, ...Buffer.from('terminate'), 0xc3]);
    assert.deepEqual(parseNetGearAsyncMessage([header], LIMITS), { type: 'terminate', port: undefined });
  });

  const refused: { name: string; parts: Buffer[]; code: string; why: RegExp }[] = [
    { name: 'no parts', parts: [], code: 'FW_ERR_PROTOCOL_VIOLATION', why: /expected 1 or 2/ },
    {
      name: 'a header that is not msgpack',
      parts: [Buffer.from([0xc1])],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /not valid msgpack/,
    },
    {
      name: 'a header that is an array',
      parts: [Buffer.from(encode([1, 2]))],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /not a msgpack map/,
    },
    {
      name: 'a header without terminate',
      parts: [Buffer.from(encode({ bi_mode: false }))],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /lacks terminate/,
    },
    {
      name: 'a data message without a frame',
      parts: [Buffer.from(encode({ terminate: false }))],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /without a frame/,
    },
    {
      name: 'a frame that is not an nd array',
      parts: [Buffer.from(encode({ terminate: false })), Buffer.from(encode({ nd: false }))],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /nd is not true/,
    },
    {
      name: 'frame data that is text',
      parts: [
        Buffer.from(encode({ terminate: false })),
        Buffer.from(encode({ nd: true, type: '|u1', shape: [1, 1], data: 'x' })),
      ],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /not binary/,
    },
    {
      name: 'a float64 array',
      parts: [
        Buffer.from(encode({ terminate: false })),
        Buffer.from(encode({ nd: true, type: '<f8', shape: [1, 1], data: new Uint8Array(8) })),
      ],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /dtype/,
    },
    {
      name: 'a frame part far over the limit',
      parts: [Buffer.from(encode({ terminate: false })), Buffer.alloc(10_000 + 1025)],
      code: 'FW_ERR_FRAME_TOO_LARGE',
      why: /over the limit/,
    },
    {
      name: 'a map with too many keys (msgpack limits)',
      parts: [Buffer.from(encode(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]))))],
      code: 'FW_ERR_PROTOCOL_VIOLATION',
      why: /not valid msgpack/,
    },
  ];
  for (const { name, parts, code, why } of refused) {
    it(`refuses ${name} (${code})`, () => {
      assert.throws(() => parseNetGearAsyncMessage(parts, LIMITS), { name: 'FramewireError', code, message: why });
    });
  }
});

describe('messages for Python peers', () => {
  const frames = [
    {
      name: 'BGR',
      frame: { width: 3, height: 2, format: 'BGR24' as const, data: pixels(18), captureTimeMs: 0 },
      dtype: 'uint8',
      shape: [2, 3, 3],
    },
    {
      name: 'grey',
      frame: { width: 3, height: 2, format: 'GRAY8' as const, data: pixels(6), captureTimeMs: 0 },
      dtype: 'uint8',
      shape: [2, 3],
    },
  ];
  for (const { name, frame, dtype, shape } of frames) {
    it(`netGearHeader for a ${name} frame parses back to the same frame`, () => {
      const header = netGearHeader(frame, 2, { note: 'x' }, 5555);
      assert.deepEqual(JSON.parse(header), {
        terminate_flag: false,
        compression: false,
        message: { note: 'x' },
        pattern: '2',
        dtype,
        shape,
        port: '5555',
      });
      const parsed = parseNetGearMessage([Buffer.from(header), frame.data], LIMITS, 0);
      assert.deepEqual(parsed, { type: 'frame', frame, message: { note: 'x' }, port: '5555', bidirectional: false });
    });
  }

  it('netGearHeader for a JPEG declares compression and no dtype/shape', () => {
    const header = JSON.parse(
      netGearHeader({ codec: 'jpeg', key: true, data: JPEG, timestampUs: 0, captureTimeMs: 0 }, 0),
    ) as Record<string, unknown>;
    assert.deepEqual(header, {
      terminate_flag: false,
      compression: { dct: false, ups: false, colorspace: 'BGR' },
      message: null,
      pattern: '0',
      dtype: '',
      shape: '',
    });
  });

  it('pythonTypeName', () => {
    const cases: [unknown, string][] = [
      [null, 'NoneType'],
      [undefined, 'NoneType'],
      [true, 'bool'],
      [3, 'int'],
      [3.5, 'float'],
      ['s', 'str'],
      [[1], 'list'],
      [{ a: 1 }, 'dict'],
    ];
    for (const [value, name] of cases) assert.equal(pythonTypeName(value), name, JSON.stringify(value));
  });

  it('packMsgpack writes msgpack a NetGear_Async peer reads back', () => {
    const packed = packMsgpack({ return_type: 'str', return_data: 'ok' });
    assert.equal(packed[0], 0x82, 'a fixmap of two entries');
    assert.deepEqual(decode(packed), { return_type: 'str', return_data: 'ok' });
  });

  it('curveCertificateText writes the public key, and the secret key only for the secret file', () => {
    const pair = { publicKey: 'P'.repeat(40), secretKey: 'S'.repeat(40) };
    assert.match(curveCertificateText(pair, false), /public-key = "P{40}"/);
    assert.doesNotMatch(curveCertificateText(pair, false), /secret-key/);
    assert.match(curveCertificateText(pair, true), /\*\*Secret\*\*[\s\S]*secret-key = "S{40}"/);
  });
});
