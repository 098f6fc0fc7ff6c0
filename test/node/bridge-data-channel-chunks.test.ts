import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  DATA_CHANNEL_CHUNK_BYTES,
  DataChannelMessageAssembler,
  chunkDataChannelMessage,
} from '@framewire/node-bridge/protocol';

describe('fw.h264 data channel chunks (bridge protocol)', () => {
  it('cuts frame messages into prefixed chunks of at most 16 KiB and joins them back byte for byte', () => {
    const assembler = new DataChannelMessageAssembler();
    for (const size of [1, 100, DATA_CHANNEL_CHUNK_BYTES, DATA_CHANNEL_CHUNK_BYTES + 1, 250_000]) {
      const message = new Uint8Array(randomBytes(size));
      const chunks = chunkDataChannelMessage(message);
      assert.equal(chunks.length, Math.ceil(size / DATA_CHANNEL_CHUNK_BYTES), `chunks of ${size} bytes`);
      assert.ok(chunks.every((chunk) => chunk.byteLength <= DATA_CHANNEL_CHUNK_BYTES + 1));
      assert.deepEqual(
        chunks.map((chunk) => chunk[0]),
        chunks.map((_, i) => (i === chunks.length - 1 ? 1 : 0)),
      );
      const joined = chunks.map((chunk) => assembler.push(chunk));
      assert.ok(joined.slice(0, -1).every((part) => part === undefined));
      assert.deepEqual(joined.at(-1), message);
    }
  });

  it('refuses a message over its size limit, ignores the rest of it, then assembles the next one', () => {
    const assembler = new DataChannelMessageAssembler(40_000);
    const big = chunkDataChannelMessage(new Uint8Array(70_000));
    assert.equal(big.length, 5);
    assert.equal(assembler.push(big[0] ?? new Uint8Array(0)), undefined);
    assert.equal(assembler.push(big[1] ?? new Uint8Array(0)), undefined);
    assert.throws(() => assembler.push(big[2] ?? new Uint8Array(0)), RangeError);
    assert.equal(assembler.push(big[3] ?? new Uint8Array(0)), undefined);
    assert.equal(assembler.push(big[4] ?? new Uint8Array(0)), undefined);
    assert.throws(() => assembler.push(new Uint8Array(0)), RangeError);
    const small = new Uint8Array(randomBytes(20_000));
    const parts = chunkDataChannelMessage(small).map((chunk) => assembler.push(chunk));
    assert.deepEqual(parts.at(-1), small);
  });
});
