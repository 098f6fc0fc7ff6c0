import { FramewireError, TypedEmitter, createLogger } from '@framewire/core';
import { mediabunnyApi, type MediabunnyApi as Mediabunny } from '../../core/mediabunny-loader.js';
import { chooseVideoCodec } from '../../encoders/codec-probe.js';
import { audioTrackOf, isDemuxedInput, videoTrackOf, type DemuxedInput } from '../../core/demuxed-input.js';
import { FileSource } from '../../sources/file-source.js';
import { ManifestPublisher } from './manifest-publisher.js';
import { segmentPath, type SegmentRecord } from './package-model.js';
import { originUploadWriter } from './origin-upload-writer.js';
import { memoryWriter, opfsWriter, type PackageWriter } from './package-writer.js';
import {
  resolveLadder,
  validatePackagerOptions,
  type PackagerOptions,
  type PackagerVideoCodec,
} from './packager-options.js';
import type { PackagerRun } from './packager-run.js';
import { TrackPackager } from './track-packager.js';
import { VideoRendition } from './video-rendition.js';
import type { FrameSource } from '../../core/frame-source.js';
import type { InputAudioTrack } from 'mediabunny';

const log = createLogger('packager');
const CMAF_VIDEO = ['avc', 'vp9', 'av1'];
const CMAF_AUDIO = ['aac', 'opus'];

/**
 * Progress of a {@link Packager}. A file (`package()`) has a known length, so it gets `percent` and `etaS`; a live
 * package (`start()`) has them only when `options.durationS` sets its length, and otherwise reports elapsed media
 * time, rate and segments.
 */
export interface PackagerProgress {
  /** Share done, 0–100: of the file, or of `options.durationS` live; `null` live without `durationS`. */
  percent: number | null;
  /** Media time packaged so far, in seconds (from the first frame). */
  mediaTimeS: number;
  /** Frames (or, when copying, video packets) per second since the start. */
  fps: number;
  /** Estimated seconds left; `null` live without `options.durationS`, or before the first measurement. */
  etaS: number | null;
  /** Media segments written to the target so far, every track (each rendition and the audio) counted. */
  segmentsWritten: number;
}

/** What {@link Packager.package} and {@link Packager.stop} resolve with. */
export interface PackageResult {
  /** Whether the video was copied without re-encoding. */
  transmuxed: boolean;
  /** Duration of the packaged media, in seconds. */
  durationS: number;
  /** The video renditions (size, nominal bitrate, codec string read from the init segment). */
  renditions: { id: string; width: number; height: number; bitrateBps: number; codec: string }[];
  /** The audio track's id (`a0`), when there is one. */
  audio: string | null;
  /** Every file on the target, manifests included (paths relative to the package root). */
  paths: string[];
}

/** Events of a {@link Packager}. */
export type PackagerEvents = {
  /** Progress, about four times a second. */
  progress: PackagerProgress;
  /** A media segment was written to the target. */
  segment: { trackId: string; number: number; path: string; durationS: number };
  /** Manifests were written (once for VOD, after each segment for live). */
  manifest: { paths: string[] };
  /**
   * The package is finished and its last manifests are written: `package()` resolves, or a live package stopped
   * (by `stop()`, `options.durationS` or the end of its source). `stop()` resolves with the same result.
   */
  ended: { result: PackageResult };
  /** A failure; a fatal one stops packaging (`package()`/`stop()` reject with it). */
  error: { error: FramewireError; fatal: boolean };
};

type State = 'idle' | 'running' | 'done' | 'failed';

