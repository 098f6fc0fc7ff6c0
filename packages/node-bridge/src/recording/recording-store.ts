import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FramewireError, createLogger } from '@framewire/core';
import { hasMovieFragment } from './mp4-fragments.js';
import { parseRecordingName } from './recording-names.js';

/** One finished recording in the index (`index.json` of the recordings directory). */
export interface RecordingFileInfo {
  /** The file name, e.g. `20261207T220501123Z_cam1.mp4`. */
  name: string;
  /** The source it records. */
  sourceId: string;
  /** Capture time of its first frame, in ms since the Unix epoch. */
  startMs: number;
  /** Capture time of its last frame or packet, in ms since the Unix epoch. */
  endMs: number;
  /** Its size in bytes. */
  bytes: number;
  /** True when the bridge stopped without finishing it (killed): readable up to its last fragment. */
  interrupted?: boolean;
}

/** Retention limits of a {@link RecordingStore}. */
export interface RecordingRetention {
  /** Delete finished recordings older than this (by their end), in hours. Default: keep them. */
  maxAgeHours?: number | undefined;
  /** Delete the oldest finished recordings while all of them, the ones being written included, exceed this. */
  maxBytes?: number | undefined;
}

/** The name of the index file in the recordings directory. */
export const RECORDING_INDEX_FILE = 'index.json';
const log = createLogger('recording');

/**
 * The recordings directory: creates it, keeps the index of finished files (`index.json`, replaced atomically on
 * every change, so a killed bridge leaves a whole one), adopts the files a killed bridge left unfinished (removing those cut before their first fragment), and
 * applies the retention (oldest first, never a file being written).
 */
export class RecordingStore {
  /** The directory (absolute). */
  readonly dir: string;
  readonly #retention: RecordingRetention;
  #finished: RecordingFileInfo[] = [];
  readonly #active = new Map<string, () => number>();
  #deleted = 0;

  /** A store in `dir`; nothing touches the disk before {@link open}. */
  constructor(dir: string, retention: RecordingRetention = {}) {
    this.dir = resolve(dir);
    this.#retention = retention;
  }

  /**
   * Creates the directory when it is missing, reads the index and adopts recordings it does not list (a bridge
   * killed while writing them). Throws `FW_ERR_WRITE_FAILED` when the directory cannot be created or written.
   */
  open(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const probe = join(this.dir, `.write-test-${process.pid}`);
      writeFileSync(probe, '');
      unlinkSync(probe);
    } catch (cause) {
      throw new FramewireError(
        'FW_ERR_WRITE_FAILED',
        `recordings directory ${this.dir} is not writable: ${(cause as Error).message}`,
        { cause, stage: 'recording' },
      );
    }
    this.#finished = this.#readIndex();
    const known = new Set(this.#finished.map((f) => f.name));
    for (const name of readdirSync(this.dir)) {
      const parsed = parseRecordingName(name);
      if (!parsed || known.has(name)) continue;
      const path = join(this.dir, name);
      // Killed before its first fragment: a header without a frame, which no player reads.
      if (!hasMovieFragment(path)) {
        unlinkSync(path);
        continue;
      }
      const info = statSync(path);
      this.#finished.push({
        name,
        sourceId: parsed.sourceId,
        startMs: parsed.startMs,
        endMs: info.mtimeMs,
        bytes: info.size,
        interrupted: true,
      });
    }
    this.#finished = this.#finished.filter((f) => statSafe(join(this.dir, f.name)) !== undefined);
    this.#finished.sort((a, b) => a.startMs - b.startMs);
    this.enforceRetention();
    this.#writeIndex();
  }

  /** The finished recordings, oldest first. */
  get finished(): readonly RecordingFileInfo[] {
    return this.#finished;
  }

  /** Recordings deleted by the retention since {@link open}. */
  get deleted(): number {
    return this.#deleted;
  }

  /** The path of recording `name` in the directory. */
  pathOf(name: string): string {
    return join(this.dir, name);
  }

  /** Registers a file being written (never deleted by the retention); `bytes` reports its size. */
  begin(name: string, bytes: () => number): void {
    this.#active.set(name, bytes);
  }

  /** Moves a file from being written to the index, then applies the retention. */
  finish(info: RecordingFileInfo): void {
    this.#active.delete(info.name);
    if (info.bytes > 0) this.#finished.push(info);
    else unlinkSafe(this.pathOf(info.name));
    this.#finished.sort((a, b) => a.startMs - b.startMs);
    this.enforceRetention();
    this.#writeIndex();
  }

  /** Total bytes of every recording, the ones being written included. */
  get totalBytes(): number {
    let total = 0;
    for (const f of this.#finished) total += f.bytes;
    for (const bytes of this.#active.values()) total += bytes();
    return total;
  }

  /**
   * Deletes finished recordings, oldest first, that are older than `maxAgeHours` or while the total exceeds
   * `maxBytes`. Returns false when the files being written alone exceed `maxBytes` (nothing left to delete).
   */
  enforceRetention(nowMs = Date.now()): boolean {
    const { maxAgeHours, maxBytes } = this.#retention;
    let changed = false;
    if (maxAgeHours !== undefined) {
      const cutoff = nowMs - maxAgeHours * 3_600_000;
      while (this.#finished[0] && this.#finished[0].endMs < cutoff) changed = this.#deleteOldest() || changed;
    }
    let total = this.totalBytes;
    if (maxBytes !== undefined) {
      while (total > maxBytes && this.#finished[0]) {
        total -= this.#finished[0].bytes;
        changed = this.#deleteOldest() || changed;
      }
    }
    if (changed) this.#writeIndex();
    return maxBytes === undefined || total <= maxBytes;
  }

  #deleteOldest(): boolean {
    const oldest = this.#finished.shift();
    if (!oldest) return false;
    unlinkSafe(this.pathOf(oldest.name));
    this.#deleted++;
    log.info(`deleted ${oldest.name} (retention)`);
    return true;
  }

  #readIndex(): RecordingFileInfo[] {
    try {
      const parsed = JSON.parse(readFileSync(join(this.dir, RECORDING_INDEX_FILE), 'utf8')) as {
        recordings?: unknown;
      };
      if (!Array.isArray(parsed.recordings)) return [];
      return parsed.recordings.filter(
        (r: Partial<RecordingFileInfo>): r is RecordingFileInfo =>
          typeof r.name === 'string' &&
          parseRecordingName(r.name) !== undefined &&
          typeof r.startMs === 'number' &&
          typeof r.endMs === 'number' &&
          typeof r.bytes === 'number',
      );
    } catch {
      return [];
    }
  }

  #writeIndex(): void {
    const path = join(this.dir, RECORDING_INDEX_FILE);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify({ recordings: this.#finished }, null, 1)}\n`);
      renameSync(temporary, path);
    } catch (error) {
      log.warn(`cannot write ${path}: ${(error as Error).message}`);
    }
  }
}

function statSafe(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
