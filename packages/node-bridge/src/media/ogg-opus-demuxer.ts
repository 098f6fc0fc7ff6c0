import { FramewireError } from '@framewire/core';

/** One Opus packet read from an Ogg stream. */
export interface OggOpusPacket {
  /** The Opus packet. */
  data: Buffer;
  /** Its first sample, counted at 48 kHz from the start of the stream (the Opus pre-skip removed). */
  startSample: number;
  /** Its samples at 48 kHz, from its TOC byte. */
  samples: number;
}

/** The Opus stream header (`OpusHead`) of an Ogg stream. */
export interface OggOpusHead {
  /** Output channels. */
  channels: number;
  /** Samples at 48 kHz to drop at the start (the encoder's look-ahead). */
  preSkip: number;
}

const OGGS = Buffer.from('OggS');
/** Longest Ogg page: 27-byte header, 255 lacing values, 255 × 255 bytes of body. */
const MAX_PAGE_BYTES = 27 + 255 + 255 * 255;

/**
 * Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1): the frame duration of its
 * configuration times its frame count. Throws a `RangeError` for an empty or malformed packet.
 */
export function opusPacketSamples(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) throw new RangeError('an empty Opus packet');
  const config = toc >> 3;
  let frameSamples: number;
  if (config < 12)
    frameSamples = [480, 960, 1920, 2880][config % 4] ?? 0; // SILK: 10, 20, 40, 60 ms
  else if (config < 16)
    frameSamples = [480, 960][config % 2] ?? 0; // hybrid: 10, 20 ms
  else frameSamples = [120, 240, 480, 960][config % 4] ?? 0; // CELT: 2.5, 5, 10, 20 ms
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 3) {
    const count = packet[1];
    if (count === undefined) throw new RangeError('an Opus code-3 packet without its frame count');
    frames = count & 0x3f;
  } else frames = 2;
  if (frames === 0 || frames * frameSamples > 5760) throw new RangeError('an Opus packet longer than 120 ms');
  return frames * frameSamples;
}

/**
 * Reads an Ogg Opus stream (RFC 7845) as it arrives, for example from ffmpeg's `-f ogg` output: `push()` bytes in
 * any chunks; it returns the Opus packets completed so far, each with its start in samples (from the pages'
 * granule positions, so a packet keeps its place on the encoder's clock whatever the delivery jitter). The
 * `OpusHead` header is read into {@link head}; comment headers are skipped. Throws `FW_ERR_PROTOCOL_VIOLATION` on
 * bytes that are not Ogg or a stream that is not Opus.
 */
export class OggOpusDemuxer {
  #buffer: Buffer = Buffer.alloc(0);
  #head: OggOpusHead | undefined;
  #headerPackets = 0;
  /** Bytes of a packet that continues on the next page. */
  #partial: Buffer[] = [];
  /** Where the packet after the last one read starts. */
  #nextSample: number | undefined;

  /** The stream's `OpusHead` once read. */
  get head(): OggOpusHead | undefined {
    return this.#head;
  }

  /** Adds bytes; returns the packets completed by them. */
  push(chunk: Uint8Array): OggOpusPacket[] {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    const out: OggOpusPacket[] = [];
    for (;;) {
      const buffer = this.#buffer;
      if (buffer.length < 27) break;
      if (!buffer.subarray(0, 4).equals(OGGS)) throw violation('not an Ogg page (no OggS capture pattern)');
      const segments = buffer[26] ?? 0;
      if (buffer.length < 27 + segments) break;
      const lacing = buffer.subarray(27, 27 + segments);
      const bodyBytes = lacing.reduce((sum, value) => sum + value, 0);
      const pageBytes = 27 + segments + bodyBytes;
      if (pageBytes > MAX_PAGE_BYTES) throw violation('an Ogg page larger than the format allows');
      if (buffer.length < pageBytes) break;
      this.#page(buffer.subarray(0, pageBytes), lacing, out);
      this.#buffer = buffer.subarray(pageBytes);
    }
    return out;
  }

  #page(page: Buffer, lacing: Buffer, out: OggOpusPacket[]): void {
    if (page[4] !== 0) throw violation(`an Ogg page of version ${page[4] ?? '?'}`);
    const granule = Number(page.readBigInt64LE(6));
    const packets: Buffer[] = [];
    let at = 27 + lacing.length;
    let size = 0;
    let start = at;
    for (const value of lacing) {
      size += value;
      at += value;
      if (value < 255) {
        this.#partial.push(page.subarray(start, at));
        packets.push(this.#partial.length === 1 && this.#partial[0] ? this.#partial[0] : Buffer.concat(this.#partial));
        this.#partial = [];
        size = 0;
        start = at;
      }
    }
    if (size > 0 || start < at) this.#partial.push(page.subarray(start, at));
    const media: Buffer[] = [];
    for (const packet of packets) {
      if (this.#headerPackets === 0) {
        this.#headerPackets++;
        if (packet.length < 19 || packet.toString('latin1', 0, 8) !== 'OpusHead')
          throw violation('the Ogg stream is not Opus (no OpusHead)');
        this.#head = { channels: packet[9] ?? 1, preSkip: packet.readUInt16LE(10) };
      } else if (this.#headerPackets === 1) {
        this.#headerPackets++; // OpusTags
      } else media.push(Buffer.from(packet));
    }
    if (media.length === 0) return;
    const counts = media.map((packet) => {
      try {
        return opusPacketSamples(packet);
      } catch (error) {
        throw violation((error as Error).message);
      }
    });
    // The granule position is the end of the last packet completed on this page (RFC 7845 §4), except on the last
    // page, where it can cut the end short (trimmed samples): there the packets follow the previous ones.
    let startSample = granule - (this.#head?.preSkip ?? 0);
    for (let i = media.length - 1; i >= 0; i--) startSample -= counts[i] ?? 0;
    if ((page[5] ?? 0) & 4 && this.#nextSample !== undefined) startSample = this.#nextSample;
    media.forEach((data, i) => {
      const samples = counts[i] ?? 0;
      out.push({ data, startSample, samples });
      startSample += samples;
    });
    this.#nextSample = startSample;
  }
}

function violation(message: string): FramewireError {
  return new FramewireError('FW_ERR_PROTOCOL_VIOLATION', `Ogg Opus: ${message}`, { stage: 'source' });
}