/**
 * Packages video as DASH and HLS in the browser — vidgear's `StreamGear`, without ffmpeg. One set of CMAF
 * segments (an init segment and numbered `.m4s` segments per track) is described by both a DASH MPD
 * (`manifest.mpd`) and HLS playlists (`master.m3u8`, `<track>/index.m3u8`).
 *
 * Two modes, as StreamGear's: `package(file)` (single source: a whole file, copied without re-encoding when the
 * codec and ladder allow it, transcoded otherwise; progress and cancel) and `start(source)` … `stop()` (real time:
 * any frame source, live manifests with a sliding window, until stopped). The ladder's renditions are encoded in
 * parallel, each in its own Worker, with key frames forced at every segment boundary, so they are GOP-aligned.
 *
 * Manifests only ever list segments already written to the target. A Packager runs once.
 *
 * @example
 * ```ts
 * const pkg = new Framewire.Packager({ formats: ['dash', 'hls'], segmentDurationS: 2,
 *   ladder: [{ width: 1280, height: 720 }, { width: 640, height: 360 }] });
 * await pkg.package(await Framewire.FileSource.open(file));
 * pkg.files.get('manifest.mpd'); // a Blob; also master.m3u8, v0/init.mp4, v0/seg-1.m4s, …
 * ```
 */
export class Packager {
  readonly #options: PackagerOptions;
  readonly #events = new TypedEmitter<PackagerEvents>();
  readonly #files = new Map<string, Blob>();
  readonly #segmentDurationS: number;
  #state: State = 'idle';
  #failure: FramewireError | undefined;
  #run: PackagerRun | undefined;
  #liveLoop: Promise<void> | undefined;
  #stopRequested = false;
  #stopping: Promise<PackageResult> | undefined;
  #publishing: Promise<void> = Promise.resolve();
  #publishQueued = false;
  readonly #manifests: ManifestPublisher;
  #mediaEndUs = 0;
  #startedMs = 0;
  #units = 0;
  #segmentsWritten = 0;
  #lastProgressMs = 0;
  /** Source timestamp (µs) of media time 0: the first frame or packet. */
  #originUs = 0;
  #audioCopy: (() => Promise<void>) | undefined;

  /** Checks the options (throws `FW_ERR_INVALID_OPTION` naming the bad one); nothing starts yet. */
  constructor(options: PackagerOptions = {}) {
    validatePackagerOptions(options);
    this.#options = options;
    this.#segmentDurationS = options.segmentDurationS ?? 2;
    this.#manifests = new ManifestPublisher(options);
  }

