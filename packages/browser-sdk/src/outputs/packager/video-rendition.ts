import { WorkerVideoEncoder } from '../../encoders/worker-video-encoder.js';
import { codecStringFor } from '../../encoders/codec-probe.js';
import type { MediabunnyApi as Mediabunny } from '../../core/mediabunny-loader.js';
import type { EncodedPacket, EncodedVideoPacketSource } from 'mediabunny';
import type { ResolvedRendition, PackagerVideoCodec } from './packager-options.js';
import type { TrackPackager } from './track-packager.js';

interface Held {
  packet: EncodedPacket;
  meta: EncodedVideoChunkMetadata | undefined;
  timestampUs: number;
}

/**
 * One rung of the ladder: a {@link WorkerVideoEncoder} (scaling in its Worker) feeding a {@link TrackPackager}.
 * Packets are held back by one so that each one's duration is the gap to the next frame.
 */
export class VideoRendition {
  /** The rendition's settled size and bitrate. */
  readonly rendition: ResolvedRendition;
  /** The codec string the encoder was configured with. */
  readonly codecString: string;
  readonly #encoder: WorkerVideoEncoder;
  readonly #source: EncodedVideoPacketSource;
  readonly #track: TrackPackager;
  readonly #mb: Mediabunny;
  readonly #originUs: () => number;
  readonly #frameDurationUs: number;
  #held: Held | undefined;
  #lastGapUs = 0;
  #muxing: Promise<void> = Promise.resolve();
  #pending = 0;
  readonly #onError: (error: unknown) => void;

  private constructor(
    mb: Mediabunny,
    rendition: ResolvedRendition,
    codecString: string,
    encoder: WorkerVideoEncoder,
    track: TrackPackager,
    originUs: () => number,
    frameRate: number,
    onError: (error: unknown) => void,
  ) {
    this.#mb = mb;
    this.rendition = rendition;
    this.codecString = codecString;
    this.#encoder = encoder;
    this.#track = track;
    this.#originUs = originUs;
    this.#frameDurationUs = Math.round(1e6 / frameRate);
    this.#source = new mb.EncodedVideoPacketSource(codec(codecString));
    track.output.addVideoTrack(this.#source, { frameRate });
    encoder.on('chunk', ({ chunk, decoderConfig }) => this.#onChunk(chunk, decoderConfig));
    encoder.on('error', ({ error }) => onError(error));
    this.#onError = onError;
  }

  /** Starts the encoder Worker for `rendition`. Rejects with the encoder's `FW_ERR_…` failure. */
  static async create(
    mb: Mediabunny,
    rendition: ResolvedRendition,
    codec: PackagerVideoCodec,
    frameRate: number,
    track: TrackPackager,
    originUs: () => number,
    onError: (error: unknown) => void,
  ): Promise<VideoRendition> {
    const codecString = codecStringFor(codec, rendition.width, rendition.height, frameRate);
    const encoder = await WorkerVideoEncoder.open({
      codec: codecString,
      width: rendition.width,
      height: rendition.height,
      bitrateBps: rendition.bitrateBps,
      frameRate,
      latencyMode: 'realtime',
      // A live source may change size (a switched camera or stream): its frames are letterboxed into the rung.
      fit: 'contain',
    });
    return new VideoRendition(mb, rendition, codecString, encoder, track, originUs, frameRate, onError);
  }

  /** Encodes `frame` (taking ownership), as a key frame when `keyFrame`; waits while the encoder or target lag. */
  async encode(frame: VideoFrame, keyFrame: boolean): Promise<void> {
    await this.#encoder.encode(frame, { keyFrame });
    if (this.#pending > 8) await this.#muxing;
    await this.#track.drain();
  }

  /** Encodes what is left, muxes it and closes the track's source. */
  async finish(): Promise<void> {
    await this.#encoder.flush();
    this.#release(undefined);
    await this.#muxing;
    this.#source.close();
    this.#encoder.close();
  }

  /** Stops the encoder; frames in flight are dropped. Idempotent. */
  close(): void {
    this.#encoder.close();
  }

  #onChunk(chunk: EncodedVideoChunk, decoderConfig: VideoDecoderConfig | undefined): void {
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const timestampUs = chunk.timestamp - this.#originUs();
    const packet = new this.#mb.EncodedPacket(data, chunk.type, timestampUs / 1e6, 0);
    this.#release({ packet, meta: decoderConfig ? { decoderConfig } : undefined, timestampUs });
  }

  #release(next: Held | undefined): void {
    const held = this.#held;
    this.#held = next;
    if (!held) return;
    const gapUs = next ? next.timestampUs - held.timestampUs : this.#lastGapUs;
    if (next && gapUs > 0) this.#lastGapUs = gapUs;
    const durationUs = gapUs > 0 ? gapUs : this.#frameDurationUs;
    const packet = held.packet.clone({ duration: durationUs / 1e6 });
    this.#pending++;
    this.#muxing = this.#muxing
      .then(() => this.#source.add(packet, held.meta))
      .catch((error: unknown) => this.#onError(error))
      .finally(() => this.#pending--);
  }
}

function codec(codecString: string): 'avc' | 'vp9' | 'av1' {
  return codecString.startsWith('avc') ? 'avc' : codecString.startsWith('vp09') ? 'vp9' : 'av1';
}
