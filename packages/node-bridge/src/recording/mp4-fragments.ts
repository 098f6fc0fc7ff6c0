import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * True when the MP4 file at `path` holds at least one movie fragment (a top-level `moof` box): a fragmented
 * recording cut short (the bridge killed) is readable up to its last fragment, and one cut before its first holds
 * no frame at all. Reads only the top-level box headers.
 */
export function hasMovieFragment(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= size) {
      readSync(fd, header, 0, 16, offset);
      if (header.toString('latin1', 4, 8) === 'moof') return true;
      const small = header.readUInt32BE(0);
      const boxSize = small === 1 ? Number(header.readBigUInt64BE(8)) : small;
      // 0: the box runs to the end of the file; below 8: not a box header (a torn write).
      if (boxSize < 8) return false;
      offset += boxSize;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