  /**
   * The package, with the default `memory` target: path → `Blob` (`manifest.mpd`, `master.m3u8`,
   * `v0/index.m3u8`, `v0/init.mp4`, `v0/seg-1.m4s`, …). Grows while a live package runs; empty for other targets.
   */
  get files(): Map<string, Blob> {
    return this.#files;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof PackagerEvents>(event: E, listener: (payload: PackagerEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Packages a whole file (VOD: static MPD, `PLAYLIST-TYPE:VOD` playlists). Resolves when every file is written.
   * The source stays open (close it yourself). Rejects with `FW_ERR_CODEC_UNSUPPORTED` (no encoder for
   * `options.codec`, or a file audio codec CMAF cannot carry), `FW_ERR_SOURCE_ENDED_EARLY` (the file ended well
   * before its stated duration), the source's own decoding failure, `FW_ERR_WRITE_FAILED` (the target refused a
   * file), or `FW_ERR_CLOSED` when cancelled (`cancel()` or `signal`). On failure the files written so far are
   * removed and no manifest is left behind.
   */
  async package(source: FileSource, options: { signal?: AbortSignal } = {}): Promise<PackageResult> {
    if (!isDemuxedInput(source)) {
      throw new FramewireError('FW_ERR_INVALID_OPTION', 'package() takes a FileSource; use start() for live sources', {
        stage: 'package',
      });
    }
    this.#claim();
    const onAbort = (): void => void this.cancel();
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    const unsubscribe = source.on('error', ({ error, fatal }) => {
      if (fatal) this.#fail(error);
    });
    try {
      const run = await this.#prepare(false, source);
      const copy = this.#canTransmux(source);
      run.transmuxed = copy;
      if (copy) await this.#transmux(run, source);
      else await this.#transcode(run, source, source.durationUs);
      this.#throwIfFailed();
      const endGapUs = source.durationUs - this.#mediaEndUs;
      if (source.durationUs > 0 && endGapUs > Math.max(250_000, 2e6 / run.frameRate)) {
        throw new FramewireError(
          'FW_ERR_SOURCE_ENDED_EARLY',
          `The file ended at ${(this.#mediaEndUs / 1e6).toFixed(2)} s of its ${(source.durationUs / 1e6).toFixed(2)} s`,
          { fatal: true, stage: 'package', details: { endUs: this.#mediaEndUs, durationUs: source.durationUs } },
        );
      }
      return await this.#finish(run, 100);
    } catch (error) {
      const failure = this.#fail(error);
      await this.#abandon(true);
      throw failure;
    } finally {
      unsubscribe();
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Starts packaging a live source (dynamic MPD, sliding-window HLS playlists with `PROGRAM-DATE-TIME`), reading
   * frames until `stop()`, the end of the source, or `options.durationS` of media (at either end it stops by itself,
   * as `stop()` does: the `ended` event carries the result, `stop()` returns it); resolves once the renditions are
   * set up (on the first frame).
   * Frames may change size mid-stream: each rendition keeps its size, the picture is scaled into it with its aspect
   * ratio kept (black bars where the shapes differ).
   * Frames are closed by the packager. Failures arrive as `error` events and make `stop()` reject, except a write
   * the target refused (after its retries): that is a non-fatal `FW_ERR_WRITE_FAILED` event, the segment is lost
   * and packaging goes on (manifests list only what follows the last lost segment). Rejects with
   * `FW_ERR_SOURCE_ENDED_EARLY` when the source ends before its first frame, `FW_ERR_CODEC_UNSUPPORTED` or
   * `FW_ERR_WRITE_FAILED`.
   */
  async start(source: FrameSource): Promise<void> {
    this.#claim();
    try {
      const first = await source.read();
      if (!first) {
        throw new FramewireError('FW_ERR_SOURCE_ENDED_EARLY', 'The source ended before its first frame', {
          fatal: true,
          stage: 'package',
        });
      }
      let run: PackagerRun;
      try {
        run = await this.#prepare(true, source, first);
      } catch (error) {
        first.close();
        throw error;
      }
      const limitS = this.#options.durationS;
      this.#liveLoop = this.#encodeFrames(run, source, first, limitS === undefined ? null : limitS * 1e6).then(
        (finished) => {
          // The set duration is packaged, or the source ended: finish by itself (stop() returns this same promise).
          if (finished) void this.stop().catch(() => undefined);
        },
        (error: unknown) => {
          this.#fail(error);
        },
      );
    } catch (error) {
      const failure = this.#fail(error);
      await this.#abandon(false);
      throw failure;
    }
  }

  /**
   * Stops a live package: the frames read so far are encoded, the last segments written, and the manifests
   * marked as ended (HLS `ENDLIST`, MPD `mediaPresentationDuration`). Idempotent. Rejects with the first fatal
   * failure of the run.
   */
  stop(): Promise<PackageResult> {
    this.#stopping ??= (async () => {
      this.#stopRequested = true;
      await this.#liveLoop;
      const run = this.#run;
      try {
        if (!run) throw this.#failure ?? new FramewireError('FW_ERR_CLOSED', 'Nothing was started', {});
        this.#throwIfFailed();
        return await this.#finish(run, this.#options.durationS === undefined ? null : 100);
      } catch (error) {
        const failure = this.#fail(error);
        await this.#abandon(false);
        throw failure;
      }
    })();
    return this.#stopping;
  }

  /** Stops packaging and discards it: `package()` rejects with `FW_ERR_CLOSED` and its files are removed. Idempotent. */
  async cancel(): Promise<void> {
    if (this.#state === 'done' || this.#state === 'idle') {
      this.#state = this.#state === 'idle' ? 'failed' : this.#state;
      return;
    }
    this.#fail(new FramewireError('FW_ERR_CLOSED', 'Packaging was cancelled', { stage: 'package' }));
    this.#stopRequested = true;
    await this.#liveLoop;
  }

  // ── set-up ────────────────────────────────────────────────────────────────────────────────────────────────

  #claim(): void {
    if (this.#state !== 'idle') {
      throw new FramewireError('FW_ERR_CLOSED', 'A Packager runs once; create another one', { stage: 'package' });
    }
    this.#state = 'running';
    this.#startedMs = performance.now();
  }

