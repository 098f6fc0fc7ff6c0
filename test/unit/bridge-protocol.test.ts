// The bridge's wire protocol (packages/core/src/bridge-protocol.ts, published as @framewire/node-bridge/protocol):
// the 24-byte frame header, the JSON messages of its WebSocket, and the prefixed chunks of the `fw.h264` data
// channel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DATA_CHANNEL_CHUNK_BYTES,
  DataChannelMessageAssembler,
  WS_FRAME_FLAGS,
  WS_FRAME_HEADER_BYTES,
  WS_FRAME_TYPES,
  chunkDataChannelMessage,
  decodeWsAudio,
  decodeWsFrame,
  encodeWsAudio,
  encodeWsFrame,
  parseWsClientMessage,
  parseWsServerMessage,
  type WsFrameHeader,
} from '../../packages/node-bridge/src/protocol.js';

const pattern = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 256);

describe('encodeWsFrame / decodeWsFrame', () => {
  const headers: { name: string; header: WsFrameHeader; payload: Uint8Array }[] = [
    {
      name: 'a keyframe with its config',
      header: { flags: WS_FRAME_FLAGS.key | WS_FRAME_FLAGS.config, sequence: 0, timestampUs: 0, captureTimeMs: 1.7e12 },
      payload: pattern(300),
    },
    {
      name: 'a delta frame late in a long stream',
      header: { flags: 0, sequence: 0xffff_fffe, timestampUs: 86_400_000_000.5, captureTimeMs: 1_767_225_600_123.25 },
      payload: pattern(1),
    },
    {
      name: 'an empty payload',
      header: { flags: 1, sequence: 5, timestampUs: 33_333, captureTimeMs: 9 },
      payload: pattern(0),
    },
  ];
  for (const { name, header, payload } of headers) {
    it(`round trip: ${name}`, () => {
      const message = encodeWsFrame(header, payload);
      assert.equal(message.length, WS_FRAME_HEADER_BYTES + payload.length);
      assert.deepEqual([message[0], message[1], message[3]], [0x46, 1, 0], "magic 'F', version 1, reserved 0");
      const decoded = decodeWsFrame(message);
      assert.ok(decoded);
      assert.deepEqual(decoded.header, header);
      assert.deepEqual([...decoded.payload], [...payload]);
    });
  }

  it('the layout is big-endian: sequence at 4, timestampUs at 8, captureTimeMs at 16', () => {
    const message = encodeWsFrame({ flags: 2, sequence: 0x01020304, timestampUs: 1.5, captureTimeMs: -2 }, pattern(0));
    const view = new DataView(message.buffer);
    assert.equal(message[2], 2);
    assert.deepEqual([...message.subarray(4, 8)], [1, 2, 3, 4]);
    assert.equal(view.getFloat64(8), 1.5);
    assert.equal(view.getFloat64(16), -2);
  });

  it('decodes a view into a larger buffer (byteOffset honoured)', () => {
    const message = encodeWsFrame({ flags: 1, sequence: 77, timestampUs: 10, captureTimeMs: 20 }, pattern(4));
    const outer = new Uint8Array(message.length + 10);
    outer.set(message, 10);
    assert.equal(decodeWsFrame(outer.subarray(10))?.header.sequence, 77);
  });

  const bad: { name: string; message: Uint8Array }[] = [
    { name: 'shorter than the header', message: new Uint8Array(WS_FRAME_HEADER_BYTES - 1) },
    { name: 'a wrong magic byte', message: Uint8Array.from([0x47, 1, ...new Array<number>(22).fill(0)]) },
    { name: 'an unknown version', message: Uint8Array.from([0x46, 2, ...new Array<number>(22).fill(0)]) },
  ];
  for (const { name, message } of bad) {
    it(`undefined for ${name}`, () => {
      assert.equal(decodeWsFrame(message), undefined);
    });
  }
});

