import { keyframeIntervalOf } from '../core/keyframe-interval.js';
import { FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import { copyCaptureTime } from '../core/capture-time.js';
import { holdFrame } from '../core/held-frame.js';
import { mediabunnyApi, type MediabunnyApi as Mediabunny } from '../core/mediabunny-loader.js';
import { WorkerVideoEncoder } from '../encoders/worker-video-encoder.js';
import { RECORDER_VIDEO_CODECS, chooseVideoCodec, type RecorderVideoCodec } from '../encoders/codec-probe.js';
import { audioTrackOf } from '../core/demuxed-input.js';
import { FileSource } from '../sources/file-source.js';
import { HttpUploadWriter } from './http-upload-writer.js';
import { OpfsRecordingWriter } from './opfs-recording-writer.js';
import { recoverRecordings, type RecoveredRecording } from './recording-recovery.js';
import type { FrameSource } from '../core/frame-source.js';
import type { RecorderTarget, RecordingOutput, RecordingWriter, TargetChunk } from './recording-target.js';
import type {
  AudioSource,
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  InputAudioTrack,
  Output,
  OutputFormat,
  Target,
} from 'mediabunny';

const log = createLogger('recorder');

/** Containers a {@link Recorder} writes. */
export type RecorderContainer = 'mp4' | 'webm' | 'mkv';
const CONTAINERS: readonly RecorderContainer[] = ['mp4', 'webm', 'mkv'];
/** Audio codecs a {@link Recorder} encodes a live audio track to. */
export type RecorderAudioCodec = 'opus' | 'aac';

/** Options of {@link Recorder}. Every field is optional. */
export interface RecorderOptions {
  /** `mp4`, `webm` or `mkv`. Default: `mp4`. */
  container?: RecorderContainer;
  /**
   * The video codec, or codecs in order of preference: `avc` (H.264), `vp9`, `vp8`, `av1`. The first one this
   * browser can encode (and the container can hold) is used; a single codec falls back to the others in the
   * default order. Default: `avc`, `vp9`, `vp8`, `av1` (WebM: `vp9`, `vp8`, `av1`).
   */
  codec?: RecorderVideoCodec | readonly RecorderVideoCodec[];
  /** Target video bitrate in bits per second. Default: 0.1 bit per pixel per frame (2.8 Mbit/s at 720p30). */
  bitrateBps?: number;
  /** `variable`, `constant` or `quantizer` (fixed quality, see `quantizer`). Default: `variable`. */
  bitrateMode?: VideoEncoderBitrateMode;
  /** Quantizer in `quantizer` mode: 0–51 (H.264), 0–63 (VP9, AV1); lower is better. Default: 23 / 30. */
  quantizer?: number;
  /** A key frame every this many frames; fragments start at key frames. Default: 2 s worth (`2 × frameRate`). */
  keyframeIntervalFrames?: number;
  /**
   * The earlier spelling of `keyframeIntervalFrames`.
   * @deprecated Use `keyframeIntervalFrames` (docs/guides/names.md). Kept for one release.
   */
  keyFrameIntervalFrames?: number;
  /** `realtime` keeps up with live sources, `quality` compresses better. Default: `realtime`. */
  latencyMode?: LatencyMode;
  /** Hardware acceleration preference. Default: `no-preference`. */
  hardwareAcceleration?: HardwareAcceleration;
  /** Output width in pixels (even). Default: the first frame's width, rounded down to even. */
  width?: number;
  /** Output height in pixels (even). Default: the first frame's height, rounded down to even. */
  height?: number;
  /** Nominal frame rate for rate control, frames per second. Timestamps come from the frames. Default: 30. */
  frameRate?: number;
  /**
   * A frame whose size differs from the output size is `scale`d to it, or refused (`fail`: `write()` rejects
   * with `FW_ERR_FRAME_SIZE_CHANGED`, the frame is closed and the recording goes on). Default: `scale`.
   */
  sizeChange?: 'scale' | 'fail';
  /**
   * Fragmented output: fragmented MP4, or WebM/MKV written cluster by cluster without going back. Required (and
   * the default) for OPFS and upload targets, where it bounds what a crash can lose. Default: `false` for
   * `blob` and file handles.
   */
  fragmented?: boolean;
  /** Minimum fragment (or cluster) length in ms; fragments end at key frames. Default: 1000. */
  fragmentDurationMs?: number;
  /** Where the recording goes. Default: `blob`. */
  target?: RecorderTarget;
  /**
   * Audio: a live `MediaStreamTrack` (encoded to `audioCodec`), or the audio track of a media file (a `Blob`
   * or a {@link FileSource}, copied as it is; it must be Opus or AAC for MP4, Opus for WebM). Default: none.
   */
  audio?: MediaStreamTrack | Blob | FileSource;
  /** Codec for a live audio track. Default: `opus`. */
  audioCodec?: RecorderAudioCodec;
  /** Bitrate for a live audio track, in bits per second. Default: 128000. */
  audioBitrateBps?: number;
  /**
   * What `write()` does while the encoder is behind (starting, or slower than the frames arrive):
   * - `wait`: frames given while the encoder starts are held; after that `write()` resolves only when the encoder
   *   can take the next frame (backpressure: nothing is lost, a live source upstream drops instead);
   * - `drop`: `write()` never waits: frames are held until the encoder takes them, up to `maxBufferedFrames`, and
   *   a frame beyond that is dropped, counted in `stats.framesDropped` and announced once by the `behind` event.
   *
   * Held frames are copies, and with `drop` every frame is: the source's own buffers (a camera has a pool of a
   * few) go back at once. Default: `drop` in {@link Recorder.record} from a live source (`source.live`), `wait` otherwise.
   */
  whenBehind?: 'wait' | 'drop';
  /**
   * Most frames held while the encoder is behind. Each costs its size in memory (1.4 MB at 1280×720).
   * Default: 60.
   */
  maxBufferedFrames?: number;
}

/** Options of {@link Recorder.record}. */
export interface RecordOptions {
  /** Stops after this much media time (by frame timestamps), in ms. Default: until the source ends. */
  durationMs?: number;
  /** Stops after this many frames. Default: until the source ends. */
  maxFrames?: number;
  /** Stops when aborted. Default: none. */
  signal?: AbortSignal;
}

/** Counters of a {@link Recorder}. */
export interface RecorderStats {
  /** Frames given to the encoder. */
  framesWritten: number;
  /** Frames refused: of another size with `sizeChange: 'fail'`, or older than the previous frame. */
  framesRefused: number;
  /**
   * Frames lost because the encoder was behind: dropped by the recorder (`whenBehind: 'drop'`), or by the live
   * source of {@link Recorder.record} while the recorder was not reading.
   */
  framesDropped: number;
  /** Frames held now, waiting for the encoder. */
  framesBuffered: number;
  /** Encoded video bytes so far. */
  encodedBytes: number;
  /** Media time recorded so far, in µs (last frame timestamp minus first). */
  durationUs: number;
}

/** Events of a {@link Recorder}. */
export type RecorderEvents = {
  /** A failure; a fatal one stops the recording (`finalize()` then rejects with it). */
  error: { error: FramewireError; fatal: boolean };
  /** The codec was chosen and the encoder started (after the first frame). */
  start: { codec: RecorderVideoCodec; codecString: string; width: number; height: number };
  /** Frames are being lost because the encoder cannot keep up with them on average; emitted once per recording. */
  behind: { codec: RecorderVideoCodec | undefined; framesDropped: number };
};

/** A frame on its way to the encoder: the frame itself, or a copy being made. */
interface QueuedFrame {
  frame: Promise<VideoFrame>;
  /** Called once the encoder has taken the frame (or it was discarded). */
  taken: () => void;
}

interface HeldPacket {
  packet: EncodedPacket;
  meta: EncodedVideoChunkMetadata | undefined;
  timestampUs: number;
}

interface Pipeline {
  output: Output;
  encoder: WorkerVideoEncoder;
  video: EncodedVideoPacketSource;
  audio: AudioSource | undefined;
  audioPump: Promise<void>;
  target: Target;
  width: number;
  height: number;
}

/**
 * Records frames to a file — vidgear's `WriteGear`, in the browser: WebCodecs encodes in a Worker, mediabunny
 * writes MP4 (progressive or fragmented), WebM or MKV, to memory, OPFS, a file handle or an HTTP upload.
 *
 * The codec, size and encoder start with the first frame; frames that arrive meanwhile are held (as copies, so a
 * camera keeps its buffers) and encoded once it runs: a short clip keeps its first second. Every frame given is
 * owned by the recorder and closed by it. `finalize()` flushes and resolves with the `Blob` (or the target's handle, or an upload receipt).
 *
 * @example
 * ```ts
 * const cam = await Framewire.CameraSource.open({ width: 1280, height: 720, frameRate: 30 });
 * const rec = new Framewire.Recorder({ container: 'mp4', codec: 'avc', bitrateBps: 2_000_000 });
 * await rec.record(cam, { durationMs: 3000 });   // or cam.readable.pipeTo(rec.writable)
 * const file = await rec.finalize();             // a Blob
 * ```
 */
export class Recorder {
  readonly #options: RecorderOptions;
  readonly #container: RecorderContainer;
  readonly #fragmented: boolean;
  readonly #events = new TypedEmitter<RecorderEvents>();
  #pipeline: Promise<Pipeline> | undefined;
  #writer: RecordingWriter | undefined;
  #codec: RecorderVideoCodec | undefined;
  #failure: FramewireError | undefined;
  #finalizing: Promise<RecordingOutput> | undefined;
  #writable: WritableStream<VideoFrame> | undefined;
  #firstTimestampUs: number | undefined;
  #lastTimestampUs = 0;
  #framesWritten = 0;
  #framesRefused = 0;
  #framesDropped = 0;
  #sourceDropped = 0;
  #behindAnnounced = false;
  #size: { width: number; height: number } | undefined;
  #started = false;
  readonly #backlog: QueuedFrame[] = [];
  #pumping: Promise<void> | undefined;
  #roomWaiters: (() => void)[] = [];
  #keyFrameSent = false;
  #encodedBytes = 0;
  #held: HeldPacket | undefined;
  #video: EncodedVideoPacketSource | undefined;
  #ownedAudioFile: FileSource | undefined;
  #lastIntervalUs = 0;
  #muxing: Promise<void> = Promise.resolve();
  #muxPending = 0;
  #videoEndS = 0;
  #videoDone = false;
  #videoProgress: (() => void) | undefined;

  /** Checks the options; nothing starts until the first frame. Throws `FW_ERR_INVALID_OPTION`. */
  constructor(options: RecorderOptions = {}) {
    validate(options);
    this.#options = options;
    this.#container = options.container ?? 'mp4';
    const target = options.target ?? 'blob';
    const streaming = typeof target === 'object' && ('opfs' in target || 'upload' in target);
    assertOption(
      !(streaming && options.fragmented === false),
      'options.fragmented cannot be false for OPFS and upload targets: they are written fragment by fragment',
    );
    this.#fragmented = options.fragmented ?? streaming;
  }

  /**
   * Finalizes recordings that an interrupted session (crash, closed tab) left in OPFS: each is cut after its
   * last complete fragment, its journal removed, and it is returned. Recordings still being written by another
   * tab are left alone.
   */
  static recover(): Promise<RecoveredRecording[]> {
    return recoverRecordings();
  }

  /** The chosen video codec; `undefined` until the encoder has started (the `start` event). */
  get codec(): RecorderVideoCodec | undefined {
    return this.#codec;
  }

  /** The container. */
  get container(): RecorderContainer {
    return this.#container;
  }

  /** A snapshot of the counters. */
  get stats(): RecorderStats {
    return {
      framesWritten: this.#framesWritten,
      framesRefused: this.#framesRefused,
      framesDropped: this.#framesDropped + this.#sourceDropped,
      framesBuffered: this.#backlog.length,
      encodedBytes: this.#encodedBytes,
      durationUs: this.#firstTimestampUs === undefined ? 0 : this.#lastTimestampUs - this.#firstTimestampUs,
    };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof RecorderEvents>(event: E, listener: (payload: RecorderEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * A stream to pipe frames into (`source.readable.pipeTo(recorder.writable)`); closing it does not finalize,
   * aborting it cancels the recording.
   */
  get writable(): WritableStream<VideoFrame> {
    this.#writable ??= new WritableStream<VideoFrame>(
      {
        write: (frame) => this.write(frame),
        abort: () => this.cancel(),
      },
      { highWaterMark: 1 },
    );
    return this.#writable;
  }

  /**
   * Reads frames from `source` and records them until it ends, `durationMs` of media time or `maxFrames` frames
   * have passed, or `signal` aborts. The source stays open. Resolves with the counters; rejects with the first
   * failure (the frames recorded so far can still be finalized).
   */
  async record(source: FrameSource, options: RecordOptions = {}): Promise<RecorderStats> {
    const { durationMs, maxFrames, signal } = options;
    assertOption(durationMs === undefined || durationMs > 0, 'options.durationMs must be > 0');
    assertOption(
      maxFrames === undefined || (Number.isInteger(maxFrames) && maxFrames > 0),
      'options.maxFrames must be an integer > 0',
    );
    const whenBehind = this.#options.whenBehind ?? (source.live === true ? 'drop' : 'wait');
    let frames = 0;
    let startUs: number | undefined;
    const droppedBefore = source.stats.framesDropped;
    const countSourceDrops = (): void => {
      const dropped = source.stats.framesDropped - droppedBefore;
      if (dropped > 0) this.#sourceDropped = dropped;
    };
    while (!signal?.aborted) {
      const frame = await source.read();
      countSourceDrops();
      if (!frame) break;
      startUs ??= frame.timestamp;
      if (durationMs !== undefined && frame.timestamp - startUs >= durationMs * 1000) {
        frame.close();
        break;
      }
      await this.#accept(frame, whenBehind);
      if (this.#sourceDropped > 0) this.#announceBehind();
      if (maxFrames !== undefined && ++frames >= maxFrames) break;
    }
    return this.stats;
  }

  /**
   * Records one frame, taking ownership of it (it is always closed). Resolves when the recorder can take the
   * next one. Rejects with `FW_ERR_FRAME_SIZE_CHANGED` (non-fatal, with `sizeChange: 'fail'`), the recording's
   * fatal failure, or `FW_ERR_CLOSED` after `finalize()`/`cancel()`.
   */
  async write(frame: VideoFrame): Promise<void> {
    return this.#accept(frame, this.#options.whenBehind ?? 'wait');
  }

  async #accept(frame: VideoFrame, whenBehind: 'wait' | 'drop'): Promise<void> {
    if (this.#failure || this.#finalizing) {
      frame.close();
      throw this.#failure ?? new FramewireError('FW_ERR_CLOSED', 'The recorder is finalized', { stage: 'record' });
    }
    const size = (this.#size ??= recordingSize(this.#options, frame));
    if (frame.displayWidth !== size.width || frame.displayHeight !== size.height) {
      if (this.#options.sizeChange === 'fail') {
        const got = `${frame.displayWidth}x${frame.displayHeight}`;
        frame.close();
        this.#framesRefused++;
        const error = new FramewireError(
          'FW_ERR_FRAME_SIZE_CHANGED',
          `A ${got} frame reached a ${size.width}x${size.height} recording`,
          { fatal: false, stage: 'record', details: { width: size.width, height: size.height } },
        );
        this.#events.emit('error', { error, fatal: false });
        throw error;
      }
    }
    if (frame.timestamp <= this.#lastTimestampUs && this.#framesWritten > 0) {
      // Timestamps must increase; a frame from the past (a seek backwards) would corrupt the track.
      frame.close();
      this.#framesRefused++;
      return;
    }
    const limit = this.#options.maxBufferedFrames ?? 60;
    if (this.#backlog.length >= limit) {
      if (whenBehind === 'drop') {
        frame.close();
        this.#framesDropped++;
        this.#announceBehind();
        return;
      }
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
      try {
        this.#throwIfFailed();
      } catch (error) {
        frame.close();
        throw error;
      }
    }
    this.#firstTimestampUs ??= frame.timestamp;
    this.#lastTimestampUs = frame.timestamp;
    this.#framesWritten++;
    let pipeline = this.#pipeline;
    if (!pipeline) {
      pipeline = this.#pipeline = this.#startPipeline(size);
      pipeline.catch((error: unknown) => this.#fail(error));
    }
    // Straight to the encoder when it is running, nothing waits before this frame and the caller waits for it;
    // otherwise the frame is held as a copy, so that its source gets its buffer back now (a live source, `drop`,
    // is always copied: the encoder's queue would otherwise hold a camera's whole pool of buffers).
    const direct = whenBehind === 'wait' && this.#started && this.#backlog.length === 0;
    let taken!: () => void;
    const encoded = new Promise<void>((resolve) => (taken = resolve));
    this.#backlog.push({ frame: direct ? Promise.resolve(frame) : holdCopy(frame), taken });
    this.#pumping ??= this.#pump(pipeline);
    if (whenBehind === 'wait' && this.#started) await encoded;
    this.#throwIfFailed();
  }

  /** Moves held frames to the encoder, in order, as it takes them. */
  async #pump(starting: Promise<Pipeline>): Promise<void> {
    let current: QueuedFrame | undefined;
    try {
      const pipeline = await starting;
      while (this.#backlog[0] && !this.#failure) {
        current = this.#backlog[0];
        const frame = await current.frame;
        this.#backlog.shift();
        this.#roomWaiters.shift()?.();
        const keyFrame = !this.#keyFrameSent;
        this.#keyFrameSent = true;
        await pipeline.encoder.encode(frame, { keyFrame });
        current.taken();
        current = undefined;
        if (this.#muxPending > 8) await this.#muxing;
      }
    } catch (error) {
      this.#fail(error);
      current?.taken();
    } finally {
      this.#pumping = undefined;
      if (this.#failure) await this.#discardBacklog();
    }
  }

  /** Closes every held frame and wakes every waiting `write()` (after a failure or a cancel). */
  async #discardBacklog(): Promise<void> {
    const held = this.#backlog.splice(0);
    for (const wake of this.#roomWaiters.splice(0)) wake();
    for (const { frame, taken } of held) {
      (await frame).close();
      taken();
    }
  }

  #announceBehind(): void {
    if (this.#behindAnnounced) return;
    this.#behindAnnounced = true;
    const framesDropped = this.#framesDropped + this.#sourceDropped;
    log.warn(`the ${this.#codec ?? 'video'} encoder cannot keep up: frames are being dropped`, { framesDropped });
    this.#events.emit('behind', { codec: this.#codec, framesDropped });
  }

  // A method rather than an inline check: the failure is set by callbacks while this class awaits.
  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  /**
   * Flushes the encoder, completes the file and resolves with the result: a `Blob` (target `blob`), the
   * `FileSystemFileHandle` (OPFS and file targets) or an {@link UploadReceipt}. Idempotent. Rejects with the
   * recording's failure, or with `FW_ERR_ENCODE_FAILED` when no frame was recorded.
   */
  finalize(): Promise<RecordingOutput> {
    this.#finalizing ??= this.#finalize();
    return this.#finalizing;
  }

  /** Stops and discards the recording (partial OPFS files are deleted). Idempotent. */
  async cancel(): Promise<void> {
    this.#failure ??= new FramewireError('FW_ERR_CLOSED', 'The recording was cancelled', { stage: 'record' });
    this.#finalizing ??= Promise.reject(this.#failure);
    this.#finalizing.catch(() => undefined);
    await this.#teardown();
  }

  async #finalize(): Promise<RecordingOutput> {
    if (!this.#pipeline) {
      throw new FramewireError('FW_ERR_ENCODE_FAILED', 'No frame was written before finalize()', { stage: 'record' });
    }
    try {
      const pipeline = await this.#pipeline;
      while (this.#pumping) await this.#pumping;
      if (this.#failure) throw this.#failure;
      await pipeline.encoder.flush();
      this.#release(undefined);
      await this.#muxing;
      pipeline.video.close();
      this.#videoDone = true;
      this.#videoProgress?.();
      pipeline.audio?.close();
      await pipeline.audioPump;
      this.#throwIfFailed();
      await pipeline.output.finalize();
      pipeline.encoder.close();
      if (this.#writer) return await this.#writer.finish();
      const buffer = (pipeline.target as { buffer?: ArrayBuffer | null }).buffer;
      if (!buffer)
        throw new FramewireError('FW_ERR_WRITE_FAILED', 'The recording produced no bytes', { stage: 'write' });
      return new Blob([buffer], { type: await pipeline.output.getMimeType() });
    } catch (error) {
      const failure = this.#fail(error);
      await this.#teardown();
      throw failure;
    }
  }

  async #teardown(): Promise<void> {
    await this.#discardBacklog();
    await this.#ownedAudioFile?.close();
    const pipeline = await this.#pipeline?.catch(() => undefined);
    pipeline?.encoder.close();
    this.#videoDone = true;
    this.#videoProgress?.();
    if (pipeline && pipeline.output.state !== 'finalized' && pipeline.output.state !== 'canceled') {
      await pipeline.output.cancel().catch(() => undefined);
    }
    await this.#writer?.abort().catch(() => undefined);
  }

  #fail(error: unknown): FramewireError {
    const failure =
      error instanceof FramewireError
        ? error
        : new FramewireError('FW_ERR_WRITE_FAILED', `Recording failed: ${String(error)}`, {
            cause: error,
            fatal: true,
            stage: 'record',
          });
    if (!this.#failure && failure.code !== 'FW_ERR_CLOSED') {
      this.#failure = failure;
      this.#events.emit('error', { error: failure, fatal: true });
    }
    return this.#failure ?? failure;
  }

  async #startPipeline({ width, height }: { width: number; height: number }): Promise<Pipeline> {
    const options = this.#options;
    const mb = await mediabunnyApi();
    const frameRate = options.frameRate ?? 30;
    const bitrateBps = options.bitrateBps ?? Math.round(width * height * frameRate * 0.1);
    const wanted =
      options.codec === undefined ? [] : typeof options.codec === 'string' ? [options.codec] : [...options.codec];
    const fallback = typeof options.codec === 'string' || options.codec === undefined ? RECORDER_VIDEO_CODECS : [];
    const webm = this.#container === 'webm';
    const preferences = [...new Set([...wanted, ...fallback])].filter((c) => !(webm && c === 'avc'));
    assertOption(preferences.length > 0, 'options.codec: WebM cannot hold H.264; use vp9, vp8 or av1');
    const chosen = await chooseVideoCodec({
      preferences,
      width,
      height,
      frameRate,
      bitrateBps,
      hardwareAcceleration: options.hardwareAcceleration ?? 'no-preference',
      bitrateMode: options.bitrateMode ?? 'variable',
    });
    if (wanted[0] !== undefined && preferences.includes(wanted[0]) && chosen.codec !== wanted[0]) {
      log.warn(`this browser cannot encode ${wanted[0]}: recording ${chosen.codec} instead`);
    }
    this.#codec = chosen.codec;

    const { target, writer } = await this.#openTarget(mb);
    this.#writer = writer;
    const fragmentS = (options.fragmentDurationMs ?? 1000) / 1000;
    const checkpoint = (data: Uint8Array, position: number): void => writer?.checkpoint(position + data.byteLength);
    let format: OutputFormat;
    if (this.#container === 'mp4') {
      format = new mb.Mp4OutputFormat(
        this.#fragmented
          ? { fastStart: 'fragmented', minimumFragmentDuration: fragmentS, onMdat: checkpoint }
          : { fastStart: writer ? false : 'in-memory' },
      );
    } else {
      const matroska = this.#fragmented
        ? { appendOnly: true, minimumClusterDuration: fragmentS, onCluster: checkpoint }
        : { minimumClusterDuration: fragmentS };
      format = webm ? new mb.WebMOutputFormat(matroska) : new mb.MkvOutputFormat(matroska);
    }
    const output = new mb.Output({ format, target });
    const video = new mb.EncodedVideoPacketSource(chosen.codec);
    output.addVideoTrack(video, { frameRate });
    const audio = await this.#addAudio(mb, output);

    let encoder: WorkerVideoEncoder | undefined;
    try {
      encoder = await WorkerVideoEncoder.open({
        codec: chosen.codecString,
        width,
        height,
        bitrateBps,
        frameRate,
        bitrateMode: options.bitrateMode ?? 'variable',
        ...(options.quantizer === undefined ? {} : { quantizer: options.quantizer }),
        keyframeIntervalFrames: keyframeIntervalOf(options) ?? Math.max(1, Math.round(frameRate * 2)),
        latencyMode: options.latencyMode ?? 'realtime',
        hardwareAcceleration: options.hardwareAcceleration ?? 'no-preference',
      });
      await output.start();
    } catch (error) {
      encoder?.close();
      await output.cancel().catch(() => undefined);
      await writer?.abort();
      throw error;
    }
    this.#video = video;
    encoder.on('chunk', ({ chunk, decoderConfig }) => this.#onChunk(mb, chunk, decoderConfig));
    encoder.on('error', ({ error }) => this.#fail(error));
    this.#started = true;
    this.#events.emit('start', { codec: chosen.codec, codecString: chosen.codecString, width, height });
    // The file's audio packets go in once the output has started, paced by the video.
    const audioPump = audio.pump();
    audioPump.catch(() => undefined);
    return { output, encoder, video, audio: audio.source, audioPump, target, width, height };
  }

  async #openTarget(mb: Mediabunny): Promise<{ target: Target; writer: RecordingWriter | undefined }> {
    const target = this.#options.target ?? 'blob';
    if (target === 'blob') return { target: new mb.BufferTarget(), writer: undefined };
    let writer: RecordingWriter;
    if ('opfs' in target) {
      writer = await OpfsRecordingWriter.open(target.opfs, this.#container);
    } else if ('upload' in target) {
      writer = new HttpUploadWriter(target.upload, {
        ...(target.headers ? { headers: target.headers } : {}),
        ...(target.chunkBytes === undefined ? {} : { chunkBytes: target.chunkBytes }),
      });
    } else {
      writer = await fileHandleWriter(target.handle);
    }
    // mediabunny's chunk type says Uint8Array<ArrayBuffer>; ours accepts any Uint8Array.
    const writable = writer.writable as ConstructorParameters<Mediabunny['StreamTarget']>[0];
    return { target: new mb.StreamTarget(writable), writer };
  }

  async #addAudio(
    mb: Mediabunny,
    output: Output,
  ): Promise<{ source: AudioSource | undefined; pump: () => Promise<void> }> {
    const audio = this.#options.audio;
    const nothing = (): Promise<void> => Promise.resolve();
    if (audio === undefined) return { source: undefined, pump: nothing };
    if (audio instanceof MediaStreamTrack) {
      const codec = this.#options.audioCodec ?? 'opus';
      if (!output.format.getSupportedAudioCodecs().includes(codec) || !(await mb.canEncodeAudio(codec))) {
        throw new FramewireError(
          'FW_ERR_CODEC_UNSUPPORTED',
          `Cannot record ${codec} audio in ${this.#container} here`,
          {
            fatal: true,
            stage: 'encode',
          },
        );
      }
      const source = new mb.MediaStreamAudioTrackSource(audio as MediaStreamAudioTrack, {
        codec,
        // A bitrate in bits per second; mediabunny marks plain numbers deprecated in favour of quality presets.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        bitrate: this.#options.audioBitrateBps ?? 128_000,
      });
      source.errorPromise.catch((error: unknown) => this.#fail(error));
      output.addAudioTrack(source);
      return { source, pump: nothing };
    }
    const file = audio instanceof FileSource ? audio : await FileSource.open(audio, { queue: { capacity: 1 } });
    const ownsFile = !(audio instanceof FileSource);
    // Closed when the audio is copied, or by a teardown that comes first.
    if (ownsFile) this.#ownedAudioFile = file;
    const track = audioTrackOf(file);
    if (!track) {
      if (ownsFile) await file.close();
      throw new FramewireError('FW_ERR_MEDIA_UNREADABLE', 'options.audio: the file has no audio track', {
        fatal: true,
        stage: 'demux',
      });
    }
    const codec = await track.getCodec();
    if (!codec || !output.format.getSupportedAudioCodecs().includes(codec)) {
      if (ownsFile) await file.close();
      throw new FramewireError(
        'FW_ERR_CODEC_UNSUPPORTED',
        `options.audio: ${codec ?? 'unknown'} audio cannot go into ${this.#container} without re-encoding`,
        { fatal: true, stage: 'mux' },
      );
    }
    const source = new mb.EncodedAudioPacketSource(codec);
    output.addAudioTrack(source);
    const pump = (): Promise<void> =>
      this.#copyAudio(mb, track, source).finally(() => (ownsFile ? file.close() : undefined));
    return { source, pump };
  }

  /** Copies a file's audio packets, never running ahead of the recorded video (nor past its end). */
  async #copyAudio(mb: Mediabunny, track: InputAudioTrack, source: EncodedAudioPacketSource): Promise<void> {
    const sink = new mb.EncodedPacketSink(track);
    const decoderConfig = (await track.getDecoderConfig()) ?? undefined;
    let packet = await sink.getFirstPacket();
    let first = true;
    const startS = packet?.timestamp ?? 0;
    while (packet && !this.#failure) {
      const at = packet.timestamp - startS;
      while (!this.#videoDone && at > this.#videoEndS) {
        await new Promise<void>((resolve) => (this.#videoProgress = resolve));
      }
      if (this.#videoDone && at >= this.#videoEndS) break;
      await source.add(packet.clone({ timestamp: at }), first && decoderConfig ? { decoderConfig } : undefined);
      first = false;
      packet = await sink.getNextPacket(packet);
    }
  }

  /**
   * Chunks are held back by one, so that each packet's duration is the gap to the next frame (the last one
   * reuses the previous gap): the file's duration then covers the last frame too.
   */
  #onChunk(mb: Mediabunny, chunk: EncodedVideoChunk, decoderConfig: VideoDecoderConfig | undefined): void {
    this.#encodedBytes += chunk.byteLength;
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const timestampUs = chunk.timestamp - (this.#firstTimestampUs ?? 0);
    const packet = new mb.EncodedPacket(data, chunk.type, timestampUs / 1e6, 0);
    this.#release({ packet, meta: decoderConfig ? { decoderConfig } : undefined, timestampUs });
  }

  /** Sends the held packet to the muxer, with the gap to `next` as its duration; `next` is held in turn. */
  #release(next: HeldPacket | undefined): void {
    const held = this.#held;
    this.#held = next;
    const target = this.#video;
    if (!held || !target) return;
    const gapUs = next ? next.timestampUs - held.timestampUs : this.#lastIntervalUs;
    if (next && gapUs > 0) this.#lastIntervalUs = gapUs;
    const durationUs = gapUs > 0 ? gapUs : Math.round(1e6 / (this.#options.frameRate ?? 30));
    const packet = held.packet.clone({ duration: durationUs / 1e6 });
    this.#videoEndS = (held.timestampUs + durationUs) / 1e6;
    this.#muxPending++;
    this.#muxing = this.#muxing
      .then(() => target.add(packet, held.meta))
      .then(
        () => {
          this.#muxPending--;
          this.#videoProgress?.();
        },
        (error: unknown) => {
          this.#muxPending--;
          this.#fail(error);
        },
      );
  }
}

/** The recording's size: the options', or the first frame's rounded down to even. */
function recordingSize(options: RecorderOptions, first: VideoFrame): { width: number; height: number } {
  const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
  return { width: options.width ?? even(first.displayWidth), height: options.height ?? even(first.displayHeight) };
}

/** A copy of `frame` that holds none of its source's memory (`frame` is closed), with its capture stamp. */
async function holdCopy(frame: VideoFrame): Promise<VideoFrame> {
  const held = await holdFrame(frame);
  const copy = copyCaptureTime(frame, held.toFrame());
  held.release();
  return copy;
}

/** A writer over a user-picked file: mediabunny writes (with seeks) into its writable stream. */
async function fileHandleWriter(handle: FileSystemFileHandle): Promise<RecordingWriter> {
  let writable: FileSystemWritableFileStream;
  try {
    writable = await handle.createWritable();
  } catch (error) {
    throw new FramewireError('FW_ERR_WRITE_FAILED', `Cannot write to ${handle.name}: ${String(error)}`, {
      cause: error,
      fatal: true,
      stage: 'write',
    });
  }
  return {
    // FileSystemWritableFileStream takes `{ type: 'write', data, position }` natively, as mediabunny sends it.
    writable: writable as unknown as WritableStream<TargetChunk>,
    checkpoint: () => undefined,
    finish: () => Promise.resolve(handle),
    abort: async () => {
      await writable.abort().catch(() => undefined);
    },
  };
}

function validate(options: RecorderOptions): void {
  assertOption(
    options.container === undefined || CONTAINERS.includes(options.container),
    `options.container must be one of ${CONTAINERS.join(', ')}; got ${String(options.container)}`,
  );
  const codecs = options.codec === undefined ? [] : typeof options.codec === 'string' ? [options.codec] : options.codec;
  assertOption(
    Array.isArray(codecs) || typeof options.codec === 'string',
    'options.codec must be a codec or a list of codecs',
  );
  for (const codec of codecs as readonly unknown[]) {
    assertOption(
      (RECORDER_VIDEO_CODECS as readonly unknown[]).includes(codec),
      `options.codec must be one of ${RECORDER_VIDEO_CODECS.join(', ')}; got ${String(codec)}`,
    );
  }
  for (const key of ['bitrateBps', 'frameRate', 'fragmentDurationMs', 'audioBitrateBps'] as const) {
    const value = options[key];
    assertOption(
      value === undefined || (Number.isFinite(value) && value > 0),
      `options.${key} must be > 0; got ${String(value)}`,
    );
  }
  for (const key of ['width', 'height'] as const) {
    const value = options[key];
    assertOption(
      value === undefined || (Number.isInteger(value) && value >= 2 && value % 2 === 0),
      `options.${key} must be an even integer ≥ 2; got ${String(value)}`,
    );
  }
  assertOption(
    keyframeIntervalOf(options) === undefined ||
      (Number.isInteger(keyframeIntervalOf(options)) && (keyframeIntervalOf(options) ?? 0) > 0),
    'options.keyframeIntervalFrames must be an integer > 0',
  );
  assertOption(
    options.bitrateMode === undefined || ['constant', 'variable', 'quantizer'].includes(options.bitrateMode),
    `options.bitrateMode must be constant, variable or quantizer; got ${String(options.bitrateMode)}`,
  );
  assertOption(
    options.whenBehind === undefined || (['wait', 'drop'] as unknown[]).includes(options.whenBehind),
    `options.whenBehind must be 'wait' or 'drop'; got ${String(options.whenBehind)}`,
  );
  assertOption(
    options.maxBufferedFrames === undefined ||
      (Number.isInteger(options.maxBufferedFrames) && options.maxBufferedFrames >= 1),
    'options.maxBufferedFrames must be an integer ≥ 1',
  );
  assertOption(
    options.sizeChange === undefined || (['scale', 'fail'] as unknown[]).includes(options.sizeChange),
    `options.sizeChange must be 'scale' or 'fail'; got ${String(options.sizeChange)}`,
  );
  assertOption(
    options.audioCodec === undefined || (['opus', 'aac'] as unknown[]).includes(options.audioCodec),
    `options.audioCodec must be 'opus' or 'aac'; got ${String(options.audioCodec)}`,
  );
  const target = options.target;
  assertOption(
    target === undefined ||
      target === 'blob' ||
      (typeof target === 'object' &&
        (('opfs' in target && typeof target.opfs === 'string' && /^[\w.-]+$/.test(target.opfs)) ||
          'upload' in target ||
          'handle' in target)),
    "options.target must be 'blob', { opfs: 'name.mp4' } (letters, digits, . _ -), { handle } or { upload: url }",
  );
  if (options.audio !== undefined) {
    assertOption(
      options.audio instanceof Blob ||
        options.audio instanceof FileSource ||
        (options.audio instanceof MediaStreamTrack && options.audio.kind === 'audio'),
      'options.audio must be an audio MediaStreamTrack, a media file Blob or a FileSource',
    );
  }
}
