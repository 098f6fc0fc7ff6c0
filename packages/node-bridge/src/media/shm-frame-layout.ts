/**
 * The layout of a framewire shared-memory frame buffer file (documented in
 * docs/guides/shared-memory-frames.md). All integers are little-endian.
 *
 * | offset | type     | field                                                                 |
 * | ------ | -------- | --------------------------------------------------------------------- |
 * | 0      | char[4]  | magic `FWFB`                                                          |
 * | 4      | u16      | version (1)                                                           |
 * | 6      | u16      | header size in bytes (64); the payload starts here                    |
 * | 8      | u32      | sequence: odd while the writer writes, even when stable               |
 * | 12     | u32      | status: 0 empty (no frame yet), 1 live, 2 closed, 3 superseded        |
 * | 16     | u32      | width in pixels                                                       |
 * | 20     | u32      | height in pixels                                                      |
 * | 24     | char[8]  | pixel format, ASCII, NUL-padded (`BGR24`, `RGB24`, `RGBA`, `I420`, …) |
 * | 32     | u32      | payload bytes of the current frame                                    |
 * | 36     | u32      | writer process id                                                     |
 * | 40     | u64      | frame id (1, 2, …; 0 before the first frame)                          |
 * | 48     | f64      | capture time, ms since the Unix epoch                                 |
 * | 56     | u64      | payload capacity in bytes (file size = header size + capacity)        |
 */
export const SHM_LAYOUT = {
  magic: 'FWFB',
  version: 1,
  headerBytes: 64,
  offsets: {
    magic: 0,
    version: 4,
    headerBytes: 6,
    seq: 8,
    status: 12,
    width: 16,
    height: 20,
    format: 24,
    payloadBytes: 32,
    writerPid: 36,
    frameId: 40,
    captureTimeMs: 48,
    capacityBytes: 56,
  },
} as const;

/** The `status` field of a frame buffer header. */
export const SHM_STATUS = {
  /** The writer has created the file but written no frame yet. */
  empty: 0,
  /** Frames are being written; the header describes the newest one. */
  live: 1,
  /** The writer closed cleanly; the last frame stays readable. */
  closed: 2,
  /** A new file (another size) replaced this one under the same name: reopen the path. */
  superseded: 3,
} as const;

/** A name of {@link SHM_STATUS}. */
export type ShmStatus = keyof typeof SHM_STATUS;
