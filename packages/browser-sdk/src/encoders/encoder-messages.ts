/** Messages from the main thread to the encoder worker, keyed on `type`. */
export type EncoderRequest =
  | {
      type: 'configure';
      config: VideoEncoderConfig;
      keyframeIntervalFrames: number;
      quantizer: number | undefined;
      /** How frames of another size are scaled: stretched to the size (`fill`) or fitted with black bars (`contain`). */
      fit: 'fill' | 'contain';
    }
  | { type: 'encode'; frame: VideoFrame; captureTimeMs: number | undefined; keyFrame: boolean }
  | { type: 'flush'; id: number }
  | { type: 'close' };

/** An encoded chunk as it crosses from the worker (its bytes are transferred, not copied). */
export interface EncodedChunkMessage {
  /** `key` or `delta`. */
  chunkType: EncodedVideoChunkType;
  /** Presentation timestamp, µs. */
  timestampUs: number;
  /** Duration, µs (0 when unknown). */
  durationUs: number;
  /** The encoded bytes. */
  data: ArrayBuffer;
}

/** Messages from the encoder worker to the main thread, keyed on `type`. */
export type EncoderResponse =
  | { type: 'configured'; config: VideoEncoderConfig }
  | {
      type: 'chunk';
      chunk: EncodedChunkMessage;
      decoderConfig: VideoDecoderConfig | undefined;
      captureTimeMs: number | undefined;
    }
  | { type: 'flushed'; id: number }
  /** The encoder took frames off its queue: `done` frames of all received have left it (encoded or dropped). */
  | { type: 'dequeued'; done: number }
  | { type: 'error'; code: 'FW_ERR_CODEC_UNSUPPORTED' | 'FW_ERR_ENCODE_FAILED'; message: string };
