import { basename, dirname, join } from 'node:path';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { h264PassthroughVerdict, opusPassthroughVerdict } from '../media/probed-media.js';
import { probeMedia } from '../process/probe-media.js';
import type { SourceMediaMode } from '../protocol.js';
import { MediaStartClock } from '../media/media-start-clock.js';
import { OpusStreamReader } from '../media/opus-stream-reader.js';
import { opusCopyArgs, opusOutputArgs } from '../process/audio-args.js';
import { FlvH264Demuxer } from '../media/flv-h264-demuxer.js';
import { JpegStreamSplitter } from '../media/jpeg-stream-splitter.js';
import { ffmpegPrelude, h264OutputArgs, jpegOutputArgs, type H264EncodeOptions } from '../process/ffmpeg-args.js';
import { assertSafeVideoFilter, filterFailureReason } from '../process/video-filter.js';
import { ProcessSource } from './process-source.js';

const log = createLogger('source');

/** How an {@link FfmpegSource} probes its input to pass its tracks through (see {@link FfmpegSourceOptions.probe}). */
export interface FfmpegSourceProbe {
  /** ffprobe's input arguments, the input last, e.g. `['-rtsp_transport', 'tcp', 'rtsp://cam/1']`. Required. */
  inputArgs: string[];
  /**
   * Pass the video through (`-c:v copy`; the source then produces `h264` whatever `codec` says) when it is H.264 that
   * browsers play as is: constrained baseline, baseline, main or high profile, 8-bit 4:2:0, no B-frames.
   * Default: true.
   */
  video?: boolean;
  /** Copy the audio (`-c:a copy`, with `audio`) when it is Opus with one or two channels. Default: true. */
  audio?: boolean;
  /** ffprobe executable. Default: `ffprobe` in the folder of `ffmpegPath` when that is a path, else on PATH. */
  ffprobePath?: string;
  /** How long the probe may take, in ms; a slower one counts as failed. Default: 5000. */
  timeoutMs?: number;
}

