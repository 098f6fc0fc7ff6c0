import { assertOption } from '@framewire/core';
import { opusPacketSamples } from './ogg-opus-demuxer.js';

/** The Ogg CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0), one entry per byte value. */
const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 24;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  return crc >>> 0;
});

function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  return crc;
}

/**
 * Writes Opus packets as an Ogg Opus stream (RFC 7845), one page per packet, so that a decoder reading a pipe (an
 * ffmpeg that turns the bridge's Opus back into PCM) gets each packet as soon as it is written: {@link header}
 * first (the `OpusHead` and `OpusTags` pages), then {@link page} for every packet. The stream declares no pre-skip:
 * every decoded sample comes out, so sample counts at the decoder's output match the packets' durations.
 */
export class OggOpusWriter {
  readonly #channels: number;
  readonly #serial: number;
  #sequence = 0;
  #granule = 0n;

  /** A stream of `channels` (1 or 2) channels at 48 kHz, with the Ogg stream serial number `serial`. */
  constructor(channels: number, serial = 1) {
    assertOption(channels === 1 || channels === 2, `Ogg Opus channels must be 1 or 2; got ${channels}`);
    this.#channels = channels;
    this.#serial = serial >>> 0;
  }

  /** The two header pages: `OpusHead` (beginning of stream) and an empty `OpusTags`. */
  header(): Buffer {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1;
    head[9] = this.#channels;
    head.writeUInt16LE(0, 10);
    head.writeUInt32LE(48_000, 12);
    const tags = Buffer.from('OpusTags\0\0\0\0\0\0\0\0', 'latin1');
    return Buffer.concat([this.#page(head, 0n, 2), this.#page(tags, 0n, 0)]);
  }

  /** One page holding `packet`, its granule position the stream's samples so far. Throws for a malformed packet. */
  page(packet: Uint8Array): Buffer {
    this.#granule += BigInt(opusPacketSamples(packet));
    return this.#page(packet, this.#granule, 0);
  }

  #page(packet: Uint8Array, granule: bigint, flags: number): Buffer {
    // Lacing: 255-byte segments, then one shorter (possibly empty) segment that ends the packet.
    const lacing = [...Array<number>(Math.floor(packet.length / 255)).fill(255), packet.length % 255];
    assertOption(lacing.length <= 255, `an Opus packet of ${packet.length} bytes does not fit one Ogg page`);
    const page = Buffer.alloc(27 + lacing.length + packet.length);
    page.write('OggS', 0, 'latin1');
    page[5] = flags;
    page.writeBigInt64LE(granule, 6);
    page.writeUInt32LE(this.#serial, 14);
    page.writeUInt32LE(this.#sequence++, 18);
    page[26] = lacing.length;
    Buffer.from(lacing).copy(page, 27);
    Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength).copy(page, 27 + lacing.length);
    page.writeUInt32LE(oggCrc(page), 22);
    return page;
  }
}
