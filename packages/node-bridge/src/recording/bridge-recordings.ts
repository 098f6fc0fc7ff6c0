import { createLogger, type FramewireError } from '@framewire/core';
import type { MetricFamily } from '@framewire/core/node';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import type { RecordingHealth } from '../protocol.js';
import type { VideoSource } from '../sources/video-source.js';
import { BridgeRecorder } from './bridge-recorder.js';
import { resolveRecordingOptions, type RecordingOptions, type ResolvedRecordingOptions } from './recording-options.js';
import { RecordingStore, type RecordingFileInfo } from './recording-store.js';
import { RecordingsEndpoint } from './recordings-endpoint.js';

const log = createLogger('recording');

/**
 * The bridge's recording: one {@link RecordingStore} (the directory, its index and retention), one
 * {@link BridgeRecorder} per recorded source, the `/recordings` endpoint, and their `/health` and `/metrics`. A
 * directory that cannot be written leaves every recorder in `error` (`FW_ERR_WRITE_FAILED` in `/health`) and the
 * streams untouched.
 */
export class BridgeRecordings {
  /** The options, defaults applied. */
  readonly options: ResolvedRecordingOptions;
  /** The recordings directory. */
  readonly store: RecordingStore;
  /** The `/recordings` endpoint. */
  readonly endpoint: RecordingsEndpoint;
  readonly #recorders = new Map<string, BridgeRecorder>();
  #openError: FramewireError | undefined;

  /** Validates `options` (throws `FW_ERR_INVALID_OPTION`); nothing is written before {@link start}. */
  constructor(options: RecordingOptions, corsOrigin?: string) {
    this.options = resolveRecordingOptions(options);
    this.store = new RecordingStore(this.options.dir, {
      maxAgeHours: this.options.maxAgeHours,
      maxBytes: this.options.maxBytes,
    });
    this.endpoint = new RecordingsEndpoint(this.store, () => this.#activeFiles(), corsOrigin);
  }

  /**
   * Opens the directory and starts a recorder for each recorded source among `sources` (every one, or
   * `options.sources`), reading `feedOf(id)`. Throws `FW_ERR_INVALID_OPTION` for an unknown id in
   * `options.sources`; a directory that cannot be written is reported in `/health`, not thrown.
   */
  start(sources: readonly VideoSource[], feedOf: (id: string) => FrameFeed): void {
    const wanted = this.options.sources ?? sources.map((s) => s.id);
    try {
      this.store.open();
    } catch (error) {
      this.#openError = error as FramewireError;
      log.warn(this.#openError.message);
    }
    for (const id of wanted) {
      const source = sources.find((s) => s.id === id);
      if (!source) {
        log.warn(`record.sources: no source ${id}`);
        continue;
      }
      const recorder = new BridgeRecorder(source, {
        store: this.store,
        feed: feedOf(id),
        segmentMs: this.options.segmentMinutes * 60_000,
        mode: this.options.mode,
        preRollMs: this.options.preRollSeconds * 1000,
        postRollMs: this.options.postRollSeconds * 1000,
      });
      this.#recorders.set(id, recorder);
      if (!this.#openError) recorder.start();
    }
  }

  /** The recorder of source `id`, e.g. to call `setTriggered` from a motion detector. */
  recorder(id: string): BridgeRecorder | undefined {
    return this.#recorders.get(id);
  }

  /** Every recorder. */
  get recorders(): BridgeRecorder[] {
    return [...this.#recorders.values()];
  }

  /** The recorders' states for `/health`. */
  get health(): RecordingHealth[] {
    return this.recorders.map((r) => {
      const health = r.health;
      const error = this.#openError;
      return error ? { ...health, state: 'error', error: { code: error.code, message: error.message } } : health;
    });
  }

  /** The recording gauges and counters of `/metrics`. */
  get metrics(): MetricFamily[] {
    const healths = this.health;
    const label = (h: RecordingHealth): Record<string, string> => ({ source: h.source });
    return [
      {
        name: 'framewire_recording_active',
        type: 'gauge',
        help: '1 while a recorder writes a file (its name in the file label).',
        samples: healths.map((h) => ({
          labels: { ...label(h), ...(h.file ? { file: h.file } : {}) },
          value: h.state === 'recording' ? 1 : 0,
        })),
      },
      {
        name: 'framewire_recording_error',
        type: 'gauge',
        help: '1 while a recorder cannot write (FW_ERR_WRITE_FAILED in /health: directory, disk or maxBytes).',
        samples: healths.map((h) => ({ labels: label(h), value: h.state === 'error' ? 1 : 0 })),
      },
      {
        name: 'framewire_recording_bytes_total',
        type: 'counter',
        help: 'Bytes a recorder wrote since the bridge started.',
        samples: healths.map((h) => ({ labels: label(h), value: h.bytesWritten })),
      },
      {
        name: 'framewire_recording_files_total',
        type: 'counter',
        help: 'Files a recorder finished since the bridge started.',
        samples: healths.map((h) => ({ labels: label(h), value: h.files })),
      },
      {
        name: 'framewire_recording_disk_bytes',
        type: 'gauge',
        help: 'Bytes of every recording in the directory, the files being written included.',
        samples: [{ value: this.store.totalBytes }],
      },
      {
        name: 'framewire_recording_stored_files',
        type: 'gauge',
        help: 'Finished recordings in the directory (after retention).',
        samples: [{ value: this.store.finished.length }],
      },
    ];
  }

  /** Finishes every file being written. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.recorders.map((r) => r.close()));
  }

  #activeFiles(): RecordingFileInfo[] {
    return this.recorders.flatMap((r) => (r.activeFile ? [r.activeFile] : []));
  }
}
