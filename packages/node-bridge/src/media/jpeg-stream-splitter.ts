/**
 * Splits a byte stream of concatenated baseline JPEG images (ffmpeg's `-f image2pipe -c:v mjpeg`) into images.
 *
 * It looks for SOI (FF D8) and EOI (FF D9) markers; ffmpeg's MJPEG encoder writes no embedded thumbnails, so
 * the first EOI after an SOI ends the image. Bytes before an SOI are discarded. A buffer that grows past
 * `maxImageBytes` without an EOI is discarded (a corrupt stream must not eat memory).
 */
export class JpegStreamSplitter {
  readonly #maxImageBytes: number;
  #pending: Buffer = Buffer.alloc(0);

  /** @param maxImageBytes the largest accepted image, in bytes (default 16 MiB). */
  constructor(maxImageBytes = 16 * 1024 * 1024) {
    this.#maxImageBytes = maxImageBytes;
  }

  /** Feeds bytes; returns the complete images they finish, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const images: Buffer[] = [];
    for (;;) {
      const start = this.#pending.indexOf(SOI);
      if (start < 0) {
        // Keep a trailing 0xFF: it may be the first half of an SOI marker split across chunks.
        this.#pending = this.#pending.at(-1) === 0xff ? this.#pending.subarray(-1) : Buffer.alloc(0);
        break;
      }
      const end = this.#pending.indexOf(EOI, start + 2);
      if (end < 0) {
        this.#pending = this.#pending.subarray(start);
        if (this.#pending.length > this.#maxImageBytes) this.#pending = Buffer.alloc(0);
        break;
      }
      images.push(Buffer.from(this.#pending.subarray(start, end + 2)));
      this.#pending = this.#pending.subarray(end + 2);
    }
    return images;
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);
