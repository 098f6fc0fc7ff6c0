import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { FramewireError, assertOption } from '@framewire/core';
import { SHM_LAYOUT, SHM_STATUS, type ShmStatus } from '../media/shm-frame-layout.js';
import type { RawFrame, RawPixelFormat } from '../media/raw-frame.js';

/** Options of {@link ShmFrameReader}. */
export interface ShmFrameReaderOptions {
  /** The file of the buffer, e.g. `/dev/shm/framewire` (as `ShmFrameBuffer.path`). Required. */
  path: string;
  /** Read attempts while the writer is mid-frame before `read()` gives up and returns `null`. Default: 100. */
  maxRetries?: number;
}

/** A frame read from a shared-memory buffer: a {@link RawFrame} plus its frame id. */
export interface ShmFrame extends RawFrame {
  /** The writer's frame counter (1, 2, …). */
  frameId: number;
}

const STATUS_NAMES = Object.fromEntries(Object.entries(SHM_STATUS).map(([k, v]) => [v, k])) as Record<
  number,
  ShmStatus | undefined
>;

/**
 * Reads the newest frame of a shared-memory frame buffer (see {@link ShmFrameBuffer}) from Node, with the same
 * sequence-lock protocol as the Python reader: a frame is returned only if the sequence was even and unchanged
 * around the copy. Reopens the path when the writer replaced the file. Node cannot map files, so each read copies.
 */
export class ShmFrameReader {
  /** The file of the buffer. */
  readonly path: string;
  readonly #maxRetries: number;
  readonly #header = Buffer.alloc(SHM_LAYOUT.headerBytes);
  #fd: number | undefined;
  #ino = -1;
  #closed = false;

  /** Creates the reader; the file is opened on the first `read()`, so it may start before the writer. */
  constructor(options: ShmFrameReaderOptions) {
    assertOption(
      typeof options.path === 'string' && options.path.length > 0,
      'options.path must be a non-empty string',
    );
    this.#maxRetries = options.maxRetries ?? 100;
    assertOption(
      Number.isInteger(this.#maxRetries) && this.#maxRetries > 0,
      'options.maxRetries must be an integer > 0',
    );
    this.path = options.path;
  }

  /**
   * The status of the buffer: `missing` while no writer has created it yet, otherwise the header's status.
   * Throws `FW_ERR_SHM_INVALID` for a file that is not a framewire frame buffer of a known version.
   */
  status(): ShmStatus | 'missing' {
    const fd = this.#open();
    if (fd === undefined) return 'missing';
    this.#readHeader(fd);
    return STATUS_NAMES[this.#header.readUInt32LE(SHM_LAYOUT.offsets.status)] ?? 'empty';
  }

  /**
   * The newest whole frame, or `null` when there is none yet (no file, or status `empty`) or the writer kept the
   * sequence busy for `maxRetries` attempts. Throws `FW_ERR_SHM_INVALID` for a file of the wrong magic or version,
   * `FW_ERR_CLOSED` after `close()`.
   */
  read(): ShmFrame | null {
    if (this.#closed) throw new FramewireError('FW_ERR_CLOSED', `ShmFrameReader ${this.path} is closed`);
    const o = SHM_LAYOUT.offsets;
    for (let attempt = 0; attempt < this.#maxRetries; attempt++) {
      const fd = this.#open();
      if (fd === undefined) return null;
      const h = this.#readHeader(fd);
      const seq = h.readUInt32LE(o.seq);
      const status = h.readUInt32LE(o.status);
      if (status === SHM_STATUS.superseded) {
        this.#reopen();
        continue;
      }
      if (seq % 2 === 1) continue;
      if (status === SHM_STATUS.empty) return null;
      const payloadBytes = h.readUInt32LE(o.payloadBytes);
      const capacity = Number(h.readBigUInt64LE(o.capacityBytes));
      if (payloadBytes > capacity) continue; // a torn header; the sequence check would reject it anyway
      const data = Buffer.allocUnsafe(payloadBytes);
      readSync(fd, data, 0, payloadBytes, SHM_LAYOUT.headerBytes);
      const after = Buffer.alloc(4);
      readSync(fd, after, 0, 4, o.seq);
      if (after.readUInt32LE(0) !== seq) continue;
      return {
        width: h.readUInt32LE(o.width),
        height: h.readUInt32LE(o.height),
        format: h.toString('latin1', o.format, o.format + 8).replace(/\0+$/, '') as RawPixelFormat,
        data,
        captureTimeMs: h.readDoubleLE(o.captureTimeMs),
        frameId: Number(h.readBigUInt64LE(o.frameId)),
      };
    }
    return null;
  }

  /** Closes the file. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#reopen();
  }

  /** The open file of the current name, following a replaced file; `undefined` while there is none. */
  #open(): number | undefined {
    // A writer restart renames a new file over the name: follow it.
    let ino: number;
    try {
      ino = statSync(this.path).ino;
    } catch {
      this.#reopen();
      return undefined;
    }
    if (this.#fd !== undefined && ino === this.#ino) return this.#fd;
    this.#reopen();
    try {
      const fd = openSync(this.path, 'r');
      this.#fd = fd;
      this.#ino = fstatSync(fd).ino;
      return fd;
    } catch {
      return undefined;
    }
  }

  #reopen(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#ino = -1;
  }

  #readHeader(fd: number): Buffer {
    const h = this.#header;
    const bytes = readSync(fd, h, 0, h.length, 0);
    const magic = h.toString('latin1', 0, 4);
    const version = h.readUInt16LE(SHM_LAYOUT.offsets.version);
    if (bytes < h.length || magic !== SHM_LAYOUT.magic || version !== SHM_LAYOUT.version) {
      throw new FramewireError(
        'FW_ERR_SHM_INVALID',
        `${this.path} is not a framewire frame buffer of version ${SHM_LAYOUT.version} (magic ${JSON.stringify(magic)}, version ${version}, ${bytes} header bytes)`,
        { stage: 'shm', details: { magic, version } },
      );
    }
    return h;
  }
}
