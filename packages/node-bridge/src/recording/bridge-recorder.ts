import { FramewireError, createLogger } from '@framewire/core';
import type { AudioPacket } from '../media/audio-packet.js';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import type { RecordingHealth, RecordingState } from '../protocol.js';
import type { VideoSource } from '../sources/video-source.js';
import { PreRollBuffer } from './pre-roll-buffer.js';
import type { RecordingMode } from './recording-options.js';
import { recordingName } from './recording-names.js';
import type { RecordingFileInfo, RecordingStore } from './recording-store.js';
import { SegmentFile } from './segment-file.js';

/** Options of a {@link BridgeRecorder}. */
export interface BridgeRecorderOptions {
  /** The directory and its retention, shared by every recorder of the bridge. Required. */
  store: RecordingStore;
  /** The source's shared H.264 feed (passed through when the source is H.264, else its one encode). Required. */
  feed: FrameFeed;
  /** Length of each file, in ms; a file ends at the first keyframe after it. Required. */
  segmentMs: number;
  /** `continuous` (default) or `triggered` (see {@link BridgeRecorder.setTriggered}). */
  mode?: RecordingMode;
  /** Triggered mode: ms kept before the trigger, from the keyframe at or before them. Default: 5000. */
  preRollMs?: number;
  /** Triggered mode: ms written after the trigger ends. Default: 5000. */
  postRollMs?: number;
}

/** What the recorder queues: a video access unit or an audio packet, with the pre-roll's fields. */
type Entry =
  | { kind: 'video'; key: boolean; captureTimeMs: number; frame: EncodedFrame }
  | { kind: 'audio'; key: false; captureTimeMs: number; packet: AudioPacket };

/** Events and entries waiting to be written at most; past it, entries are dropped until the next keyframe. */
const MAX_QUEUED = 600;
/** After a write failure, the recorder tries again at the first keyframe this long after it (or a segment). */
const RETRY_MS = 5000;
const log = createLogger('recording');

/**
 * Records one source to fragmented MP4 files in a {@link RecordingStore}: its H.264 access units as they are (no
 * encode when the source is H.264) and its Opus audio, one file per `segmentMs` starting on a keyframe, named
 * `<UTC start>_<source id>.mp4`. In `triggered` mode it keeps a compressed pre-roll and writes only from a trigger
 * (`setTriggered(true)`, e.g. motion) to `postRollMs` after it ended. Write failures (directory gone, disk or
 * `maxBytes` full) show in {@link health} as `FW_ERR_WRITE_FAILED`; the stream goes on and the recorder tries again.
 */
export class BridgeRecorder {
  /** The recorded source. */
  readonly source: VideoSource;
  /** `continuous` or `triggered`. */
  readonly mode: RecordingMode;
  readonly #store: RecordingStore;
  readonly #feed: FrameFeed;
  readonly #segmentMs: number;
  readonly #postRollMs: number;
  readonly #preRoll: PreRollBuffer<Entry>;
  #file: SegmentFile | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #dropping = false;
  #unsubscribe: (() => void)[] = [];
  #triggered = false;
  #stopAtMs: number | undefined;
  #postRollTimer: NodeJS.Timeout | undefined;
  #error: FramewireError | undefined;
  #retryAtMs = 0;
  #files = 0;
  #bytesWritten = 0;
  #dropped = 0;
  #closed = false;

  /** Creates the recorder; it reads nothing before {@link start}. */
  constructor(source: VideoSource, options: BridgeRecorderOptions) {
    this.source = source;
    this.mode = options.mode ?? 'continuous';
    this.#store = options.store;
    this.#feed = options.feed;
    this.#segmentMs = options.segmentMs;
    this.#postRollMs = options.postRollMs ?? 5000;
    this.#preRoll = new PreRollBuffer(options.preRollMs ?? 5000);
  }

