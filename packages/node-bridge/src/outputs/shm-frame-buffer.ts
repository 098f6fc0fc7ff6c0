import { closeSync, fstatSync, ftruncateSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import { RAW_PIXEL_FORMATS, rawFrameBytes, type RawFrame, type RawFrameEmitter } from '../media/raw-frame.js';
import { SHM_LAYOUT, SHM_STATUS } from '../media/shm-frame-layout.js';

/** Options of {@link ShmFrameBuffer}. Give `name` or `path`. */
export interface ShmFrameBufferOptions {
  /**
   * The buffer name: the file is `/dev/shm/<name>` (tmpfs, so its pages are shared memory). Letters, digits,
   * `.`, `_` and `-` only. Default: `framewire`, unless `path` is given.
   */
  name?: string;
  /**
   * An explicit file path instead of `/dev/shm/<name>`, for systems without `/dev/shm` (on a disk the page cache
   * still shares the pages with readers that map the file). Default: none.
   */
  path?: string;
  /** File permissions of the buffer. Default: `0o600` (only the same user can read the frames). */
  mode?: number;
  /** Delete the file on `close()`; readers keep their mapping and see status `closed`. Default: `true`. */
  unlinkOnClose?: boolean;
}

/** Events of a {@link ShmFrameBuffer}. */
export type ShmFrameBufferEvents = {
  /** A frame of an attached source could not be written (non-fatal: bad frame) or the file failed (fatal). */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('shm-frame-buffer');
const NAME = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Keeps the newest raw frame in a named shared-memory file that any local process can map (Raspberry.Ninja's
 * `--framebuffer`, done safely). The header carries a sequence lock: the writer makes the sequence odd, writes
 * the pixels and the header fields, then makes it even, so a reader that sees the same even sequence before and
 * after its read has a whole frame, and retries otherwise. The writer never waits for readers.
 *
 * A frame larger than the file's capacity makes the writer build a new file and rename it over the name
 * (never shrinking a mapped file, which would crash readers with SIGBUS); the old file says `superseded`.
 * See docs/guides/shared-memory-frames.md for the layout and examples/python/framewire_shm_reader.py.
 */
export class ShmFrameBuffer {
  /** The file path of the buffer. */
  readonly path: string;
  readonly #mode: number;
  readonly #unlinkOnClose: boolean;
  readonly #events = new TypedEmitter<ShmFrameBufferEvents>();
  readonly #header = Buffer.alloc(SHM_LAYOUT.headerBytes);
  readonly #seqBuffer = Buffer.alloc(4);
  readonly #detach = new Set<() => void>();
  #fd: number | undefined;
  #ino = -1;
  #capacityBytes = 0;
  #seq = 0;
  #frameId = 0n;
  #closed = false;

  /** Creates the file at once with status `empty`, so readers that start first see "no frame yet". */
  constructor(options: ShmFrameBufferOptions = {}) {
    assertOption(
      options.path === undefined || (typeof options.path === 'string' && options.path.length > 0),
      'options.path must be a non-empty string',
    );
    const name = options.name ?? 'framewire';
    assertOption(typeof name === 'string' && NAME.test(name), 'options.name must match [A-Za-z0-9._-]{1,200}');
    this.#mode = options.mode ?? 0o600;
    assertOption(
      Number.isInteger(this.#mode) && this.#mode >= 0 && this.#mode <= 0o777,
      'options.mode must be a file mode',
    );
    this.#unlinkOnClose = options.unlinkOnClose ?? true;
    this.path = options.path ?? join('/dev/shm', name);
    this.#create(0);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof ShmFrameBufferEvents>(event: E, listener: (payload: ShmFrameBufferEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Frames written so far (the frame id of the newest frame). */
  get frameCount(): number {
    return Number(this.#frameId);
  }

  /** Payload capacity of the current file, in bytes. */
  get capacityBytes(): number {
    return this.#capacityBytes;
  }

  /**
   * Writes `frame` as the newest frame. Synchronous; never waits for readers. Throws `FW_ERR_FRAME_UNUSABLE` for a
   * frame whose data does not match its size and format, `FW_ERR_WRITE_FAILED` when the file cannot be written
   * (e.g. `/dev/shm` full), `FW_ERR_CLOSED` after `close()`.
   */
  write(frame: RawFrame): void {
    if (this.#closed) throw new FramewireError('FW_ERR_CLOSED', `ShmFrameBuffer ${this.path} is closed`);
    const { width, height, format, data } = frame;
    const valid =
      Number.isInteger(width) &&
      Number.isInteger(height) &&
      width > 0 &&
      height > 0 &&
      RAW_PIXEL_FORMATS.includes(format) &&
      Buffer.isBuffer(data) &&
      data.length === rawFrameBytes(width, height, format);
    if (!valid) {
      throw new FramewireError(
        'FW_ERR_FRAME_UNUSABLE',
        `ShmFrameBuffer: a ${format} ${width}x${height} frame cannot have ${Buffer.isBuffer(data) ? data.length : 0} bytes`,
        { stage: 'shm', details: { width, height, format } },
      );
    }
    try {
      if (data.length > this.#capacityBytes) this.#create(data.length);
      const fd = this.#fd;
      if (fd === undefined) throw new FramewireError('FW_ERR_CLOSED', `ShmFrameBuffer ${this.path} is closed`);
      this.#writeSeq(fd, this.#seq + 1); // odd: writing
      writeSync(fd, data, 0, data.length, SHM_LAYOUT.headerBytes);
      this.#frameId++;
      const h = this.#header;
      const o = SHM_LAYOUT.offsets;
      h.writeUInt32LE(SHM_STATUS.live, o.status);
      h.writeUInt32LE(width, o.width);
      h.writeUInt32LE(height, o.height);
      h.fill(0, o.format, o.format + 8);
      h.write(format, o.format, 'latin1');
      h.writeUInt32LE(data.length, o.payloadBytes);
      h.writeBigUInt64LE(this.#frameId, o.frameId);
      h.writeDoubleLE(frame.captureTimeMs, o.captureTimeMs);
      // Everything after the sequence word; the sequence itself is written last, on its own.
      writeSync(fd, h, o.status, SHM_LAYOUT.headerBytes - o.status, o.status);
      this.#writeSeq(fd, this.#seq + 1); // even: stable
    } catch (error) {
      if (error instanceof FramewireError) throw error;
      throw new FramewireError('FW_ERR_WRITE_FAILED', `ShmFrameBuffer: writing ${this.path} failed`, {
        cause: error,
        stage: 'shm',
      });
    }
  }

  /**
   * Writes every frame `source` emits. A bad frame is skipped with a non-fatal `error` event; a file that cannot
   * be written any more emits a fatal one. Returns the function that detaches the source.
   */
  attach(source: RawFrameEmitter): () => void {
    const off = source.on('frame', ({ frame }) => {
      if (this.#closed) return;
      try {
        this.write(frame);
      } catch (error) {
        const fw = error as FramewireError;
        const fatal = fw.code === 'FW_ERR_WRITE_FAILED';
        log.warn(fw.message);
        this.#events.emit('error', { error: fw, fatal });
      }
    });
    const detach = (): void => {
      off();
      this.#detach.delete(detach);
    };
    this.#detach.add(detach);
    return detach;
  }

  /**
   * Marks the buffer `closed` (readers keep the last frame), detaches sources and, by default, deletes the file
   * (unless another writer has replaced it under the same name). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const detach of [...this.#detach]) detach();
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) return;
    try {
      this.#writeStatus(fd, SHM_STATUS.closed);
    } finally {
      closeSync(fd);
      // Only our own file: another writer may have replaced it under the same name since.
      if (this.#unlinkOnClose && this.#ownsPath()) rmSync(this.path, { force: true });
      this.#events.removeAllListeners();
    }
  }

  /** Builds a new file of `capacityBytes` beside the name and renames it over the name (atomic for readers). */
  #create(capacityBytes: number): void {
    const temporary = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    let fd: number;
    try {
      fd = openSync(temporary, 'w+', this.#mode);
      ftruncateSync(fd, SHM_LAYOUT.headerBytes + capacityBytes);
      const h = this.#header;
      const o = SHM_LAYOUT.offsets;
      h.fill(0);
      h.write(SHM_LAYOUT.magic, o.magic, 'latin1');
      h.writeUInt16LE(SHM_LAYOUT.version, o.version);
      h.writeUInt16LE(SHM_LAYOUT.headerBytes, o.headerBytes);
      h.writeUInt32LE(0, o.seq);
      h.writeUInt32LE(SHM_STATUS.empty, o.status);
      h.writeUInt32LE(process.pid, o.writerPid);
      h.writeBigUInt64LE(BigInt(capacityBytes), o.capacityBytes);
      writeSync(fd, h, 0, SHM_LAYOUT.headerBytes, 0);
      renameSync(temporary, this.path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new FramewireError('FW_ERR_WRITE_FAILED', `ShmFrameBuffer: cannot create ${this.path}`, {
        cause: error,
        fatal: true,
        stage: 'shm',
      });
    }
    const previous = this.#fd;
    this.#fd = fd;
    this.#ino = fstatSync(fd).ino;
    this.#capacityBytes = capacityBytes;
    this.#seq = 0;
    if (previous !== undefined) {
      // Readers of the old file learn that they must reopen the path.
      this.#writeStatus(previous, SHM_STATUS.superseded);
      closeSync(previous);
    }
  }

  #ownsPath(): boolean {
    try {
      return statSync(this.path).ino === this.#ino;
    } catch {
      return false;
    }
  }

  /** Changes only the status word, inside the sequence lock. */
  #writeStatus(fd: number, status: number): void {
    const word = Buffer.alloc(4);
    word.writeUInt32LE(status);
    if (fd === this.#fd || this.#fd === undefined) {
      this.#writeSeq(fd, this.#seq + 1);
      writeSync(fd, word, 0, 4, SHM_LAYOUT.offsets.status);
      this.#writeSeq(fd, this.#seq + 1);
    } else {
      // An old file: its sequence is no longer tracked, so write the status alone (one aligned 4-byte store).
      writeSync(fd, word, 0, 4, SHM_LAYOUT.offsets.status);
    }
  }

  #writeSeq(fd: number, seq: number): void {
    this.#seq = seq >>> 0;
    this.#seqBuffer.writeUInt32LE(this.#seq);
    writeSync(fd, this.#seqBuffer, 0, 4, SHM_LAYOUT.offsets.seq);
  }
}
