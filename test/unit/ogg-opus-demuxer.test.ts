// OggOpusDemuxer (packages/node-bridge/src/media/ogg-opus-demuxer.ts): Ogg Opus pages to Opus packets with their
// sample positions, checked on ffmpeg's own Ogg Opus output and on hand-made pages.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import { OggOpusDemuxer, opusPacketSamples } from '../../packages/node-bridge/src/media/ogg-opus-demuxer.js';
import { OPUS_TAGS, celt20, oggPage, opusHead } from '../helpers/ogg-pages.js';

const run = promisify(execFile);

const page = oggPage;
const tags = OPUS_TAGS;

describe('opusPacketSamples', () => {
  for (const [name, toc, extra, samples] of [
    ['CELT 20 ms', 31 << 3, [], 960],
    ['CELT 2.5 ms', 16 << 3, [], 120],
    ['SILK 60 ms', 3 << 3, [], 2880],
    ['hybrid 10 ms, two frames (code 1)', (12 << 3) | 1, [], 960],
    ['CELT 20 ms, three frames (code 3)', (31 << 3) | 3, [3], 2880],
  ] as const) {
    it(name, () => assert.equal(opusPacketSamples(Uint8Array.from([toc, ...extra, 0])), samples));
  }
  it('refuses an empty packet and one longer than 120 ms', () => {
    assert.throws(() => opusPacketSamples(new Uint8Array()), RangeError);
    assert.throws(() => opusPacketSamples(Uint8Array.from([(31 << 3) | 3, 7])), RangeError);
  });
});

describe('OggOpusDemuxer', () => {
  it('reads the head, skips the tags and places packets by the granule position minus the pre-skip', () => {
    const demuxer = new OggOpusDemuxer();
    const bytes = Buffer.concat([
      page([opusHead(2, 312)], 0n, 2),
      page([tags], 0n),
      page([celt20(40), celt20(41)], 312n + 1920n),
      page([celt20(42)], 312n + 2880n),
    ]);
    // Fed a byte at a time: pages split anywhere.
    const packets = [...bytes].flatMap((byte) => demuxer.push(Uint8Array.from([byte])));
    assert.deepEqual(demuxer.head, { channels: 2, preSkip: 312 });
    assert.deepEqual(
      packets.map((p) => [p.data.length, p.startSample, p.samples]),
      [
        [40, 0, 960],
        [41, 960, 960],
        [42, 1920, 960],
      ],
    );
  });

  it('joins a packet continued on the next page', () => {
    const demuxer = new OggOpusDemuxer();
    const big = celt20(300);
    const header = (segments: number[], granule: bigint, flags: number): Buffer => {
      const h = Buffer.alloc(27);
      h.write('OggS', 0, 'latin1');
      h[5] = flags;
      h.writeBigInt64LE(granule, 6);
      h[26] = segments.length;
      return Buffer.concat([h, Buffer.from(segments)]);
    };
    const packets = demuxer.push(
      Buffer.concat([
        page([opusHead(1, 0)], 0n, 2),
        page([tags], 0n),
        header([255], -1n, 0),
        big.subarray(0, 255),
        header([45], 960n, 1),
        big.subarray(255),
      ]),
    );
    assert.equal(packets.length, 1);
    assert.ok(packets[0]?.data.equals(big));
    assert.equal(packets[0]?.startSample, 0);
  });

  for (const [name, bytes] of [
    ['bytes that are not Ogg', Buffer.from('RIFF0000WAVEfmt 0000000000000000')],
    ['an Ogg stream that is not Opus', page([Buffer.from('\x01vorbis0000000000000000', 'latin1')], 0n, 2)],
  ] as const) {
    it(`refuses ${name} with FW_ERR_PROTOCOL_VIOLATION`, () => {
      assert.throws(
        () => new OggOpusDemuxer().push(bytes),
        (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_PROTOCOL_VIOLATION',
      );
    });
  }

  it("reads ffmpeg's libopus output: 20 ms packets, back to back from 0", async () => {
    const { stdout } = await run(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:d=0.5'],
        ...['-c:a', 'libopus', '-frame_duration', '20', '-f', 'ogg', '-page_duration', '20000', 'pipe:1'],
      ],
      { encoding: 'buffer' },
    );
    const demuxer = new OggOpusDemuxer();
    const packets = demuxer.push(stdout);
    assert.equal(demuxer.head?.channels, 1);
    assert.ok(packets.length >= 25, `${packets.length} packets`);
    for (const [i, packet] of packets.entries()) {
      assert.equal(packet.samples, 960);
      if (i > 0) assert.equal(packet.startSample, (packets[i - 1]?.startSample ?? 0) + 960);
    }
    assert.ok(Math.abs(packets[0]?.startSample ?? 99) <= 960, `starts at ${packets[0]?.startSample}`);
  });
});
