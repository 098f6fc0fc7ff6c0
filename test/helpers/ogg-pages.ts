/** Hand-made Ogg Opus pages (RFC 7845) for the demuxer's and the stream reader's unit tests. */

/** One Ogg page holding `packets` (each shorter than 255 bytes), ending at `granule`; `flags` 2 = first page. */
export function oggPage(packets: Buffer[], granule: bigint, flags = 0): Buffer {
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[5] = flags;
  header.writeBigInt64LE(granule, 6);
  header[26] = packets.length;
  return Buffer.concat([header, Buffer.from(packets.map((p) => p.length)), ...packets]);
}

/** An `OpusHead` packet. */
export function opusHead(channels: number, preSkip: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = channels;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48_000, 12);
  return head;
}

/** An empty `OpusTags` packet. */
export const OPUS_TAGS = Buffer.from('OpusTags\0\0\0\0\0\0\0\0', 'latin1');

/** A CELT 20 ms Opus packet (config 31, one frame) of `size` bytes. */
export function celt20(size = 4): Buffer {
  return Buffer.concat([Buffer.from([31 << 3]), Buffer.alloc(size - 1, 7)]);
}
