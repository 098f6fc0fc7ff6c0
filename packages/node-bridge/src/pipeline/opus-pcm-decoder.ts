import { createLogger } from '@framewire/core';
import type { AudioPacket } from '../media/audio-packet.js';
import { OggOpusWriter } from '../media/ogg-opus-writer.js';
import { ffmpegPrelude } from '../process/ffmpeg-args.js';
import { SupervisedProcess } from '../process/supervised-process.js';
import type { VideoSource } from '../sources/video-source.js';

/** Samples of one PCM chunk: 10 ms at 48 kHz, what WebRTC's audio sources take at a time. */
export const PCM_CHUNK_SAMPLES = 480;

/** 10 ms of a source's audio as 16-bit mono PCM at 48 kHz. */
export interface PcmChunk {
  /** {@link PCM_CHUNK_SAMPLES} samples. */
  samples: Int16Array;
  /** Capture wall-clock time of its first sample, in ms since the Unix epoch (the video frames' clock). */
  captureTimeMs: number;
}

/** The ffmpeg arguments of an {@link OpusPcmDecoder}: Ogg Opus on stdin, s16le mono 48 kHz on stdout, no buffering. */
export function opusPcmDecoderArgs(): string[] {
  return [
    ...ffmpegPrelude(true),
    ...['-probesize', '32', '-analyzeduration', '0', '-fflags', 'nobuffer', '-f', 'ogg', '-i', 'pipe:0'],
    ...['-f', 's16le', '-ar', '48000', '-ac', '1', '-flush_packets', '1', 'pipe:1'],
  ];
}

const log = createLogger('opus-pcm');

/**
 * Turns a source's Opus audio back into PCM for consumers that must encode it themselves (wrtc's `RTCAudioSource`,
 * for the bridge's room peer): a supervised ffmpeg reads the packets as an Ogg stream on its stdin and writes 16-bit
 * mono PCM, cut here into 10 ms chunks, each stamped with the capture time of its packet. It runs only between
 * {@link start} and {@link stop} (while someone needs the audio); the source's own Opus is not touched.
 */
export class OpusPcmDecoder {
  readonly #source: VideoSource;
  readonly #onChunk: (chunk: PcmChunk) => void;
  readonly #ffmpegPath: string;
  #process: SupervisedProcess | undefined;
  #unsubscribe: (() => void) | undefined;
  #writer: OggOpusWriter | undefined;
  /** Packets written and not yet fully decoded: their capture times and sample counts, in order. */
  #pending: { captureTimeMs: number; samples: number }[] = [];
  /** Samples of the front pending packet already cut into chunks. */
  #consumed = 0;
  #bytes: Buffer = Buffer.alloc(0);

  /** Decodes `source`'s audio into `onChunk` once started. */
  constructor(source: VideoSource, onChunk: (chunk: PcmChunk) => void, ffmpegPath = 'ffmpeg') {
    this.#source = source;
    this.#onChunk = onChunk;
    this.#ffmpegPath = ffmpegPath;
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts the decoder and listens to the source's audio. Idempotent. */
  start(): void {
    if (this.#process) return;
    const process = new SupervisedProcess({
      name: `${this.#source.id} audio decoder`,
      command: this.#ffmpegPath,
      args: opusPcmDecoderArgs(),
      stdin: true,
    });
    // A new process starts a new Ogg stream.
    process.on('spawn', () => this.#reset());
    process.on('stdout', ({ chunk }) => this.#onPcm(chunk));
    process.on('error', ({ error }) => log.debug(error.message));
    this.#process = process;
    this.#reset();
    process.start();
    this.#unsubscribe = this.#source.on('audio', ({ packet }) => this.#onPacket(packet));
  }

  /** Stops listening and ends the decoder. Idempotent. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const process = this.#process;
    this.#process = undefined;
    await process?.close();
  }

  #reset(): void {
    this.#writer = undefined;
    this.#pending = [];
    this.#consumed = 0;
    this.#bytes = Buffer.alloc(0);
  }

  #onPacket(packet: AudioPacket): void {
    const process = this.#process;
    if (!process?.running) return;
    let bytes: Buffer;
    let writer = this.#writer;
    try {
      const header = writer ? undefined : (writer = new OggOpusWriter(this.#source.audio?.channels ?? 1)).header();
      const page = writer.page(packet.data);
      bytes = header ? Buffer.concat([header, page]) : page;
    } catch (error) {
      log.debug(`skipped an Opus packet: ${(error as Error).message}`);
      return;
    }
    // The header pages must reach the decoder whatever the pipe's state; later packets are skipped when it is full.
    if (!process.write(bytes, this.#writer === undefined)) return;
    this.#writer = writer;
    this.#pending.push({ captureTimeMs: packet.captureTimeMs, samples: Math.round((packet.durationUs * 48) / 1000) });
  }

  #onPcm(chunk: Buffer): void {
    this.#bytes = this.#bytes.length === 0 ? chunk : Buffer.concat([this.#bytes, chunk]);
    const chunkBytes = PCM_CHUNK_SAMPLES * 2;
    while (this.#bytes.length >= chunkBytes) {
      const samples = new Int16Array(PCM_CHUNK_SAMPLES);
      Buffer.from(samples.buffer).set(this.#bytes.subarray(0, chunkBytes));
      this.#bytes = this.#bytes.subarray(chunkBytes);
      const front = this.#pending[0];
      const captureTimeMs = front ? front.captureTimeMs + this.#consumed / 48 : Date.now();
      this.#consumed += PCM_CHUNK_SAMPLES;
      while (this.#pending[0] && this.#consumed >= this.#pending[0].samples) {
        this.#consumed -= this.#pending[0].samples;
        this.#pending.shift();
      }
      this.#onChunk({ samples, captureTimeMs });
    }
  }
}