/** Options of {@link FfmpegSource}. */
export interface FfmpegSourceOptions {
  /** The source id used in URLs and health. Required. */
  id: string;
  /** The source kind reported in health, e.g. `testpattern`, `v4l2`, `url`. Required. */
  kind: string;
  /** ffmpeg arguments that open the input (everything before the output options). Required. */
  inputArgs: string[];
  /** What ffmpeg produces: `jpeg` frames (MJPEG, WebGear) or `h264` access units. Default: `jpeg`. */
  codec?: 'jpeg' | 'h264';
  /** JPEG quality on ffmpeg's 2 (best) – 31 scale, for `codec: 'jpeg'`. Default: 5. */
  jpegQuality?: number;
  /** H.264 settings, for `codec: 'h264'`. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /**
   * The input's frame rate, for inputs that deliver every frame at that rate (a lavfi pattern, a file read with
   * `-re`): JPEG frames are then stamped frame number / `frameRate` (in µs since ffmpeg started) instead of their
   * arrival times, which jitter with the machine's load. Default: none (arrival times, kept strictly increasing).
   */
  frameRate?: number;
  /**
   * Also encode an audio stream of the input to Opus (48 kHz, 20 ms frames) in the same ffmpeg, on the same clock as
   * the video: the stream to map (`0:a:0?` for a file's or camera's first audio track, if any) and the channels to
   * encode (1 or 2). Default: none (no audio).
   */
  audio?: { map: string; channels: 1 | 2 };
  /**
   * Probe the input with ffprobe when the source starts and pass its H.264 video and Opus audio through when
   * browsers can take them as they are (no decode, no encode). The source starts while the probe runs (health
   * `videoMode: 'probing'`); a probe that fails or takes longer than its timeout is reported as a non-fatal
   * `FW_ERR_PROBE_FAILED` and the input is decoded (works for any codec); while ffmpeg then fails and restarts, the
   * input is probed again. Default: none (no probe; `codec` and `h264.copy` decide).
   */
  probe?: FfmpegSourceProbe;
  /**
   * An ffmpeg filtergraph applied to the video in the same ffmpeg (vidgear's FFGear; CLI `#vf=` in a source spec),
   * e.g. `hflip,eq=gamma=1.2`. Passed as one argument (no shell); filters that open files, sockets or libraries are
   * refused (`FW_ERR_INVALID_OPTION`, see {@link assertSafeVideoFilter}). Filtering needs decoded pictures: an input
   * whose H.264 would be passed through is decoded and encoded to H.264 once, by this ffmpeg (health's
   * `videoFilter.reencoded`). A graph ffmpeg rejects fails the source (`FW_ERR_FILTER_REJECTED`, fatal, ffmpeg's
   * reason in health's `videoFilter.rejected`). Default: none.
   */
  videoFilter?: string;
  /**
   * Finds the input before each ffmpeg run (a streaming site's media URL, which expires): its ffmpeg input arguments
   * and, with `probe`, ffprobe's (which then replace `probe.inputArgs`). A fatal rejection fails the source for good;
   * a non-fatal one is reported, and the previous input is used again (the first time: the source fails). Default:
   * none (`inputArgs` as given).
   */
  resolveInput?: () => Promise<{ inputArgs: string[]; probeArgs: string[] }>;
  /** ffmpeg executable. Default: `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** First restart delay after a crash, in ms; doubles up to `maxRestartDelayMs`. Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
  /**
   * Run ffmpeg only while something consumes the source (a viewer of any output, a snapshot, MQTT, NetGear, shared
   * memory): the source is `idle` until then, and ffmpeg stops `idleStopMs` after the last consumer left. Default:
   * false (ffmpeg runs from `start()` to `close()`).
   */
  onDemand?: boolean;
  /** With `onDemand`: how long ffmpeg keeps running after the last consumer left, in ms. Default: 2000. */
  idleStopMs?: number;
}

/** What an {@link FfmpegSource} passes through in one ffmpeg run. */
interface CopyPlan {
  /** `-c:v copy` (the source produces `h264`). */
  video: boolean;
  /** The input's H.264 would be copied but `videoFilter` needs it decoded: encoded to H.264 again in the same run. */
  reencode: boolean;
  /** `-c:a copy` into the Ogg of its audio. */
  audio: boolean;
}

/** Validates `options` and returns the ffmpeg arguments of an {@link FfmpegSource} that copies what `copy` says. */
function ffmpegSourceArgs(options: FfmpegSourceOptions, copy: CopyPlan, inputArgs = options.inputArgs): string[] {
  const codec = copy.video || copy.reencode ? 'h264' : (options.codec ?? 'jpeg');
  const filter = options.videoFilter;
  assertOption(['jpeg', 'h264'].includes(codec), `codec must be jpeg or h264; got ${codec}`);
  assertOption(Array.isArray(inputArgs), 'inputArgs must be an array of strings');
  if (options.frameRate !== undefined)
    assertOption(options.frameRate > 0 && options.frameRate <= 240, 'frameRate must be in (0, 240]');
  const audio = options.audio;
  if (audio) {
    assertOption(typeof audio.map === 'string' && audio.map !== '', 'audio.map must be an ffmpeg stream map');
    assertOption([1, 2].includes(audio.channels), 'audio.channels must be 1 or 2');
  }
  return [
    ...ffmpegPrelude(),
    ...inputArgs,
    // With a second output, the video output maps its stream explicitly.
    ...(audio ? ['-map', '0:v:0'] : []),
    ...(codec === 'jpeg'
      ? jpegOutputArgs(options.jpegQuality ?? 5, filter)
      : h264OutputArgs({ ...options.h264, copy: copy.video }, filter)),
    ...(audio
      ? copy.audio
        ? opusCopyArgs(audio.map, 'pipe:3')
        : opusOutputArgs(audio.map, 'pipe:3', audio.channels)
      : []),
  ];
}