  /** Starts reading the source's H.264 feed and audio. Idempotent. */
  start(): void {
    if (this.#unsubscribe.length > 0 || this.#closed) return;
    this.#unsubscribe = [
      this.#feed.subscribe((frame) => this.#onFrame(frame)),
      this.source.on('audio', ({ packet }) => {
        if (this.source.audio) this.#offer({ kind: 'audio', key: false, captureTimeMs: packet.captureTimeMs, packet });
      }),
    ];
  }

  /** True while a trigger is active (triggered mode). */
  get triggered(): boolean {
    return this.#triggered;
  }

  /**
   * Triggered mode: `true` starts a file with the pre-roll (from the keyframe at or before `preRollMs` ago), then
   * live; `false` lets it run `postRollMs` more and closes it. A new trigger during the post-roll continues the same
   * file. Ignored in continuous mode and after `close()`.
   */
  setTriggered(active: boolean): void {
    if (this.mode !== 'triggered' || this.#closed || active === this.#triggered) return;
    this.#triggered = active;
    clearTimeout(this.#postRollTimer);
    this.#postRollTimer = undefined;
    if (active) {
      const continuing = this.#stopAtMs !== undefined;
      this.#stopAtMs = undefined;
      if (!continuing) for (const entry of this.#preRoll.drain()) this.#enqueue(entry);
      return;
    }
    this.#stopAtMs = Date.now() + this.#postRollMs;
    // Ends the file even when the source stops delivering frames.
    this.#postRollTimer = setTimeout(() => {
      this.#postRollTimer = undefined;
      if (this.#stopAtMs !== undefined) this.#run(() => this.#endTrigger());
    }, this.#postRollMs + 1000);
    this.#postRollTimer.unref();
  }

  /** The recorder's state for `/health` and `/metrics`. */
  get health(): RecordingHealth {
    const state: RecordingState = this.#closed
      ? 'closed'
      : this.#error
        ? 'error'
        : this.#file
          ? 'recording'
          : 'waiting';
    return {
      source: this.source.id,
      mode: this.mode,
      state,
      ...(this.#file ? { file: this.#infoOf(this.#file).name } : {}),
      files: this.#files,
      bytesWritten: this.#bytesWritten + (this.#file?.bytes ?? 0),
      ...(this.#error ? { error: { code: this.#error.code, message: this.#error.message } } : {}),
    };
  }

  /** The file being written, as the listing shows it; `undefined` between files. */
  get activeFile(): RecordingFileInfo | undefined {
    return this.#file ? this.#infoOf(this.#file) : undefined;
  }

  /** Access units and packets dropped because writing fell behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Stops reading and finishes the current file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return this.#queue;
    this.#closed = true;
    clearTimeout(this.#postRollTimer);
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#preRoll.clear();
    this.#run(() => this.#finishFile());
    return this.#queue;
  }

  #onFrame(frame: SourceFrame): void {
    if (isRawFrame(frame) || frame.codec !== 'h264') return;
    this.#offer({ kind: 'video', key: frame.key, captureTimeMs: frame.captureTimeMs, frame });
  }

  #offer(entry: Entry): void {
    if (this.#closed) return;
    if (this.mode === 'triggered' && !this.#triggered && this.#stopAtMs === undefined) {
      this.#preRoll.push(entry);
      return;
    }
    this.#enqueue(entry);
  }

  #enqueue(entry: Entry): void {
    if (this.#queued >= MAX_QUEUED) this.#dropping = true;
    if (this.#dropping) {
      if (entry.kind === 'video' && entry.key && this.#queued < MAX_QUEUED / 2) this.#dropping = false;
      else {
        this.#dropped++;
        return;
      }
    }
    this.#run(() => this.#write(entry));
  }

  #run(step: () => Promise<void>): void {
    this.#queued++;
    this.#queue = this.#queue
      .then(step)
      .catch((error: unknown) => this.#fail(error))
      .catch((error: unknown) => log.warn(`recording of ${this.source.id}: ${(error as Error).message}`))
      .finally(() => {
        this.#queued--;
      });
  }

  async #write(entry: Entry): Promise<void> {
    // A keyframe that opened a new file is already its first frame.
    if (entry.kind === 'video' && entry.key && (await this.#atKeyframe(entry.frame))) return;
    const file = this.#file;
    if (!file) return;
    if (entry.kind === 'video') await file.addVideo(entry.frame);
    else await file.addAudio(entry.packet);
    if (this.#stopAtMs !== undefined && entry.captureTimeMs >= this.#stopAtMs) await this.#endTrigger();
  }

  /**
   * Decides at each keyframe whether a file starts, rolls over or (after an error) is tried again; true when it
   * opened a file with `frame` as its first frame.
   */
  async #atKeyframe(frame: EncodedFrame): Promise<boolean> {
    const file = this.#file;
    // Older files make room for the one being written; when it alone exceeds maxBytes, that is a full disk.
    if (file && !this.#store.enforceRetention()) throw budgetError(this.#store);
    // A new SPS (the source restarted at another size or profile) starts a new file: one decoder config per file.
    if (file && frame.captureTimeMs - file.startCaptureMs < this.#segmentMs && file.fits(frame)) return false;
    if (!file && this.#error && Date.now() < this.#retryAtMs) return false;
    if (this.mode === 'triggered' && !this.#triggered && this.#stopAtMs === undefined) return false;
    await this.#finishFile();
    if (!this.#store.enforceRetention()) throw budgetError(this.#store);
    const name = recordingName(this.source.id, frame.captureTimeMs);
    const next = await SegmentFile.create(this.#store.pathOf(name), frame, {
      audio: this.source.audio,
    }).catch((error: unknown) => {
      throw error instanceof FramewireError ? error : new FramewireError('FW_ERR_WRITE_FAILED', String(error));
    });
    this.#store.begin(name, () => next.bytes);
    this.#file = next;
    if (this.#error) log.info(`recording of ${this.source.id} resumed in ${name}`);
    this.#error = undefined;
    return true;
  }

  async #endTrigger(): Promise<void> {
    this.#stopAtMs = undefined;
    clearTimeout(this.#postRollTimer);
    this.#postRollTimer = undefined;
    await this.#finishFile();
  }

  async #finishFile(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    try {
      await file.close();
    } finally {
      this.#hand(file, false);
    }
  }

  /** Counts a file that is no longer written and hands it to the store's index (and retention). */
  #hand(file: SegmentFile, interrupted: boolean): void {
    this.#bytesWritten += file.bytes;
    this.#files++;
    this.#store.finish({
      ...this.#infoOf(file),
      ...(interrupted ? { interrupted } : {}),
    });
  }

  #infoOf(file: SegmentFile): RecordingFileInfo {
    return {
      name: recordingName(this.source.id, file.startCaptureMs),
      sourceId: this.source.id,
      startMs: file.startCaptureMs,
      endMs: file.lastCaptureMs,
      bytes: file.bytes,
    };
  }

  async #fail(error: unknown): Promise<void> {
    const failure = error instanceof FramewireError ? error : new FramewireError('FW_ERR_WRITE_FAILED', String(error));
    if (this.#error?.message !== failure.message) log.warn(`recording of ${this.source.id}: ${failure.message}`);
    this.#error = failure;
    this.#retryAtMs = Date.now() + Math.min(RETRY_MS, this.#segmentMs);
    const file = this.#file;
    this.#file = undefined;
    if (file) {
      await file.abort();
      this.#hand(file, true);
    }
  }
}

function budgetError(store: RecordingStore): FramewireError {
  return new FramewireError(
    'FW_ERR_WRITE_FAILED',
    `recordings are full: the files being written alone exceed maxBytes (${store.totalBytes} bytes)`,
    { stage: 'recording' },
  );
}
