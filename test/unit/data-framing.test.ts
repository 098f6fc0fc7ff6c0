// Peer data-channel framing (packages/browser-sdk/src/network/data-framing.ts): the envelope + body message, its
// chunks, and the assembler that refuses malformed or oversized input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHUNK_BYTES,
  ChunkAssembler,
  chunkMessage,
  decodeMessage,
  encodeMessage,
  jsonBody,
  toJsonBody,
  type Envelope,
} from '../../packages/browser-sdk/src/network/data-framing.js';

const pattern = (length: number, seed = 1): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251);
const u32 = (...values: number[]): Uint8Array => {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(i * 4, v));
  return out;
};
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('encodeMessage / decodeMessage', () => {
  const cases: { name: string; envelope: Envelope; body: Uint8Array }[] = [
    {
      name: 'a JSON message with a request id',
      envelope: { t: 'chat', k: 'j', id: 7 },
      body: toJsonBody({ text: 'hé' }),
    },
    { name: 'bytes with an empty body', envelope: { t: 'fw.frame', k: 'b' }, body: new Uint8Array(0) },
    {
      name: 'a failed reply with extra fields',
      envelope: { t: 'rpc', k: 'j', re: 3, err: { code: 'FW_ERR_TIMEOUT', message: 'late' }, x: { a: [1, 2] } },
      body: new Uint8Array(0),
    },
    { name: 'a 100 KB binary body', envelope: { t: 'file', k: 'b', id: 1 }, body: pattern(100_000) },
  ];
  for (const { name, envelope, body } of cases) {
    it(`round trip: ${name}`, () => {
      const message = encodeMessage(envelope, body);
      const header = new TextEncoder().encode(JSON.stringify(envelope));
      assert.equal(new DataView(message.buffer).getUint32(0), header.length, 'u32 header length first');
      const decoded = decodeMessage(message);
      assert.deepEqual(decoded.envelope, envelope);
      assert.deepEqual([...decoded.body], [...body]);
    });
  }

  const header = (json: string): Uint8Array => {
    const text = new TextEncoder().encode(json);
    return concat(u32(text.length), text);
  };
  const malformed: { name: string; message: Uint8Array; why: RegExp }[] = [
    { name: 'shorter than the length field', message: Uint8Array.from([0, 0, 1]), why: /too short/ },
    { name: 'a header length past the end', message: concat(u32(50), new Uint8Array(10)), why: /overruns/ },
    { name: 'a header that is not JSON', message: header('{"t":'), why: /not JSON/ },
    { name: 'a JSON header that is null', message: header('null'), why: /lacks t or k/ },
    { name: 'no topic', message: header('{"k":"j"}'), why: /lacks t or k/ },
    { name: 'an unknown body kind', message: header('{"t":"x","k":"z"}'), why: /lacks t or k/ },
  ];
  for (const { name, message, why } of malformed) {
    it(`refuses ${name} with FW_ERR_BAD_MESSAGE`, () => {
      assert.throws(() => decodeMessage(message), { name: 'FramewireError', code: 'FW_ERR_BAD_MESSAGE', message: why });
    });
  }

  it('JSON bodies: undefined is the empty body, and back', () => {
    assert.equal(toJsonBody(undefined).length, 0);
    assert.equal(jsonBody(new Uint8Array(0)), undefined);
    for (const value of [0, 'text', [1, { a: null }], { nested: { deep: true } }]) {
      assert.deepEqual(jsonBody(toJsonBody(value)), value);
    }
  });
});

describe('chunkMessage / ChunkAssembler', () => {
  const sizes = [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17];
  for (const size of sizes) {
    it(`a ${size} byte message: ${Math.max(1, Math.ceil(size / CHUNK_BYTES))} chunk(s), reassembled in any order`, () => {
      const message = pattern(size, size);
      const chunks = chunkMessage(42, message);
      assert.equal(chunks.length, Math.max(1, Math.ceil(size / CHUNK_BYTES)));
      chunks.forEach((chunk, i) => {
        const view = new DataView(chunk.buffer);
        assert.deepEqual([view.getUint32(0), view.getUint32(4), view.getUint32(8)], [42, size, i * CHUNK_BYTES]);
        assert.ok(chunk.length <= CHUNK_BYTES + 12);
      });
      for (const order of [chunks, [...chunks].reverse()]) {
        const assembler = new ChunkAssembler(1 << 20);
        const results = order.map((chunk) => assembler.push(chunk));
        assert.deepEqual(results.slice(0, -1), new Array<undefined>(order.length - 1).fill(undefined));
        assert.deepEqual([...(results.at(-1) ?? [])], [...message]);
      }
    });
  }

  it('interleaved messages with different ids are kept apart', () => {
    const a = pattern(2 * CHUNK_BYTES + 5, 1);
    const b = pattern(CHUNK_BYTES + 9, 2);
    const [a0, a1, a2] = chunkMessage(1, a);
    const [b0, b1] = chunkMessage(2, b);
    const assembler = new ChunkAssembler(1 << 20);
    assert.equal(assembler.push(a0!), undefined);
    assert.equal(assembler.push(b0!), undefined);
    assert.equal(assembler.push(a1!), undefined);
    assert.deepEqual([...assembler.push(b1!)!], [...b]);
    assert.deepEqual([...assembler.push(a2!)!], [...a]);
  });

  const refused: { name: string; chunk: Uint8Array; code: string }[] = [
    { name: 'a chunk shorter than its header', chunk: new Uint8Array(11), code: 'FW_ERR_BAD_MESSAGE' },
    {
      name: 'a total over the limit',
      chunk: concat(u32(1, 1001, 0), new Uint8Array(4)),
      code: 'FW_ERR_MESSAGE_TOO_LARGE',
    },
    {
      name: 'data past the announced total',
      chunk: concat(u32(1, 10, 8), new Uint8Array(4)),
      code: 'FW_ERR_BAD_MESSAGE',
    },
  ];
  for (const { name, chunk, code } of refused) {
    it(`refuses ${name} with ${code}`, () => {
      assert.throws(() => new ChunkAssembler(1000).push(chunk), { name: 'FramewireError', code });
    });
  }

  it('a refused chunk drops its partial message: the id starts afresh', () => {
    const assembler = new ChunkAssembler(1000);
    assert.equal(assembler.push(concat(u32(5, 8, 0), Uint8Array.from([1, 2, 3, 4]))), undefined);
    assert.throws(() => assembler.push(concat(u32(5, 8, 6), new Uint8Array(4))), { code: 'FW_ERR_BAD_MESSAGE' });
    assert.equal(assembler.push(concat(u32(5, 8, 4), Uint8Array.from([5, 6, 7, 8]))), undefined, 'no stale half');
    assert.deepEqual(
      [...assembler.push(concat(u32(5, 8, 0), Uint8Array.from([1, 2, 3, 4])))!],
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
  });
});