  async #openWriter(): Promise<PackageWriter> {
    const target = this.#options.target ?? 'memory';
    if (target === 'memory') return memoryWriter(this.#files);
    if ('opfs' in target) return opfsWriter(target.opfs);
    return originUploadWriter(target);
  }

  #canTransmux(source: DemuxedInput): boolean {
    if (this.#options.transmux === 'never' || source.rotation !== 0) return false;
    if (!CMAF_VIDEO.includes(source.codec)) return false;
    const ladder = this.#options.ladder;
    if (!ladder) return true;
    const only = ladder.length === 1 ? ladder[0] : undefined;
    return !!only && only.width === source.width && only.height === source.height && !only.bitrateBps;
  }

  async #prepare(live: boolean, source: FrameSource, first?: VideoFrame): Promise<PackagerRun> {
    const mb = await mediabunnyApi();
    const writer = await this.#openWriter();
    let frameRate = this.#options.frameRate ?? 30;
    let width = first?.displayWidth ?? 0;
    let height = first?.displayHeight ?? 0;
    if (isDemuxedInput(source)) {
      width = source.width;
      height = source.height;
      if (this.#options.frameRate === undefined) {
        const stats = await videoTrackOf(source)
          .computePacketStats(120)
          .catch(() => null);
        if (stats && stats.averagePacketRate > 0) frameRate = Math.round(stats.averagePacketRate * 1000) / 1000;
      }
    }
    const run: PackagerRun = {
      mb,
      writer,
      live,
      frameRate,
      videoTracks: [],
      renditions: [],
      ladder: [],
      nominalBps: new Map(),
      audioTrack: undefined,
      audioInfo: undefined,
      audioCodecString: undefined,
      audioPump: Promise.resolve(),
      micSource: undefined,
      transmuxed: false,
    };
    this.#run = run;
    await this.#prepareAudio(run, source);
    const copy = isDemuxedInput(source) && this.#canTransmux(source);
    if (copy) {
      run.ladder = [{ id: 'v0', width, height, bitrateBps: 0 }];
      run.videoTracks.push(this.#track(run, 'v0', 'video'));
    } else {
      run.ladder = resolveLadder(this.#options, width, height, frameRate);
      const codec: PackagerVideoCodec = this.#options.codec ?? 'avc';
      const largest = run.ladder[0] ?? { width, height, bitrateBps: 1 };
      await chooseVideoCodec({
        preferences: [codec],
        width: largest.width,
        height: largest.height,
        frameRate,
        bitrateBps: largest.bitrateBps,
      });
      for (const rung of run.ladder) {
        const track = this.#track(run, rung.id, 'video');
        run.videoTracks.push(track);
        run.nominalBps.set(rung.id, rung.bitrateBps);
        run.renditions.push(
          await VideoRendition.create(
            mb,
            rung,
            codec,
            frameRate,
            track,
            () => this.#originUs,
            (error) => this.#fail(error),
          ),
        );
      }
      for (const track of run.videoTracks) await track.output.start();
    }
    if (run.audioTrack) await run.audioTrack.output.start();
    if (live) this.#manifests.availabilityStartMs = Date.now();
    return run;
  }

  #track(run: PackagerRun, id: string, type: 'video' | 'audio'): TrackPackager {
    return new TrackPackager(run.mb, {
      id,
      type,
      live: run.live,
      segmentDurationS: this.#segmentDurationS,
      writer: run.writer,
      onSegment: (track, segment) => this.#onSegment(track, segment),
      onError: (error) => this.#fail(error),
      ...(run.live ? { onWriteFailed: (error: FramewireError) => this.#reportWriteFailure(error) } : {}),
    });
  }

  async #prepareAudio(run: PackagerRun, source: FrameSource): Promise<void> {
    const option = this.#options.audio;
    if (option === false) return;
    const { mb } = run;
    if (option instanceof MediaStreamTrack) {
      const codec = this.#options.audioCodec ?? 'opus';
      if (!(await mb.canEncodeAudio(codec))) {
        throw new FramewireError('FW_ERR_CODEC_UNSUPPORTED', `This browser cannot encode ${codec} audio`, {
          fatal: true,
          stage: 'encode',
        });
      }
      const track = this.#track(run, 'a0', 'audio');
      const settings = option.getSettings();
      const mic = new mb.MediaStreamAudioTrackSource(option as MediaStreamAudioTrack, {
        codec,
        // A bitrate in bits per second; mediabunny marks plain numbers deprecated in favour of quality presets.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        bitrate: this.#options.audioBitrateBps ?? 128_000,
      });
      mic.errorPromise.catch((error: unknown) => this.#fail(error));
      track.output.addAudioTrack(mic);
      run.audioTrack = track;
      run.micSource = mic;
      run.audioInfo = { sampleRate: settings.sampleRate ?? 48_000, channels: settings.channelCount ?? 1 };
      run.nominalBps.set('a0', this.#options.audioBitrateBps ?? 128_000);
      return;
    }
    let file: DemuxedInput | undefined;
    let owned = false;
    if (isDemuxedInput(option)) file = option;
    else if (option instanceof Blob) {
      file = await FileSource.open(option, { queue: { capacity: 1 } });
      owned = true;
    } else if (isDemuxedInput(source)) file = source;
    const audio = file?.audio;
    if (!file || !audio) {
      if (owned) await file?.close();
      if (option !== undefined) {
        throw new FramewireError('FW_ERR_MEDIA_UNREADABLE', 'options.audio: the file has no audio track', {
          fatal: true,
          stage: 'demux',
        });
      }
      return;
    }
    if (!audio.codec || !CMAF_AUDIO.includes(audio.codec)) {
      if (owned) await file.close();
      throw new FramewireError(
        'FW_ERR_CODEC_UNSUPPORTED',
        `${audio.codec ?? 'unknown'} audio cannot be packaged without re-encoding; use AAC or Opus`,
        { fatal: true, stage: 'package', details: { codec: audio.codec } },
      );
    }
    const track = this.#track(run, 'a0', 'audio');
    const packets = new mb.EncodedAudioPacketSource(audio.codec as 'aac' | 'opus');
    track.output.addAudioTrack(packets);
    run.audioTrack = track;
    run.audioInfo = { sampleRate: audio.sampleRate, channels: audio.channels };
    const audioTrack = audioTrackOf(file);
    if (!audioTrack) throw new FramewireError('FW_ERR_CLOSED', 'The audio file was closed', { stage: 'demux' });
    const decoderConfig = await audioTrack.getDecoderConfig();
    run.audioCodecString = decoderConfig?.codec;
    run.audioPump = Promise.resolve();
    // Started by #startAudioCopy once the video origin is known.
    this.#audioCopy = () =>
      this.#copyAudio(run, audioTrack, packets, decoderConfig ?? undefined).finally(() =>
        owned ? file.close() : undefined,
      );
  }

  #startAudioCopy(run: PackagerRun): void {
    const copy = this.#audioCopy;
    this.#audioCopy = undefined;
    if (!copy) return;
    run.audioPump = copy().catch((error: unknown) => {
      this.#fail(error);
    });
  }

  async #copyAudio(
    run: PackagerRun,
    track: InputAudioTrack,
    packets: InstanceType<Mediabunny['EncodedAudioPacketSource']>,
    decoderConfig: AudioDecoderConfig | undefined,
  ): Promise<void> {
    const sink = new run.mb.EncodedPacketSink(track);
    let packet = await sink.getFirstPacket();
    let first = true;
    const originS = this.#originUs / 1e6;
    while (packet && !this.#failure) {
      const at = packet.timestamp - originS;
      if (at >= 0) {
        await packets.add(packet.clone({ timestamp: at }), first && decoderConfig ? { decoderConfig } : undefined);
        first = false;
        await run.audioTrack?.drain();
      }
      packet = await sink.getNextPacket(packet);
    }
    packets.close();
  }

