import { FramewireError } from '@framewire/core';
import type { WsAudioConfigMessage, WsAudioHeader } from '@framewire/core/bridge-protocol';

/** An audio `MediaStreamTrackGenerator` (Chromium): a track fed with `AudioData` through `writable`. */
interface AudioTrackGenerator extends MediaStreamTrack {
  readonly writable: WritableStream<AudioData>;
}

/**
 * Decodes the Node bridge's Opus packets (each with its {@link WsAudioHeader}, after a {@link WsAudioConfigMessage})
 * with WebCodecs `AudioDecoder` into an audio `MediaStreamTrack` (Chromium's `MediaStreamTrackGenerator` of kind
 * `audio`), which a page plays (`<audio>.srcObject`), records (`Recorder`'s `audio` option) or analyses like a
 * microphone's. A decoder failure is reported and the decoder reset: the next packet decodes again (Opus needs no
 * keyframe).
 */
export class OpusTrackDecoder {
  /** The decoded audio, live while the decoder is open; ended by {@link close}. */
  readonly track: MediaStreamTrack;
  readonly #config: AudioDecoderConfig;
  readonly #onError: (error: FramewireError) => void;
  readonly #writer: WritableStreamDefaultWriter<AudioData>;
  #decoder: AudioDecoder | undefined;
  #decodeErrors = 0;
  #closed = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** True when this browser has what the decoder needs: `AudioDecoder` and an audio `MediaStreamTrackGenerator`. */
  static get supported(): boolean {
    return typeof AudioDecoder !== 'undefined' && typeof MediaStreamTrackGenerator !== 'undefined';
  }

  /**
   * Opens a decoder for `config`'s stream; `onError` gets non-fatal `FW_ERR_DECODE_FAILED`s. Throws
   * `FW_ERR_NOT_SUPPORTED` where {@link supported} is false.
   */
  constructor(config: WsAudioConfigMessage, onError: (error: FramewireError) => void) {
    if (!OpusTrackDecoder.supported)
      throw new FramewireError(
        'FW_ERR_NOT_SUPPORTED',
        'Bridge audio needs AudioDecoder and MediaStreamTrackGenerator',
        {
          stage: 'decode',
        },
      );
    const generator = new MediaStreamTrackGenerator({ kind: 'audio' }) as unknown as AudioTrackGenerator;
    this.track = generator;
    this.#writer = generator.writable.getWriter();
    this.#config = { codec: 'opus', sampleRate: config.sampleRate, numberOfChannels: config.numberOfChannels };
    this.#onError = onError;
  }

  /** Decoder failures so far. */
  get decodeErrors(): number {
    return this.#decodeErrors;
  }

  /**
   * Decodes one Opus packet, after `holdMs` (default 0) when given: a receiver whose video comes later than its
   * audio holds the audio by the difference, so that the two play in sync.
   */
  decode(header: WsAudioHeader, payload: Uint8Array, holdMs = 0): void {
    if (this.#closed) return;
    if (holdMs >= 1) {
      const data = payload.slice();
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.decode(header, data);
      }, holdMs);
      this.#timers.add(timer);
      return;
    }
    const decoder = (this.#decoder ??= this.#open());
    try {
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: header.timestampUs, data: payload.slice() }));
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Closes the decoder and ends the track. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#decoder?.state === 'configured') this.#decoder.close();
    this.#decoder = undefined;
    this.#writer.close().catch(() => undefined);
    this.track.stop();
  }

  #open(): AudioDecoder {
    const decoder = new AudioDecoder({
      output: (data) => {
        if (this.#closed) {
          data.close();
          return;
        }
        this.#writer.write(data).catch(() => data.close());
      },
      error: (error) => this.#fail(error),
    });
    decoder.configure(this.#config);
    return decoder;
  }

  #fail(cause: unknown): void {
    this.#decodeErrors++;
    const decoder = this.#decoder;
    this.#decoder = undefined;
    if (decoder?.state === 'configured') decoder.close();
    if (this.#closed) return;
    this.#onError(
      new FramewireError('FW_ERR_DECODE_FAILED', `Opus decoding failed: ${String(cause)}`, {
        cause,
        fatal: false,
        stage: 'decode',
      }),
    );
  }
}
