/** One VP8 frame read by {@link IvfVp8Reader}. */
export interface IvfVp8Frame {
  /** The VP8 frame (its uncompressed data chunk starts it: frame tag, then, for a keyframe, the start code). */
  data: Buffer;
  /** True for a keyframe (bit 0 of the frame tag is 0). */
  key: boolean;
  /** The frame's timestamp from its IVF frame header, in the stream's time base units. */
  timestamp: number;
}

const FILE_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 12;

/**
 * Reads VP8 frames from an IVF byte stream (ffmpeg's `-f ivf pipe:1`). IVF frames every frame with its length, so
 * each frame is known complete the moment its bytes arrive (no added latency). A frame larger than `maxFrameBytes`
 * or a stream that is not IVF/VP8 resets the reader (it expects a new file header) and throws `RangeError`.
 */
export class IvfVp8Reader {
  readonly #maxFrameBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #headerDone = false;

  /** @param maxFrameBytes the largest accepted frame, in bytes (default 8 MiB). */
  constructor(maxFrameBytes = 8 * 1024 * 1024) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Feeds bytes; returns the frames they complete, in order. Throws `RangeError` on a stream that is not IVF VP8. */
  push(chunk: Buffer): IvfVp8Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: IvfVp8Frame[] = [];
    if (!this.#headerDone) {
      if (this.#buffer.length < FILE_HEADER_BYTES) return frames;
      const signature = this.#buffer.toString('latin1', 0, 4);
      const fourcc = this.#buffer.toString('latin1', 8, 12);
      if (signature !== 'DKIF' || fourcc !== 'VP80') {
        this.#reset();
        throw new RangeError(`not an IVF VP8 stream (signature ${signature}, fourcc ${fourcc})`);
      }
      const headerBytes = Math.max(FILE_HEADER_BYTES, this.#buffer.readUInt16LE(6));
      if (this.#buffer.length < headerBytes) return frames;
      this.#buffer = this.#buffer.subarray(headerBytes);
      this.#headerDone = true;
    }
    while (this.#buffer.length >= FRAME_HEADER_BYTES) {
      const size = this.#buffer.readUInt32LE(0);
      if (size > this.#maxFrameBytes) {
        this.#reset();
        throw new RangeError(`IVF frame of ${size} bytes is over the ${this.#maxFrameBytes} byte limit`);
      }
      if (this.#buffer.length < FRAME_HEADER_BYTES + size) break;
      const timestamp = Number(this.#buffer.readBigUInt64LE(4));
      // The frame gets its own bytes: the buffer it came in is reused by the next chunks.
      const data = Buffer.from(this.#buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size));
      this.#buffer = this.#buffer.subarray(FRAME_HEADER_BYTES + size);
      if (data.length === 0) continue;
      frames.push({ data, key: ((data[0] ?? 1) & 0x01) === 0, timestamp });
    }
    return frames;
  }

  #reset(): void {
    this.#buffer = Buffer.alloc(0);
    this.#headerDone = false;
  }
}