/** ffprobe beside `ffmpegPath` when that names a file in a folder, else `ffprobe` on PATH. */
function ffprobeBeside(ffmpegPath: string | undefined): string {
  if (!ffmpegPath?.includes('/')) return 'ffprobe';
  return join(dirname(ffmpegPath), basename(ffmpegPath).replace('ffmpeg', 'ffprobe'));
}

/**
 * A source read through a supervised ffmpeg process: any input ffmpeg opens (lavfi test patterns, V4L2 devices,
 * RTSP/RTMP/HTTP URLs, files) becomes a stream of JPEG frames or H.264 access units. When ffmpeg dies it is
 * restarted with exponential backoff and health says `restarting`; `close()` stops it for good.
 *
 * Capture times are the moments frames leave ffmpeg (the bridge cannot see the sensor clock of a remote camera).
 */
export class FfmpegSource extends ProcessSource {
  readonly #options: FfmpegSourceOptions;
  readonly #frameRate: number | undefined;
  /** What the current (or next) ffmpeg run passes through. */
  #copy: CopyPlan;
  /** `codec: 'h264'` with `h264.copy`: the video is passed through whatever a probe says. */
  readonly #alwaysCopyVideo: boolean;
  /** True once a probe answered (no probe again after a crash). */
  #probed = false;
  #onChunk: (chunk: Buffer) => void = () => undefined;
  #audioReader = new OpusStreamReader();
  /** With audio: the clock of the current ffmpeg run, shared by its video and audio. */
  #clock: MediaStartClock | undefined;
  readonly #hasAudio: boolean;
  /** The input of the next run: `inputArgs`, or what `resolveInput` found. */
  #inputArgs: string[];
  /** With `resolveInput`: true once an input was found. */
  #resolved = false;
  /** ffmpeg's reason when it rejected `videoFilter`. */
  #filterRejected: string | undefined;

  /** Validates the options and builds the ffmpeg command; `start()` launches it (after the probe, with `probe`). */
  constructor(options: FfmpegSourceOptions) {
    if (options.videoFilter !== undefined) assertSafeVideoFilter(options.videoFilter);
    const wantsCopy = options.codec === 'h264' && options.h264?.copy === true;
    const filtered = options.videoFilter !== undefined;
    const copy = { video: wantsCopy && !filtered, reencode: wantsCopy && filtered, audio: false };
    super(options.id, options.kind, {
      command: options.ffmpegPath ?? 'ffmpeg',
      args: ffmpegSourceArgs(options, copy),
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
      ...(options.maxRestartDelayMs === undefined ? {} : { maxRestartDelayMs: options.maxRestartDelayMs }),
      ...(options.audio ? { auxOutput: true } : {}),
      ...(options.onDemand === undefined ? {} : { onDemand: options.onDemand }),
      ...(options.idleStopMs === undefined ? {} : { idleStopMs: options.idleStopMs }),
    });
    this.#options = options;
    this.#inputArgs = options.inputArgs;
    this.#copy = copy;
    this.#alwaysCopyVideo = wantsCopy;
    this.#frameRate = options.frameRate;
    this.#hasAudio = options.audio !== undefined;
    if (options.audio) this.setAudio({ codec: 'opus', sampleRate: 48_000, channels: options.audio.channels });
    if (options.probe) {
      assertOption(
        Array.isArray(options.probe.inputArgs) && options.probe.inputArgs.length > 0,
        'probe.inputArgs must name the input',
      );
      const timeoutMs = options.probe.timeoutMs;
      assertOption(
        timeoutMs === undefined || (Number.isFinite(timeoutMs) && timeoutMs > 0),
        `probe.timeoutMs must be > 0; got ${String(timeoutMs)}`,
      );
    }
    this.#reportModes(options.probe ? 'probing' : undefined);
  }

