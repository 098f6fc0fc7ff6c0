import { FramewireError } from '@framewire/core';
import type { OriginUploadTarget } from './origin-upload-writer.js';

/**
 * Where a {@link Packager} writes its files (manifests, init segments, media segments), by path relative to the
 * package root.
 */
export type PackagerTarget =
  /** In memory: `packager.files` is a `Map` of path → `Blob`. */
  | 'memory'
  /** A folder of this name in the origin-private file system (`navigator.storage.getDirectory()`). */
  | { opfs: string }
  /**
   * An HTTP origin: each file is sent with `PUT` to `upload` + `/` + path, or to the URL a function gives (removed
   * live segments with `DELETE`), so any server that stores PUT bodies (nginx with WebDAV, an S3-compatible store)
   * can serve the package. See {@link OriginUploadTarget}.
   */
  | OriginUploadTarget;

/** The writing side of a target. */
export interface PackageWriter {
  /** Writes (or replaces) a whole file. Rejects with `FW_ERR_WRITE_FAILED`. */
  write(path: string, data: Uint8Array | string, type: string): Promise<void>;
  /** Removes a file (live segments that left the window); failures are ignored. */
  remove(path: string): Promise<void>;
}

/** The MIME type of a package file, by extension. */
export function packageMimeType(path: string, audio = false): string {
  if (path.endsWith('.mpd')) return 'application/dash+xml';
  if (path.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (path.endsWith('.m4s')) return 'video/iso.segment';
  return audio ? 'audio/mp4' : 'video/mp4';
}

const writeFailed = (what: string, cause: unknown, details: Record<string, unknown> = {}): FramewireError =>
  new FramewireError('FW_ERR_WRITE_FAILED', what, { cause, fatal: true, stage: 'write', details });

/** A writer that keeps the files in `files`. */
export function memoryWriter(files: Map<string, Blob>): PackageWriter {
  return {
    write: (path, data, type) => {
      files.set(path, new Blob([data as BlobPart], { type }));
      return Promise.resolve();
    },
    remove: (path) => {
      files.delete(path);
      return Promise.resolve();
    },
  };
}

/** A writer into an OPFS folder; sub-folders are created as needed. */
export async function opfsWriter(folder: string): Promise<PackageWriter> {
  let root: FileSystemDirectoryHandle;
  try {
    root = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
  } catch (error) {
    throw writeFailed(`Cannot open the OPFS folder ${folder}: ${String(error)}`, error);
  }
  const dirOf = async (path: string): Promise<{ dir: FileSystemDirectoryHandle; name: string }> => {
    const parts = path.split('/');
    const name = parts.pop() ?? path;
    let dir = root;
    for (const part of parts) dir = await dir.getDirectoryHandle(part, { create: true });
    return { dir, name };
  };
  return {
    write: async (path, data) => {
      try {
        const { dir, name } = await dirOf(path);
        const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
        await writable.write(data as FileSystemWriteChunkType);
        await writable.close();
      } catch (error) {
        throw writeFailed(`Writing ${folder}/${path} to OPFS failed: ${String(error)}`, error);
      }
    },
    remove: async (path) => {
      try {
        const { dir, name } = await dirOf(path);
        await dir.removeEntry(name);
      } catch {
        // Already gone.
      }
    },
  };
}