describe('parseWsServerMessage / parseWsClientMessage', () => {
  const server: { text: string; ok: boolean }[] = [
    { text: '{"type":"hello","version":1,"sourceId":"cam","sourceKind":"v4l2"}', ok: true },
    { text: '{"type":"hello","version":"1","sourceId":"cam"}', ok: false },
    { text: '{"type":"config","codec":"avc1.42c01f","codedWidth":640,"codedHeight":480}', ok: true },
    { text: '{"type":"config","codec":"avc1.42c01f","codedWidth":640}', ok: false },
    { text: '{"type":"error","code":"FW_ERR_UNAUTHORIZED","message":"no"}', ok: true },
    { text: '{"type":"error","message":"no code"}', ok: false },
    { text: '{"type":"ack","sequence":1}', ok: false },
    { text: 'null', ok: false },
    { text: '[1,2]', ok: false },
    { text: 'not json', ok: false },
  ];
  for (const { text, ok } of server) {
    it(`server ${ok ? 'accepts' : 'refuses'} ${text}`, () => {
      const parsed = parseWsServerMessage(text);
      if (ok) assert.deepEqual(parsed, JSON.parse(text));
      else assert.equal(parsed, undefined);
    });
  }

  const client: { text: string; expected: unknown }[] = [
    { text: '{"type":"ack","sequence":0}', expected: { type: 'ack', sequence: 0 } },
    { text: '{"type":"ack","sequence":42,"extra":true}', expected: { type: 'ack', sequence: 42 } },
    { text: '{"type":"ack","sequence":-1}', expected: undefined },
    { text: '{"type":"ack","sequence":1.5}', expected: undefined },
    { text: '{"type":"ack","sequence":"3"}', expected: undefined },
    { text: '{"type":"nack","sequence":3}', expected: undefined },
    { text: '{', expected: undefined },
  ];
  for (const { text, expected } of client) {
    it(`client ${text} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseWsClientMessage(text), expected);
    });
  }
});

describe('chunkDataChannelMessage / DataChannelMessageAssembler', () => {
  for (const size of [0, 1, DATA_CHANNEL_CHUNK_BYTES, DATA_CHANNEL_CHUNK_BYTES + 1, 4 * DATA_CHANNEL_CHUNK_BYTES - 3]) {
    it(`a ${size} byte message: last-chunk prefix on the final chunk only, reassembled whole`, () => {
      const message = pattern(size);
      const chunks = chunkDataChannelMessage(message);
      assert.equal(chunks.length, Math.max(1, Math.ceil(size / DATA_CHANNEL_CHUNK_BYTES)));
      assert.deepEqual(
        chunks.map((c) => c[0]),
        chunks.map((_, i) => (i === chunks.length - 1 ? 1 : 0)),
      );
      assert.ok(chunks.every((c) => c.length <= DATA_CHANNEL_CHUNK_BYTES + 1));
      const assembler = new DataChannelMessageAssembler();
      const results = chunks.map((c) => assembler.push(c));
      assert.ok(results.slice(0, -1).every((r) => r === undefined));
      assert.deepEqual([...(results.at(-1) ?? [])], [...message]);
    });
  }

  it('consecutive messages do not leak into each other', () => {
    const assembler = new DataChannelMessageAssembler();
    const first = pattern(DATA_CHANNEL_CHUNK_BYTES + 10);
    const second = Uint8Array.from([9, 8, 7]);
    const out = [...chunkDataChannelMessage(first), ...chunkDataChannelMessage(second)]
      .map((c) => assembler.push(c))
      .filter((m) => m !== undefined);
    assert.deepEqual(
      out.map((m) => m.length),
      [first.length, 3],
    );
    assert.deepEqual([...out[1]!], [9, 8, 7]);
  });

  it('an oversized message throws once, its remaining chunks are ignored, the next message passes', () => {
    const assembler = new DataChannelMessageAssembler(20);
    const chunk = (last: boolean, length: number): Uint8Array => Uint8Array.from([last ? 1 : 0, ...pattern(length)]);
    assert.equal(assembler.push(chunk(false, 15)), undefined);
    assert.throws(() => assembler.push(chunk(false, 15)), RangeError);
    assert.equal(assembler.push(chunk(false, 15)), undefined, 'discarding');
    assert.equal(assembler.push(chunk(true, 1)), undefined, 'the end of the discarded message');
    assert.deepEqual([...assembler.push(chunk(true, 3))!], [...pattern(3)]);
  });

  it('an empty chunk is a RangeError', () => {
    assert.throws(() => new DataChannelMessageAssembler().push(new Uint8Array(0)), RangeError);
  });
});

describe('encodeWsAudio / decodeWsAudio', () => {
  const header = { sequence: 41, timestampUs: 1_020_000, captureTimeMs: 1_733_000_000_123.5 };
  it('round-trips the header and the Opus packet in a 24-byte header starting with A', () => {
    const message = encodeWsAudio(header, pattern(60));
    assert.equal(message.byteLength, WS_FRAME_HEADER_BYTES + 60);
    assert.equal(message[0], 0x41);
    const decoded = decodeWsAudio(message);
    assert.ok(decoded);
    assert.deepEqual(decoded.header, header);
    assert.deepEqual([...decoded.payload], [...pattern(60)]);
  });
  it('keeps audio and video apart: a client that predates audio (decodeWsFrame) ignores audio messages', () => {
    const audio = encodeWsAudio(header, pattern(10));
    const video = encodeWsFrame({ ...header, flags: WS_FRAME_FLAGS.key }, pattern(10));
    assert.equal(decodeWsFrame(audio), undefined);
    assert.equal(decodeWsAudio(video), undefined);
    assert.equal(decodeWsAudio(audio.subarray(0, 20)), undefined, 'too short');
    const future = audio.slice();
    future[1] = 99;
    assert.equal(decodeWsAudio(future), undefined, 'an unknown version');
  });
  it('parses the audio config message, and refuses a malformed one', () => {
    const config = { type: 'audio-config', codec: 'opus', sampleRate: 48000, numberOfChannels: 2 };
    assert.deepEqual(parseWsServerMessage(JSON.stringify(config)), config);
    for (const bad of [
      { ...config, codec: 'aac' },
      { ...config, sampleRate: '48000' },
      { type: 'audio-config', codec: 'opus' },
    ])
      assert.equal(parseWsServerMessage(JSON.stringify(bad)), undefined, JSON.stringify(bad));
  });
});

describe('frame types in the frame header (byte 3, reserved before)', () => {
  const header = { flags: WS_FRAME_FLAGS.key, sequence: 7, timestampUs: 66_666, captureTimeMs: 1_733_000_000_001.25 };
  /** How clients that predate frame types read a header: the v1 layout, byte 3 unread. */
  const readAsOldClient = (message: Uint8Array): unknown => {
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    if (view.getUint8(0) !== 0x46 || view.getUint8(1) !== 1) return undefined;
    return {
      flags: view.getUint8(2),
      sequence: view.getUint32(4),
      timestampUs: view.getFloat64(8),
      captureTimeMs: view.getFloat64(16),
    };
  };
  for (const frameType of ['I', 'P', 'B'] as const) {
    it(`${frameType} round-trips as code ${WS_FRAME_TYPES[frameType]}, and an old client reads the rest unchanged`, () => {
      const message = encodeWsFrame({ ...header, frameType }, pattern(8));
      assert.equal(message[3], WS_FRAME_TYPES[frameType]);
      assert.deepEqual(decodeWsFrame(message)?.header, { ...header, frameType });
      assert.deepEqual(readAsOldClient(message), header);
      const old = encodeWsFrame(header, pattern(8));
      assert.deepEqual(
        [...message.subarray(0, 3), ...message.subarray(4)],
        [...old.subarray(0, 3), ...old.subarray(4)],
      );
    });
  }
  it('a header from a bridge that predates frame types (byte 3 = 0) has no frameType', () => {
    const message = encodeWsFrame(header, pattern(8));
    assert.equal(message[3], 0);
    assert.deepEqual(decodeWsFrame(message)?.header, header);
    assert.equal('frameType' in (decodeWsFrame(message)?.header ?? {}), false);
  });
  it('an unknown code (a later bridge) reads as not known, the frame still decodes', () => {
    const message = encodeWsFrame({ ...header, frameType: 'P' }, pattern(8));
    message[3] = 200;
    assert.deepEqual(decodeWsFrame(message)?.header, header);
  });
  it('audio headers keep byte 3 at 0', () => {
    assert.equal(encodeWsAudio({ sequence: 1, timestampUs: 0, captureTimeMs: 0 }, pattern(4))[3], 0);
  });
});
