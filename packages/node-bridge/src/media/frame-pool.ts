/**
 * Releases one hold on a pooled frame buffer; calling it again does nothing.
 */
export type ReleaseFrame = () => void;

/**
 * A frame buffer lent by a {@link FramePool}. The lender holds the first reference; every holder that keeps the
 * bytes past the synchronous `frame` event takes its own with {@link PooledBuffer.retain} and releases it when
 * done. When the last reference goes, the buffer returns to the pool and its bytes will be overwritten.
 */
export interface PooledBuffer {
  /** The bytes, exactly as long as requested. */
  readonly data: Buffer;
  /** Takes one more reference; returns the function that releases it. */
  readonly retain: () => ReleaseFrame;
  /** Releases the lender's reference (the one `acquire` gave). */
  readonly release: () => void;
}

/**
 * Reusable frame buffers of one size at a time. Receiving a 1280×720 BGR stream into a new 2.7 MB buffer per
 * frame costs more than the copy itself (fresh pages, and a garbage collection every few dozen frames); buffers
 * from a pool cost neither. Buffers that are still held when the pool is full of free ones are left to the
 * garbage collector, so a holder that never releases only costs a new allocation, never a wrong frame.
 */
export class FramePool {
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;
  #size = 0;
  #allocated = 0;

  /** `maxFree` bounds the idle buffers kept for reuse. Default: 8. */
  constructor(maxFree = 8) {
    this.#maxFree = maxFree;
  }

  /** Buffers allocated so far (not reused): for diagnostics and tests. */
  get allocated(): number {
    return this.#allocated;
  }

  /** Lends a buffer of `size` bytes (its contents are undefined) with one reference held by the caller. */
  acquire(size: number): PooledBuffer {
    if (size !== this.#size) {
      this.#free.length = 0;
      this.#size = size;
    }
    let data = this.#free.pop();
    if (!data) {
      data = Buffer.allocUnsafeSlow(size);
      this.#allocated++;
    }
    return this.#lend(data);
  }

  #lend(data: Buffer): PooledBuffer {
    let references = 1;
    const drop = (): void => {
      if (--references === 0 && data.length === this.#size && this.#free.length < this.#maxFree) this.#free.push(data);
    };
    const hold = (): ReleaseFrame => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        drop();
      };
    };
    return {
      data,
      retain: () => {
        references++;
        return hold();
      },
      release: hold(),
    };
  }
}
