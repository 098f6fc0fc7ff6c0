import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { FramewireError } from '@framewire/core';
import {
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  Mp4OutputFormat,
  Output,
  StreamTarget,
  type StreamTargetChunk,
} from 'mediabunny';
import type { AudioInfo, AudioPacket } from '../media/audio-packet.js';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { findSps, type SpsInfo } from '../media/h264.js';

/** The tracks of a {@link SegmentFile}. */
export interface SegmentTracks {
  /** Mux the source's Opus audio beside the video. Default: video only. */
  audio?: AudioInfo | undefined;
  /** Nominal frame rate (sets the video track's timescale). Default: mediabunny's default timescale. */
  frameRate?: number | undefined;
}

/**
 * One fragmented MP4 file (ftyp, moov, then a moof+mdat pair per fragment of about a second) of a source's H.264
 * access units, passed through as they are (Annex B in, AVC in the file, no encode), and optionally its Opus
 * audio, written by mediabunny's MP4 muxer. Every fragment goes to the file with a synchronous write as soon as it
 * is complete, so a process killed at any moment leaves the file readable up to its last whole fragment.
 * Timestamps are capture times relative to the first video frame (a keyframe).
 */
export class SegmentFile {
  /** The file's path. */
  readonly path: string;
  /** Capture time of the first video frame, in ms since the Unix epoch. */
  readonly startCaptureMs: number;
  readonly #fd: number;
  readonly #output: Output;
  readonly #video: EncodedVideoPacketSource;
  readonly #audio: EncodedAudioPacketSource | undefined;
  readonly #audioInfo: AudioInfo | undefined;
  readonly #sps: SpsInfo;
  #videoFrames = 0;
  #audioPackets = 0;
  #lastCaptureMs: number;
  #lastAudioUs = -1;
  #bytes = 0;
  #closed = false;

  private constructor(path: string, fd: number, first: EncodedFrame, sps: SpsInfo, tracks: SegmentTracks) {
    this.path = path;
    this.#sps = sps;
    this.#fd = fd;
    this.startCaptureMs = first.captureTimeMs;
    this.#lastCaptureMs = first.captureTimeMs;
    this.#audioInfo = tracks.audio;
    const writable = new WritableStream<StreamTargetChunk>({
      write: (chunk) => {
        writeSync(fd, chunk.data, 0, chunk.data.byteLength, chunk.position);
        this.#bytes = Math.max(this.#bytes, chunk.position + chunk.data.byteLength);
      },
    });
    this.#output = new Output({
      format: new Mp4OutputFormat({ fastStart: 'fragmented', minimumFragmentDuration: 1 }),
      target: new StreamTarget(writable),
    });
    this.#video = new EncodedVideoPacketSource('avc');
    this.#output.addVideoTrack(this.#video, tracks.frameRate ? { frameRate: tracks.frameRate } : {});
    if (tracks.audio) {
      this.#audio = new EncodedAudioPacketSource('opus');
      this.#output.addAudioTrack(this.#audio);
    }
  }

  /**
   * Creates the file at `path` (which must not exist) and writes `first`, an H.264 keyframe carrying its SPS and PPS.
   * Rejects with `FW_ERR_WRITE_FAILED` when the file cannot be created, `FW_ERR_MEDIA_UNREADABLE` when `first` is
   * not such a keyframe.
   */
  static async create(path: string, first: EncodedFrame, tracks: SegmentTracks = {}): Promise<SegmentFile> {
    const sps = first.key ? findSps(first.data) : undefined;
    if (!sps)
      throw new FramewireError('FW_ERR_MEDIA_UNREADABLE', 'a recording must start with an H.264 keyframe and its SPS');
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (cause) {
      throw new FramewireError('FW_ERR_WRITE_FAILED', `cannot create ${path}: ${(cause as Error).message}`, { cause });
    }
    const file = new SegmentFile(path, fd, first, sps, tracks);
    try {
      await file.#output.start();
      await file.addVideo(first);
    } catch (error) {
      await file.abort();
      throw error;
    }
    return file;
  }

  /** Bytes in the file so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Video frames added. */
  get videoFrames(): number {
    return this.#videoFrames;
  }

  /** Audio packets added. */
  get audioPackets(): number {
    return this.#audioPackets;
  }

  /**
   * False when keyframe `frame` carries an SPS with another codec string or size than the file's first (the source
   * restarted with other settings): such a frame must start a new file.
   */
  fits(frame: EncodedFrame): boolean {
    const sps = findSps(frame.data);
    return (
      sps === undefined ||
      (sps.codec === this.#sps.codec && sps.width === this.#sps.width && sps.height === this.#sps.height)
    );
  }

  /** Capture time of the newest frame or packet added, in ms since the Unix epoch. */
  get lastCaptureMs(): number {
    return this.#lastCaptureMs;
  }

  /** Adds an H.264 access unit (Annex B). Rejects with `FW_ERR_WRITE_FAILED` when the write fails. */
  async addVideo(frame: EncodedFrame): Promise<void> {
    if (this.#closed) return;
    const timestamp = Math.max(0, (frame.captureTimeMs - this.startCaptureMs) / 1000);
    const packet = new EncodedPacket(frame.data, frame.key ? 'key' : 'delta', timestamp, 0);
    const sps = this.#videoFrames === 0 ? findSps(frame.data) : undefined;
    await this.#write(() =>
      this.#video.add(
        packet,
        sps ? { decoderConfig: { codec: sps.codec, codedWidth: sps.width, codedHeight: sps.height } } : undefined,
      ),
    );
    this.#videoFrames++;
    this.#lastCaptureMs = Math.max(this.#lastCaptureMs, frame.captureTimeMs);
  }

  /**
   * Adds an Opus packet (files with audio only); packets from before the file's first frame, or that would go back
   * in time, are skipped. Rejects with `FW_ERR_WRITE_FAILED` when the write fails.
   */
  async addAudio(audio: AudioPacket): Promise<void> {
    if (this.#closed || !this.#audio || !this.#audioInfo) return;
    const timestampUs = Math.round((audio.captureTimeMs - this.startCaptureMs) * 1000);
    if (timestampUs < 0 || timestampUs <= this.#lastAudioUs) return;
    this.#lastAudioUs = timestampUs;
    const packet = new EncodedPacket(audio.data, 'key', timestampUs / 1e6, audio.durationUs / 1e6);
    const source = this.#audio;
    const info = this.#audioInfo;
    const first = this.#audioPackets === 0;
    await this.#write(() =>
      source.add(
        packet,
        first
          ? {
              decoderConfig: { codec: 'opus', sampleRate: info.sampleRate, numberOfChannels: info.channels },
            }
          : undefined,
      ),
    );
    this.#audioPackets++;
    this.#lastCaptureMs = Math.max(this.#lastCaptureMs, audio.captureTimeMs);
  }

  /** Writes the last fragment and the index (mfra), flushes and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#output.finalize();
      fsyncSync(this.#fd);
    } catch (cause) {
      throw new FramewireError('FW_ERR_WRITE_FAILED', `cannot finish ${this.path}: ${(cause as Error).message}`, {
        cause,
      });
    } finally {
      closeSync(this.#fd);
    }
  }

  /** Stops writing and closes the file as it is (readable up to its last fragment). Idempotent. */
  async abort(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#output.cancel().catch(() => undefined);
    closeSync(this.#fd);
  }

  async #write(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (cause) {
      throw new FramewireError('FW_ERR_WRITE_FAILED', `cannot write ${this.path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
}
