import type { PooledBuffer } from '../media/frame-pool.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, GREETING_BYTES } from './zmtp-wire.js';

/** Parts up to this size are copied out of the control buffer; larger ones are read straight into their own buffer. */
const SMALL_PART_BYTES = 16 * 1024;
/** Room for the greeting, frame headers, commands and small parts. */
const CONTROL_BYTES = 256 * 1024;
/** Commands (READY with its metadata, PING, SUBSCRIBE…) are small; a larger one is a hostile peer. */
const MAX_COMMAND_BYTES = 64 * 1024;

/** What a {@link ZmtpFrameReader} hands over, in stream order. */
export interface ZmtpFrameHandler {
  /** The peer's 64-byte greeting (valid only during the call). */
  greeting(greeting: Buffer): void;
  /** A command frame's body (valid only during the call). */
  command(body: Buffer): void;
  /** A message part: small parts are copies, large ones the buffers `allocate` lent (with their lease). */
  part(data: Buffer, more: boolean, lease: PooledBuffer | undefined): void;
  /** A part over the size limit, skipped without being stored. */
  oversizePart(size: number, more: boolean): void;
  /** The stream cannot be parsed any further; the connection must close. */
  violation(reason: string): void;
}

/**
 * Splits a ZMTP byte stream into greeting, commands and message parts without a per-read allocation: the socket
 * reads into {@link ZmtpFrameReader.target} and reports the byte count to {@link ZmtpFrameReader.advance}. Headers
 * and small parts land in one control buffer; a large part is read straight into a buffer from `allocate` (the
 * kernel copies the bytes once, into the buffer the frame will use), and a part over `maxPartBytes` into a scratch
 * buffer that is overwritten.
 */
export class ZmtpFrameReader {
  readonly #handler: ZmtpFrameHandler;
  readonly #allocate: (size: number) => PooledBuffer;
  readonly #maxPartBytes: number;
  readonly #control = Buffer.allocUnsafeSlow(CONTROL_BYTES);
  #controlLength = 0;
  #greeted = false;
  #failed = false;
  #large: { lease: PooledBuffer; filled: number; more: boolean } | undefined;
  #skip: { size: number; left: number; more: boolean } | undefined;

  /** Reads for `handler`; large parts come from `allocate`, parts over `maxPartBytes` are skipped. */
  constructor(handler: ZmtpFrameHandler, allocate: (size: number) => PooledBuffer, maxPartBytes: number) {
    this.#handler = handler;
    this.#allocate = allocate;
    this.#maxPartBytes = maxPartBytes;
  }

  /** Where the next read must put its bytes (never empty). */
  target(): Buffer {
    if (this.#large) return this.#large.lease.data.subarray(this.#large.filled);
    if (this.#skip) return this.#control.subarray(0, Math.min(this.#skip.left, CONTROL_BYTES));
    return this.#control.subarray(this.#controlLength);
  }

  /** True when part of a greeting arrived but not all of it. */
  get midGreeting(): boolean {
    return !this.#greeted && this.#controlLength > 0;
  }

  /** Stops parsing: nothing more is handed over. */
  stop(): void {
    this.#failed = true;
  }

  /** `count` bytes were read into the last {@link target}. */
  advance(count: number): void {
    if (this.#failed) return;
    const large = this.#large;
    if (large) {
      large.filled += count;
      if (large.filled < large.lease.data.length) return;
      this.#large = undefined;
      this.#handler.part(large.lease.data, large.more, large.lease);
      return;
    }
    const skip = this.#skip;
    if (skip) {
      skip.left -= count;
      if (skip.left > 0) return;
      this.#skip = undefined;
      this.#handler.oversizePart(skip.size, skip.more);
      return;
    }
    this.#controlLength += count;
    this.#parse();
  }

  /** Copies `chunk` through {@link target}/{@link advance}: for sockets that cannot read into a given buffer. */
  feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.#failed) {
      const target = this.target();
      const count = chunk.copy(target, 0, offset);
      offset += count;
      this.advance(count);
    }
  }

  #parse(): void {
    const control = this.#control;
    let offset = 0;
    while (!this.#failed) {
      const available = this.#controlLength - offset;
      if (!this.#greeted) {
        if (available < GREETING_BYTES) break;
        this.#greeted = true;
        this.#handler.greeting(control.subarray(offset, offset + GREETING_BYTES));
        offset += GREETING_BYTES;
        continue;
      }
      if (available < 2) break;
      const flags = control[offset] ?? 0;
      const headerBytes = flags & FLAG_LONG ? 9 : 2;
      if (available < headerBytes) break;
      const bigSize = flags & FLAG_LONG ? control.readBigUInt64BE(offset + 1) : BigInt(control[offset + 1] ?? 0);
      const more = (flags & FLAG_MORE) !== 0;
      if (flags & FLAG_COMMAND) {
        if (bigSize > BigInt(MAX_COMMAND_BYTES)) return this.#fail(`a ${bigSize} byte command`);
        const size = Number(bigSize);
        if (available < headerBytes + size) break;
        this.#handler.command(control.subarray(offset + headerBytes, offset + headerBytes + size));
        offset += headerBytes + size;
        continue;
      }
      if (bigSize > BigInt(Number.MAX_SAFE_INTEGER)) return this.#fail(`a ${bigSize} byte part`);
      const size = Number(bigSize);
      const start = offset + headerBytes;
      if (size <= SMALL_PART_BYTES) {
        if (available < headerBytes + size) break;
        this.#handler.part(Buffer.from(control.subarray(start, start + size)), more, undefined);
        offset = start + size;
        continue;
      }
      // A large part: what already arrived moves to its buffer, the rest is read straight into it.
      const inControl = Math.min(size, this.#controlLength - start);
      offset = start + inControl;
      if (size > this.#maxPartBytes) {
        if (inControl === size) this.#handler.oversizePart(size, more);
        else this.#skip = { size, left: size - inControl, more };
      } else {
        const lease = this.#allocate(size);
        control.copy(lease.data, 0, start, start + inControl);
        if (inControl === size) this.#handler.part(lease.data, more, lease);
        else this.#large = { lease, filled: inControl, more };
      }
      if (this.#large || this.#skip) break;
    }
    if (this.#failed) return;
    control.copyWithin(0, offset, this.#controlLength);
    this.#controlLength -= offset;
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.#handler.violation(reason);
  }
}
