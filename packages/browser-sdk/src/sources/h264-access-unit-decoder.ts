import { FramewireError } from '@framewire/core';
import { WS_FRAME_FLAGS, type WsConfigMessage, type WsFrameHeader } from '@framewire/core/bridge-protocol';
import { stampFrameInfo, type FrameInfo } from '../core/frame-info.js';

/** Where an {@link H264AccessUnitDecoder} sends its frames and failures. */
export interface H264AccessUnitDecoderHandlers {
  /**
   * A decoded frame (the receiver owns it) with the capture time of its access unit, when known, and what its
   * header said about it (pts, keyframe, picture type), already stamped on the frame (see {@link getFrameInfo}).
   */
  frame(frame: VideoFrame, captureTimeMs: number | undefined, info: FrameInfo | undefined): void;
  /**
   * A failure: a non-fatal `FW_ERR_DECODE_FAILED` (the decoder was reset and resumes at the next keyframe) or a
   * fatal `FW_ERR_CODEC_UNSUPPORTED` (this browser cannot decode the stream).
   */
  error(error: FramewireError): void;
}

/**
 * What {@link H264AccessUnitDecoder.decode} did with an access unit: `decoding` (handed to the decoder),
 * `waiting` (no keyframe yet since the start or the last failure), `no-config` (a keyframe before any config).
 */
export type AccessUnitOutcome = 'decoding' | 'waiting' | 'no-config' | 'failed';

/**
 * Decodes the Node bridge's H.264 access units (each with its {@link WsFrameHeader}, after a {@link WsConfigMessage})
 * with WebCodecs `VideoDecoder`, whatever carried them (the bridge's WebSocket, or a WebRTC data channel): it
 * configures the decoder from the config message and the first keyframe (Annex B, or AVC with SPS/PPS in band),
 * starts at a keyframe, pairs each decoded frame with its access unit's capture time, and after a decoder failure
 * resets and waits for the next keyframe.
 */
export class H264AccessUnitDecoder {
  readonly #handlers: H264AccessUnitDecoderHandlers;
  readonly #name: string;
  /** Capture times and headers of the access units in the decoder, in decode order (timestamps may repeat). */
  readonly #inFlight: { captureTimeMs: number; info: FrameInfo }[] = [];
  #decoder: VideoDecoder | undefined;
  #config: WsConfigMessage | undefined;
  #configured = '';
  #needKey = true;
  #decodeErrors = 0;

  /** Decodes for `handlers`; `name` (e.g. the stream's URL) appears in error messages. */
  constructor(handlers: H264AccessUnitDecoderHandlers, name: string) {
    this.#handlers = handlers;
    this.#name = name;
  }

  /** Decoder failures so far (each reset the decoder). */
  get decodeErrors(): number {
    return this.#decodeErrors;
  }

  /** Takes the codec configuration for the keyframes that follow. */
  setConfig(config: WsConfigMessage): void {
    this.#config = config;
  }

