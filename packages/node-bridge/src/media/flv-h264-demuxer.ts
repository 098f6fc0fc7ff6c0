import { NAL_TYPES, nalType } from './h264.js';

/** One H.264 packet read by {@link FlvH264Demuxer}. */
export interface FlvH264Packet {
  /** The access unit in Annex B form; keyframes start with the stream's SPS and PPS. */
  data: Buffer;
  /** True for a keyframe. */
  key: boolean;
  /** Decode timestamp from the FLV tag, in ms. */
  timestampMs: number;
  /** Presentation minus decode time (the AVC packet's composition time), in ms: 0 without B-frames. */
  compositionTimeMs: number;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/**
 * Reads H.264 from an FLV byte stream (ffmpeg's `-f flv pipe:1`). FLV frames every packet with its length, so
 * each access unit is known complete the moment its bytes arrive: no waiting for the next start code, no added
 * latency. Packets come out in Annex B form with SPS/PPS before every keyframe, ready for a decoder joining late.
 * Tags larger than `maxTagBytes` or a broken header reset the demuxer (it resynchronises on the next stream).
 */
export class FlvH264Demuxer {
  readonly #maxTagBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #headerDone = false;
  #lengthSize = 4;
  #parameterSets: Buffer = Buffer.alloc(0);

  /** @param maxTagBytes the largest accepted tag, in bytes (default 8 MiB). */
  constructor(maxTagBytes = 8 * 1024 * 1024) {
    this.#maxTagBytes = maxTagBytes;
  }

  /** Feeds bytes; returns the packets they complete, in order. Throws `RangeError` on a stream that is not FLV. */
  push(chunk: Buffer): FlvH264Packet[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const packets: FlvH264Packet[] = [];
    if (!this.#headerDone) {
      if (this.#buffer.length < 13) return packets;
      if (this.#buffer.toString('latin1', 0, 3) !== 'FLV') {
        this.#buffer = Buffer.alloc(0);
        throw new RangeError('not an FLV stream');
      }
      this.#buffer = this.#buffer.subarray(this.#buffer.readUInt32BE(5) + 4);
      this.#headerDone = true;
    }
    while (this.#buffer.length >= 11) {
      const size = this.#buffer.readUIntBE(1, 3);
      if (size > this.#maxTagBytes) {
        this.#buffer = Buffer.alloc(0);
        this.#headerDone = false;
        throw new RangeError(`FLV tag of ${size} bytes is over the ${this.#maxTagBytes} byte limit`);
      }
      if (this.#buffer.length < 11 + size + 4) break;
      const type = this.#buffer[0];
      const timestampMs = this.#buffer.readUIntBE(4, 3) + (this.#buffer[7] ?? 0) * 2 ** 24;
      const body = this.#buffer.subarray(11, 11 + size);
      this.#buffer = this.#buffer.subarray(11 + size + 4);
      if (type === 9) {
        const packet = this.#video(body, timestampMs);
        if (packet) packets.push(packet);
      }
    }
    return packets;
  }

  #video(body: Buffer, timestampMs: number): FlvH264Packet | undefined {
    if (body.length < 5 || ((body[0] ?? 0) & 0x0f) !== 7) return undefined; // AVC only
    const key = (body[0] ?? 0) >> 4 === 1;
    const packetType = body[1];
    const payload = body.subarray(5);
    if (packetType === 0) {
      this.#parseConfig(payload);
      return undefined;
    }
    if (packetType !== 1) return undefined;
    const units: Buffer[] = [];
    let hasParameterSets = false;
    for (let i = 0; i + this.#lengthSize <= payload.length;) {
      const length = payload.readUIntBE(i, this.#lengthSize);
      const unit = payload.subarray(i + this.#lengthSize, i + this.#lengthSize + length);
      i += this.#lengthSize + length;
      if (nalType(unit) === NAL_TYPES.sps) hasParameterSets = true;
      units.push(START_CODE, unit);
    }
    if (units.length === 0) return undefined;
    if (key && !hasParameterSets) units.unshift(this.#parameterSets);
    // The composition time is a signed 24-bit field after the packet type.
    const compositionTimeMs = body.readIntBE(2, 3);
    return { data: Buffer.concat(units), key, timestampMs, compositionTimeMs };
  }

  #parseConfig(record: Buffer): void {
    if (record.length < 7) return;
    this.#lengthSize = ((record[4] ?? 3) & 3) + 1;
    const sets: Buffer[] = [];
    let i = 5;
    for (const countMask of [0x1f, 0xff]) {
      const count = (record[i] ?? 0) & countMask;
      i++;
      for (let n = 0; n < count && i + 2 <= record.length; n++) {
        const length = record.readUInt16BE(i);
        sets.push(START_CODE, record.subarray(i + 2, i + 2 + length));
        i += 2 + length;
      }
    }
    this.#parameterSets = Buffer.concat(sets);
  }
}
