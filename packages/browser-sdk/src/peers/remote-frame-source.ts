import { FramewireError } from '@framewire/core';
import { QueuedFrameSource } from '../core/queued-frame-source.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import { assertSecureContext } from '../core/secure-context.js';

/** Metadata of one encoded frame sent over a data channel. */
export interface EncodedFrameMeta {
  /** Publication id (one per published source of a peer). */
  pub: number;
  /** Frame number in the publication, from 0. */
  seq: number;
  /** WebCodecs codec string. */
  codec: string;
  /** Key frame. */
  key: boolean;
  /** Presentation timestamp, in µs. */
  timestampUs: number;
  /** Capture time on the signaling server's clock, in ms since the epoch (absent when unknown). */
  captureServerMs?: number;
  /** Coded size. */
  width: number;
  /** Coded size. */
  height: number;
}

/**
 * The frames a peer publishes with `delivery: 'data'`: encoded chunks arrive in order over the reliable data
 * channel and are decoded here with WebCodecs, so every frame arrives, exact (no frame dropped; the queue applies
 * backpressure by default). Frames carry the sender's capture time translated to the local clock, so
 * `latencySinceCaptureMs(frame)` is the glass-to-glass latency.
 */
export class RemoteFrameSource extends QueuedFrameSource {
  /** The publishing peer. */
  readonly peerId: string;
  /** Frames that arrived before a key frame and could not be decoded. */
  skippedFrames = 0;
  /** The last frame number seen (to spot gaps). */
  lastSeq = -1;
  readonly #clockOffsetMs: () => number;
  readonly #decoder: VideoDecoder;
  readonly #captureTimes = new Map<number, number | undefined>();
  #configured = '';

  /**
   * @param peerId the publishing peer.
   * @param clockOffsetMs returns the local clock's offset to the server's (server − local), in ms.
   */
  constructor(peerId: string, clockOffsetMs: () => number, queue: SourceQueueOptions = {}) {
    super('peer', { capacity: 30, ...queue }, 'backpressure');
    this.peerId = peerId;
    this.#clockOffsetMs = clockOffsetMs;
    assertSecureContext('RemoteFrameSource', 'decode');
    if (typeof VideoDecoder !== 'function') {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'VideoDecoder is not available here', {
        fatal: true,
        stage: 'decode',
      });
    }
    this.#decoder = new VideoDecoder({
      output: (frame) => {
        const capture = this.#captureTimes.get(frame.timestamp);
        this.#captureTimes.delete(frame.timestamp);
        void this.deliver(frame, capture);
      },
      error: (error) =>
        this.fail(
          new FramewireError('FW_ERR_CODEC_UNSUPPORTED', 'decoding remote frames failed', {
            cause: error,
            fatal: true,
            stage: 'decode',
          }),
        ),
    });
  }

  /** Decodes one received frame. Delta frames before the first key frame are skipped. */
  push(meta: EncodedFrameMeta, data: Uint8Array): void {
    if (this.ended || this.#decoder.state === 'closed') return;
    this.lastSeq = meta.seq;
    const config = `${meta.codec}/${meta.width}x${meta.height}`;
    if (this.#configured !== config) {
      if (!meta.key) {
        this.skippedFrames++;
        return;
      }
      this.#decoder.configure({ codec: meta.codec, codedWidth: meta.width, codedHeight: meta.height });
      this.#configured = config;
    }
    this.#captureTimes.set(
      meta.timestampUs,
      meta.captureServerMs === undefined ? undefined : meta.captureServerMs - this.#clockOffsetMs(),
    );
    this.#decoder.decode(
      new EncodedVideoChunk({ type: meta.key ? 'key' : 'delta', timestamp: meta.timestampUs, data }),
    );
  }

  /** The publisher stopped: frames still decoding are delivered, then the source ends. */
  async end(): Promise<void> {
    if (this.#decoder.state === 'configured') await this.#decoder.flush().catch(() => undefined);
    this.finish();
  }

  /** Closes the decoder. */
  protected release(): void {
    if (this.#decoder.state !== 'closed') this.#decoder.close();
  }
}