  /** The stream format this source produces now: `h264` when it passes its input's H.264 through. */
  get codec(): 'jpeg' | 'h264' {
    return this.#copy.video || this.#copy.reencode ? 'h264' : (this.#options.codec ?? 'jpeg');
  }

  /**
   * A failed ffmpeg run whose stderr says it rejected {@link FfmpegSourceOptions.videoFilter}: restarting cannot
   * help, so the source fails with `FW_ERR_FILTER_REJECTED` carrying ffmpeg's reason.
   */
  protected override fatalFailure(error: FramewireError): FramewireError | undefined {
    const graph = this.#options.videoFilter;
    if (graph === undefined) return undefined;
    const reason = filterFailureReason(error.message);
    if (reason === undefined) return undefined;
    this.#filterRejected = reason;
    this.#reportModes();
    return new FramewireError(
      'FW_ERR_FILTER_REJECTED',
      `${this.kind} source "${this.id}": ffmpeg rejected the filtergraph ${graph}: ${reason}`,
      { cause: error, fatal: true, stage: 'source', details: { graph, reason } },
    );
  }

  /**
   * With `probe`, until a probe answered (at the start, and before each restart after a failed probe: the input
   * may be back): learns what the input holds and picks the ffmpeg arguments of the next run.
   */
  protected override prepare(): Promise<void> | undefined {
    if (this.#options.resolveInput) return this.#resolve(this.#options.resolveInput);
    return this.#options.probe && !this.#probed ? this.#probe(this.#options.probe) : undefined;
  }

  /** Finds the input of the next run with `resolveInput`, then probes it (a new input: probed again). */
  async #resolve(resolveInput: NonNullable<FfmpegSourceOptions['resolveInput']>): Promise<void> {
    let input: { inputArgs: string[]; probeArgs: string[] };
    try {
      input = await resolveInput();
    } catch (error) {
      if (this.closed) return;
      const failure =
        error instanceof FramewireError
          ? error
          : this.error('FW_ERR_MEDIA_UNREADABLE', error instanceof Error ? error.message : String(error), error);
      log.warn(failure.message);
      if (failure.fatal || !this.#resolved) this.failForGood(failure);
      else this.reportError(failure);
      return;
    }
    if (this.closed) return;
    this.#resolved = true;
    this.#inputArgs = input.inputArgs;
    const probe = this.#options.probe;
    if (probe) await this.#probe({ ...probe, inputArgs: input.probeArgs });
    else this.setArgs(ffmpegSourceArgs(this.#options, this.#copy, this.#inputArgs));
  }

  async #probe(probe: FfmpegSourceProbe): Promise<void> {
    const filtered = this.#options.videoFilter !== undefined;
    let copy: CopyPlan = {
      video: this.#alwaysCopyVideo && !filtered,
      reencode: this.#alwaysCopyVideo && filtered,
      audio: false,
    };
    try {
      const media = await probeMedia(probe.inputArgs, {
        ffprobePath: probe.ffprobePath ?? ffprobeBeside(this.#options.ffmpegPath),
        ...(probe.timeoutMs === undefined ? {} : { timeoutMs: probe.timeoutMs }),
      });
      const video = h264PassthroughVerdict(media.video);
      const audio = opusPassthroughVerdict(media.audio);
      const passable = this.#alwaysCopyVideo || (probe.video !== false && video.pass);
      copy = {
        video: passable && !filtered,
        reencode: passable && filtered,
        audio: this.#hasAudio && probe.audio !== false && audio.pass,
      };
      this.#probed = true;
      const said = this.#hasAudio
        ? `; audio ${copy.audio ? 'passed through' : 'encoded to Opus'} (${audio.reason})`
        : '';
      const how = copy.video
        ? 'passed through'
        : copy.reencode
          ? 'decoded and encoded again for its filter'
          : 'decoded';
      log.info(`${this.kind} source "${this.id}": video ${how} (${video.reason})${said}`);
      if (copy.audio && media.audio)
        this.setAudio({ codec: 'opus', sampleRate: 48_000, channels: media.audio.channels });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const failure = this.error('FW_ERR_PROBE_FAILED', `${message}; decoding the input instead`, error);
      log.warn(failure.message);
      this.reportError(failure);
    }
    if (this.closed) return;
    this.#copy = copy;
    this.setArgs(ffmpegSourceArgs(this.#options, copy, this.#inputArgs));
    this.#reportModes();
  }

  #reportModes(video?: SourceMediaMode): void {
    const graph = this.#options.videoFilter;
    this.setMediaModes({
      videoMode: video ?? (this.#copy.video ? 'passthrough' : 'encode'),
      ...(this.#hasAudio ? { audioMode: video ?? (this.#copy.audio ? 'passthrough' : 'encode') } : {}),
      ...(graph === undefined
        ? {}
        : {
            videoFilter: {
              graph,
              reencoded: this.#copy.reencode,
              ...(this.#filterRejected === undefined ? {} : { rejected: this.#filterRejected }),
            },
          }),
    });
  }

  /** A new ffmpeg run: a new stream, parsed from its first byte. */
  protected onSpawn(): void {
    this.#clock = this.#hasAudio ? new MediaStartClock() : undefined;
    this.#onChunk = this.#parser();
    this.#audioReader = new OpusStreamReader(Date.now, this.#clock);
  }

  /** Reads the Ogg Opus audio ffmpeg writes on `pipe:3`. */
  protected override onAuxChunk(chunk: Buffer): void {
    let packets;
    try {
      packets = this.#audioReader.push(chunk);
    } catch (error) {
      this.#audioReader = new OpusStreamReader();
      this.reportError(this.error('FW_ERR_PROTOCOL_VIOLATION', (error as Error).message, error));
      return;
    }
    for (const packet of packets) this.emitAudio(packet);
  }

  /** Feeds ffmpeg's output to the current parser. */
  protected onChunk(chunk: Buffer): void {
    this.#onChunk(chunk);
  }

  #parser(): (chunk: Buffer) => void {
    if (this.codec === 'jpeg') {
      const splitter = new JpegStreamSplitter();
      const frameRate = this.#frameRate;
      const clock = this.#clock;
      let count = 0;
      let lastUs = -1;
      let lastCaptureMs = 0;
      return (chunk) => {
        for (const data of splitter.push(chunk)) {
          const now = Date.now();
          // Whole µs: browsers' WebCodecs timestamps are integers.
          const timestampUs =
            frameRate === undefined
              ? Math.max((now - this.startedAtMs) * 1000, lastUs + 1)
              : Math.round((count * 1_000_000) / frameRate);
          count++;
          lastUs = timestampUs;
          // With audio, a paced input's frames are stamped on the clock the audio shares (sync over arrival jitter).
          const captureTimeMs =
            clock && frameRate !== undefined ? Math.max(clock.observe(now, timestampUs / 1000), lastCaptureMs) : now;
          lastCaptureMs = captureTimeMs;
          this.emitFrame({ codec: 'jpeg', key: true, data, timestampUs, captureTimeMs });
        }
      };
    }
    const demuxer = new FlvH264Demuxer();
    return (chunk) => {
      let packets;
      try {
        packets = demuxer.push(chunk);
      } catch (error) {
        this.countDrop();
        this.reportError(this.error('FW_ERR_PROTOCOL_VIOLATION', (error as Error).message, error));
        return;
      }
      for (const packet of packets) {
        const frame: EncodedFrame = {
          codec: 'h264',
          key: packet.key,
          data: packet.data,
          // Presentation time (the header's contract): with B-frames it differs from the FLV tag's decode time.
          timestampUs: (packet.timestampMs + packet.compositionTimeMs) * 1000,
          captureTimeMs: Date.now(),
        };
        this.emitFrame(frame);
      }
    };
  }
}