  /** Decodes one access unit (or skips it until a keyframe, as described on {@link AccessUnitOutcome}). */
  decode(header: WsFrameHeader, payload: Uint8Array): AccessUnitOutcome {
    const key = (header.flags & WS_FRAME_FLAGS.key) !== 0;
    if (this.#needKey && !key) return 'waiting';
    if (key) {
      const configured = this.#configure(payload);
      if (configured !== 'ok') return configured;
    }
    const decoder = this.#decoder;
    if (decoder?.state !== 'configured') return 'waiting';
    this.#needKey = false;
    this.#inFlight.push({
      captureTimeMs: header.captureTimeMs,
      info: {
        timestampUs: header.timestampUs,
        key,
        ...(header.frameType === undefined ? {} : { frameType: header.frameType }),
      },
    });
    if (this.#inFlight.length > 64) this.#inFlight.shift();
    try {
      decoder.decode(
        new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: header.timestampUs, data: payload }),
      );
    } catch (error) {
      this.#failed(error);
      return 'failed';
    }
    return 'decoding';
  }

  /** Drops the decoder and the frames in it; decoding resumes at the next keyframe. */
  reset(): void {
    const decoder = this.#decoder;
    this.#decoder = undefined;
    this.#configured = '';
    this.#needKey = true;
    this.#inFlight.length = 0;
    if (decoder && decoder.state !== 'closed') decoder.close();
  }

  /** Makes sure the decoder is configured for the current config and `keyPayload`'s form. */
  #configure(keyPayload: Uint8Array): 'ok' | 'no-config' | 'failed' {
    const config = this.#config;
    if (!config) return 'no-config';
    const annexB = isAnnexB(keyPayload);
    const wanted = `${config.codec} ${config.codedWidth}x${config.codedHeight} ${annexB ? 'annexb' : 'avc'}`;
    if (this.#decoder?.state === 'configured' && this.#configured === wanted) return 'ok';
    const decoderConfig: VideoDecoderConfig = {
      codec: config.codec,
      codedWidth: config.codedWidth,
      codedHeight: config.codedHeight,
      optimizeForLatency: true,
    };
    if (!annexB) {
      const description = avcDescription(keyPayload);
      if (!description) {
        this.#failed(new Error('a keyframe in AVC form without SPS and PPS'));
        return 'failed';
      }
      decoderConfig.description = description;
    }
    if (!this.#decoder || this.#decoder.state === 'closed') this.#decoder = this.#newDecoder();
    try {
      this.#decoder.configure(decoderConfig);
    } catch (error) {
      this.reset();
      this.#handlers.error(
        new FramewireError('FW_ERR_CODEC_UNSUPPORTED', `Cannot decode ${config.codec}: ${String(error)}`, {
          cause: error,
          fatal: true,
          stage: 'decode',
          details: { codec: config.codec },
        }),
      );
      return 'failed';
    }
    this.#configured = wanted;
    return 'ok';
  }

  #newDecoder(): VideoDecoder {
    const decoder: VideoDecoder = new VideoDecoder({
      output: (frame) => {
        const unit = this.#takeUnit(frame.timestamp);
        if (decoder !== this.#decoder) {
          frame.close();
          return;
        }
        if (unit) stampFrameInfo(frame, unit.info);
        this.#handlers.frame(frame, unit?.captureTimeMs, unit?.info);
      },
      error: (error) => {
        if (decoder !== this.#decoder) return;
        if (error.name === 'NotSupportedError') {
          this.reset();
          this.#handlers.error(
            new FramewireError('FW_ERR_CODEC_UNSUPPORTED', `This browser cannot decode ${this.#config?.codec ?? '?'}`, {
              cause: error,
              fatal: true,
              stage: 'decode',
            }),
          );
          return;
        }
        this.#failed(error);
      },
    });
    return decoder;
  }

  /**
   * The oldest access unit in flight with `timestampUs`. Only that one leaves: with B-frames the decoder outputs in
   * presentation order, so units decoded earlier (a P shown after the Bs) are still to come.
   */
  #takeUnit(timestampUs: number): { captureTimeMs: number; info: FrameInfo } | undefined {
    const index = this.#inFlight.findIndex((unit) => unit.info.timestampUs === timestampUs);
    return index < 0 ? undefined : this.#inFlight.splice(index, 1)[0];
  }

  /** A decoder failure: report it (non-fatal), drop the decoder and wait for the next keyframe. */
  #failed(cause: unknown): void {
    this.#decodeErrors++;
    this.reset();
    this.#handlers.error(
      new FramewireError('FW_ERR_DECODE_FAILED', `Could not decode a frame from ${this.#name}: ${String(cause)}`, {
        cause,
        fatal: false,
        stage: 'decode',
      }),
    );
  }
}

/** True when `payload` starts with an Annex B start code (`00 00 01` or `00 00 00 01`). */
function isAnnexB(payload: Uint8Array): boolean {
  return payload[0] === 0 && payload[1] === 0 && (payload[2] === 1 || (payload[2] === 0 && payload[3] === 1));
}

/** Builds an `avcC` record from the SPS and PPS of an AVC-form (4-byte length-prefixed) access unit. */
function avcDescription(payload: Uint8Array): Uint8Array | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  for (let offset = 0; offset + 4 <= payload.byteLength;) {
    const length = view.getUint32(offset);
    const nal = payload.subarray(offset + 4, offset + 4 + length);
    if (length === 0 || nal.byteLength < length) return undefined;
    const type = (nal[0] ?? 0) & 0x1f;
    if (type === 7) sps ??= nal;
    if (type === 8) pps ??= nal;
    offset += 4 + length;
  }
  if (!sps || !pps || sps.byteLength < 4) return undefined;
  const record = new Uint8Array(11 + sps.byteLength + pps.byteLength);
  record.set([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1, sps.byteLength >> 8, sps.byteLength & 0xff]);
  record.set(sps, 8);
  const at = 8 + sps.byteLength;
  record.set([1, pps.byteLength >> 8, pps.byteLength & 0xff], at);
  record.set(pps, at + 3);
  return record;
}