  // ── the two pipelines ─────────────────────────────────────────────────────────────────────────────────────

  async #transmux(run: PackagerRun, source: DemuxedInput): Promise<void> {
    const { mb } = run;
    const track = run.videoTracks[0];
    if (!track) return;
    const videoTrack = videoTrackOf(source);
    const codec = source.codec as 'avc' | 'vp9' | 'av1';
    const packets = new mb.EncodedVideoPacketSource(codec);
    track.output.addVideoTrack(packets, { frameRate: run.frameRate });
    await track.output.start();
    const decoderConfig = (await videoTrack.getDecoderConfig()) ?? undefined;
    const sink = new mb.EncodedPacketSink(videoTrack);
    let packet = await sink.getFirstPacket();
    this.#originUs = Math.round((packet?.timestamp ?? 0) * 1e6);
    this.#startAudioCopy(run);
    let first = true;
    while (packet && !this.#failure) {
      const at = packet.timestamp - this.#originUs / 1e6;
      await packets.add(packet.clone({ timestamp: at }), first && decoderConfig ? { decoderConfig } : undefined);
      first = false;
      this.#mediaEndUs = Math.max(this.#mediaEndUs, Math.round((packet.timestamp + packet.duration) * 1e6));
      this.#units++;
      this.#progressFor(source.durationUs);
      await track.drain();
      packet = await sink.getNextPacket(packet).catch((error: unknown) => {
        throw new FramewireError('FW_ERR_MEDIA_UNREADABLE', `Reading the file failed: ${String(error)}`, {
          cause: error,
          fatal: true,
          stage: 'demux',
        });
      });
    }
    packets.close();
  }

  async #transcode(run: PackagerRun, source: DemuxedInput, durationUs: number): Promise<void> {
    const first = await source.read();
    if (!first) {
      this.#throwIfFailed();
      throw new FramewireError('FW_ERR_SOURCE_ENDED_EARLY', 'The file delivered no frame', {
        fatal: true,
        stage: 'package',
      });
    }
    await this.#encodeFrames(run, source, first, durationUs);
  }

  /**
   * Reads frames from `source` (starting with `first`) into every rendition, forcing key frames at boundaries.
   * `durationUs`: the expected length, for progress; live, also where reading stops. Resolves with whether reading
   * ended by itself (that length reached, or the source's end) rather than by `stop()` or a failure.
   */
  async #encodeFrames(
    run: PackagerRun,
    source: FrameSource,
    first: VideoFrame,
    durationUs: number | null,
  ): Promise<boolean> {
    const segmentUs = this.#segmentDurationS * 1e6;
    this.#originUs = first.timestamp;
    this.#startAudioCopy(run);
    let nextKeyUs = 0;
    let lastUs = -Infinity;
    let frame: VideoFrame | null = first;
    while (frame) {
      if (this.#failure || (this.#stopRequested && frame !== first)) {
        frame.close();
        break;
      }
      if (frame.timestamp <= lastUs) {
        const error = new FramewireError(
          'FW_ERR_TIMESTAMP_NOT_MONOTONIC',
          `A frame at ${frame.timestamp} µs came after one at ${lastUs} µs; it was dropped`,
          { fatal: false, stage: 'package', details: { timestampUs: frame.timestamp, previousUs: lastUs } },
        );
        frame.close();
        this.#events.emit('error', { error, fatal: false });
      } else {
        lastUs = frame.timestamp;
        const at = frame.timestamp - this.#originUs;
        if (run.live && durationUs !== null && at >= durationUs) {
          frame.close();
          return true;
        }
        const keyFrame = at >= nextKeyUs;
        while (nextKeyUs <= at) nextKeyUs += segmentUs;
        await this.#encodeEverywhere(run, frame, keyFrame);
        this.#mediaEndUs = frame.timestamp + Math.round(1e6 / run.frameRate);
        this.#units++;
        this.#progressFor(durationUs);
      }
      frame = this.#shouldStop() ? null : await source.read();
    }
    return !this.#shouldStop();
  }

  async #encodeEverywhere(run: PackagerRun, frame: VideoFrame, keyFrame: boolean): Promise<void> {
    const renditions = run.renditions;
    let handedOver = false;
    try {
      for (let i = 0; i < renditions.length; i++) {
        const rendition = renditions[i];
        if (!rendition) continue;
        const last = i === renditions.length - 1;
        const copy = last ? frame : frame.clone();
        if (last) handedOver = true;
        await rendition.encode(copy, keyFrame);
      }
    } finally {
      if (!handedOver) frame.close();
    }
  }

  async #finishTracks(run: PackagerRun): Promise<void> {
    await Promise.all(run.renditions.map((r) => r.finish()));
    this.#throwIfFailed();
    run.micSource?.close();
    await run.audioPump;
    this.#throwIfFailed();
    const tracks = [...run.videoTracks, ...(run.audioTrack ? [run.audioTrack] : [])];
    await Promise.all(tracks.map((t) => t.output.finalize()));
    await Promise.all(tracks.map((t) => t.settled()));
    this.#throwIfFailed();
  }

  // ── manifests ─────────────────────────────────────────────────────────────────────────────────────────────

  #onSegment(track: TrackPackager, segment: SegmentRecord): void {
    const durationS = segment.durationTicks / track.timescale;
    this.#segmentsWritten++;
    this.#manifests.noteSegmentDuration(durationS);
    this.#events.emit('segment', {
      trackId: track.id,
      number: segment.number,
      path: segmentPath(track.id, segment.number),
      durationS,
    });
    if (this.#run?.live && !this.#failure) this.#schedulePublish();
  }

  #schedulePublish(): void {
    if (this.#publishQueued) return;
    this.#publishQueued = true;
    this.#publishing = this.#publishing.then(async () => {
      this.#publishQueued = false;
      if (this.#failure || this.#stopRequested) return;
      await this.#publishNow(false).catch((error: unknown) => {
        this.#fail(error);
      });
    });
  }

  async #publish(final: boolean): Promise<void> {
    await this.#publishing;
    await this.#publishNow(final);
  }

  async #publishNow(final: boolean): Promise<void> {
    const run = this.#run;
    if (!run) return;
    let written: string[] | undefined;
    try {
      written = await this.#manifests.publish(run, final);
    } catch (error) {
      // Live: a manifest the origin refused is reported; the next segment brings the next attempt.
      if (!run.live || !(error instanceof FramewireError) || error.code !== 'FW_ERR_WRITE_FAILED') throw error;
      this.#reportWriteFailure(error);
      return;
    }
    if (written) this.#events.emit('manifest', { paths: written });
  }

  /** Live: a write the target refused (after its retries) is an `error` event that does not stop packaging. */
  #reportWriteFailure(error: FramewireError): void {
    const { cause, stage, details } = error;
    const reported = new FramewireError(error.code, error.message, { cause, stage, details, fatal: false });
    this.#events.emit('error', { error: reported, fatal: false });
  }

  // ── bookkeeping ───────────────────────────────────────────────────────────────────────────────────────────

  #progressFor(durationUs: number | null): void {
    // A file's duration counts from its time 0; a live run's from its first frame.
    const doneUs = this.#run?.live ? this.#mediaEndUs - this.#originUs : this.#mediaEndUs;
    const percent = durationUs ? Math.min(99.9, (100 * Math.max(0, doneUs)) / durationUs) : null;
    this.#progress(percent, false);
  }

  #progress(percent: number | null, force: boolean): void {
    const now = performance.now();
    if (!force && now - this.#lastProgressMs < 250) return;
    this.#lastProgressMs = now;
    const elapsedS = Math.max(1e-3, (now - this.#startedMs) / 1000);
    const fps = this.#units / elapsedS;
    const etaS = percent !== null && percent > 0 ? (elapsedS * (100 - percent)) / percent : null;
    const mediaTimeS = Math.max(0, this.#mediaEndUs - this.#originUs) / 1e6;
    this.#events.emit('progress', { percent, mediaTimeS, fps, etaS, segmentsWritten: this.#segmentsWritten });
  }

  #result(run: PackagerRun): PackageResult {
    const tracks = [...run.videoTracks, ...(run.audioTrack ? [run.audioTrack] : [])];
    const durationS = Math.max(
      0,
      ...run.videoTracks.map((t) => {
        const last = t.segments.at(-1);
        return last && t.timescale ? (last.startTicks + last.durationTicks) / t.timescale : 0;
      }),
    );
    return {
      transmuxed: run.transmuxed,
      durationS,
      renditions: run.ladder.map((r) => ({
        id: r.id,
        width: r.width,
        height: r.height,
        bitrateBps: r.bitrateBps,
        codec:
          run.videoTracks.find((t) => t.id === r.id)?.codec ??
          run.renditions.find((v) => v.rendition.id === r.id)?.codecString ??
          '',
      })),
      audio: run.audioTrack ? run.audioTrack.id : null,
      paths: [...this.#manifests.paths, ...tracks.flatMap((t) => t.writtenPaths)].sort(),
    };
  }

  // A method rather than an inline check: stop() and failures change the state while the loops await.
  #shouldStop(): boolean {
    return this.#stopRequested || this.#failure !== undefined;
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Ends every track, writes the final manifests, reports `percent` and emits `ended` with the result. */
  async #finish(run: PackagerRun, percent: number | null): Promise<PackageResult> {
    await this.#finishTracks(run);
    await this.#publish(true);
    this.#throwIfFailed();
    this.#progress(percent, true);
    this.#state = 'done';
    const result = this.#result(run);
    this.#events.emit('ended', { result });
    return result;
  }

  #fail(error: unknown): FramewireError {
    const failure =
      error instanceof FramewireError
        ? error
        : new FramewireError('FW_ERR_WRITE_FAILED', `Packaging failed: ${String(error)}`, {
            cause: error,
            fatal: true,
            stage: 'package',
          });
    if (!this.#failure) {
      this.#failure = failure;
      this.#state = 'failed';
      this.#events.emit('error', { error: failure, fatal: true });
    }
    return this.#failure;
  }

  /** Releases encoders and outputs after a failure; a VOD package's files are removed. */
  async #abandon(removeFiles: boolean): Promise<void> {
    this.#stopRequested = true;
    const run = this.#run;
    if (!run) return;
    for (const rendition of run.renditions) rendition.close();
    run.micSource?.close();
    const tracks = [...run.videoTracks, ...(run.audioTrack ? [run.audioTrack] : [])];
    await Promise.all(
      tracks.map(async (t) => {
        if (t.output.state !== 'finalized' && t.output.state !== 'canceled') {
          await t.output.cancel().catch(() => undefined);
        }
        await t.settled();
      }),
    );
    await this.#publishing;
    if (!removeFiles) return;
    // Manifests first: a client must never find a manifest listing a segment that is gone.
    for (const path of [...this.#manifests.paths, ...tracks.flatMap((t) => t.writtenPaths)]) {
      await run.writer.remove(path).catch((error: unknown) => log.debug('remove failed', { path, error }));
    }
    this.#manifests.paths.clear();
  }
}
