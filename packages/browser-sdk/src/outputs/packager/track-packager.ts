import { FramewireError } from '@framewire/core';
import { readInit, readSegment } from './cmaf-box-reader.js';
import { initPath, segmentPath, type SegmentRecord } from './package-model.js';
import { packageMimeType, type PackageWriter } from './package-writer.js';
import type { MediabunnyApi as Mediabunny } from '../../core/mediabunny-loader.js';
import type { Output, Target } from 'mediabunny';

/** What a {@link TrackPackager} needs. */
export interface TrackPackagerOptions {
  /** Representation id and folder: `v0`, `a0`. */
  id: string;
  /** Video or audio. */
  type: 'video' | 'audio';
  /** Live mode (mediabunny emits segments as they complete either way; live only changes its own playlists). */
  live: boolean;
  /** Target segment duration in seconds. */
  segmentDurationS: number;
  /** Where files go. */
  writer: PackageWriter;
  /** Called after each media segment was written to the target. */
  onSegment: (track: TrackPackager, segment: SegmentRecord) => void;
  /** Called on a write or muxing failure. */
  onError: (error: FramewireError) => void;
  /**
   * Live publishing goes on past a failed write: when set, a write that failed is handed here instead of
   * `onError`, its segment is recorded as `lost` (listed by no manifest), and an init segment that failed is sent
   * again before the next media segment. Default: unset (a failed write fails the track).
   */
  onWriteFailed?: (error: FramewireError) => void;
}

/**
 * One track of a package: a mediabunny HLS output with CMAF segments (used only as a segmenter: its playlists are
 * dropped), whose init and media segments are read back (timescale, `tfdt`, durations) and written to the target
 * in order. The manifests are written by the {@link Packager} from what this records.
 */
export class TrackPackager {
  /** Representation id. */
  readonly id: string;
  /** Video or audio. */
  readonly type: 'video' | 'audio';
  /** The mediabunny output: add the track's source to it before `start()`. */
  readonly output: Output;
  /** Segments written to the target so far, in order. */
  readonly segments: SegmentRecord[] = [];
  /** Timescale from the init segment (0 until it is written). */
  timescale = 0;
  /** Codec string from the init segment, when readable. */
  codec: string | null = null;
  /** Bytes written so far (init and segments). */
  bytes = 0;
  /** Whether the init segment is on the target (manifests list a track only once it is). */
  initWritten = false;
  #init: Uint8Array | undefined;
  readonly #options: TrackPackagerOptions;
  #writes: Promise<void> = Promise.resolve();
  #pendingWrites = 0;
  #failed = false;
  readonly #written = new Set<string>();

  /** Creates the output (nothing is written until packets arrive). */
  constructor(mb: Mediabunny, options: TrackPackagerOptions) {
    this.id = options.id;
    this.type = options.type;
    this.#options = options;
    const id = options.id;
    const format = new mb.HlsOutputFormat({
      segmentFormat: new mb.CmafOutputFormat(),
      targetDuration: options.segmentDurationS,
      live: options.live,
      getPlaylistPath: () => `${id}/mb.m3u8`,
      getSegmentPath: ({ n }) => `seg-${n}.m4s`,
      getInitPath: () => 'init.mp4',
      onInit: (target) => this.#enqueue('init', 0, target),
      onSegment: (target, info) => this.#enqueue('segment', info.n, target),
    });
    // Every file goes to memory first; only init and segments are kept (mediabunny's own playlists are dropped).
    this.output = new mb.Output({
      format,
      target: new mb.PathedTarget('mb-master.m3u8', () => new mb.BufferTarget()),
    });
  }

  /** Every path written to the target so far. */
  get writtenPaths(): readonly string[] {
    return [...this.#written];
  }

  /** Resolves when fewer than `max` writes are waiting (backpressure for a slow target). */
  async drain(max = 4): Promise<void> {
    while (this.#pendingWrites > max && !this.#failed) await this.#writes;
  }

  /** Resolves when every write queued so far has been done. */
  async settled(): Promise<void> {
    await this.#writes;
  }

  #enqueue(kind: 'init' | 'segment', n: number, target: Target): void {
    const buffer = (target as unknown as { buffer: ArrayBuffer | null }).buffer;
    if (!buffer || this.#failed) return;
    const bytes = new Uint8Array(buffer);
    this.#pendingWrites++;
    this.#writes = this.#writes
      .then(async () => {
        if (this.#failed) return;
        if (kind === 'init') {
          const info = readInit(bytes);
          this.timescale = info.timescale;
          this.codec = info.codec;
          this.#init = bytes;
          // Live: an init segment that failed is sent again before the next media segment.
          await this.#writeInit().catch((error: unknown) => this.#reportOrThrow(error));
        } else {
          const info = readSegment(bytes);
          const path = segmentPath(this.id, n);
          const segment: SegmentRecord = {
            number: n,
            startTicks: info.startTicks,
            durationTicks: info.durationTicks,
            bytes: bytes.byteLength,
          };
          try {
            if (!this.initWritten) await this.#writeInit();
            await this.#options.writer.write(path, bytes, packageMimeType(path));
          } catch (error) {
            this.#reportOrThrow(error);
            // Live: the segment is lost (no manifest will name it) and the stream goes on.
            this.segments.push({ ...segment, lost: true });
            return;
          }
          this.#written.add(path);
          this.segments.push(segment);
          this.#options.onSegment(this, segment);
        }
        this.bytes += bytes.byteLength;
      })
      .catch((error: unknown) => {
        this.#failed = true;
        this.#options.onError(
          error instanceof FramewireError
            ? error
            : new FramewireError('FW_ERR_WRITE_FAILED', `Packaging ${this.id} failed: ${String(error)}`, {
                cause: error,
                fatal: true,
                stage: 'write',
              }),
        );
      })
      .finally(() => this.#pendingWrites--);
  }

  async #writeInit(): Promise<void> {
    const bytes = this.#init;
    if (!bytes) return;
    const path = initPath(this.id);
    await this.#options.writer.write(path, bytes, packageMimeType(path, this.type === 'audio'));
    this.initWritten = true;
    this.#written.add(path);
  }

  /** Hands a failed write to `onWriteFailed` when live publishing goes on past it; rethrows anything else. */
  #reportOrThrow(error: unknown): void {
    const report = this.#options.onWriteFailed;
    if (!report || !(error instanceof FramewireError) || error.code !== 'FW_ERR_WRITE_FAILED') throw error;
    report(error);
  }

  /** Forgets a path removed from the target (it left the live window). */
  forget(path: string): void {
    this.#written.delete(path);
  }
}
