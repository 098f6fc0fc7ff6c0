import { randomInt } from 'node:crypto';
import { FramewireError, assertOption } from '@framewire/core';

/** Options of {@link OpusRtpPacketizer}. */
export interface OpusRtpPacketizerOptions {
  /** RTP payload type (a sender rewrites it to the negotiated one). Default: 111. */
  payloadType?: number;
  /** SSRC (a sender rewrites it). Default: random. */
  ssrc?: number;
  /** First sequence number. Default: random. */
  initialSequenceNumber?: number;
  /** 48 kHz RTP timestamp of `timestampUs` 0. Default: random. */
  initialTimestamp?: number;
}

/** Bytes of an RTP header without CSRCs or extensions. */
const RTP_HEADER_BYTES = 12;
/** The longest Opus packet (RFC 6716 §3.4: 1275 bytes per frame, up to 120 ms). */
const MAX_OPUS_PACKET_BYTES = 1275 * 3;

/**
 * Opus packets to RTP (RFC 7587): the payload is the Opus packet as is, one per RTP packet; the timestamp runs at
 * 48 kHz whatever the sample rate, taken from the packet's `timestampUs`; the marker bit is never set (Opus sends
 * no silence gaps here: every 20 ms has its packet). Pure, like the H.264 packetizer: one packetizer per stream.
 */
export class OpusRtpPacketizer {
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #initialTimestamp: number;
  #sequenceNumber: number;

  /** Validates the options. */
  constructor(options: OpusRtpPacketizerOptions = {}) {
    this.#payloadType = options.payloadType ?? 111;
    assertOption(
      Number.isInteger(this.#payloadType) && this.#payloadType >= 0 && this.#payloadType <= 127,
      'payloadType must be an integer in 0..127',
    );
    this.#ssrc = (options.ssrc ?? randomInt(1, 0xffffffff)) >>> 0;
    this.#sequenceNumber = (options.initialSequenceNumber ?? randomInt(0, 0x10000)) & 0xffff;
    this.#initialTimestamp = (options.initialTimestamp ?? randomInt(0, 0xffffffff)) >>> 0;
  }

  /** The 48 kHz RTP timestamp of `timestampUs`. */
  rtpTimestamp(timestampUs: number): number {
    return (this.#initialTimestamp + Math.round((timestampUs * 48) / 1000)) >>> 0;
  }

  /**
   * The RTP packet of one Opus packet presented at `timestampUs` (µs since the audio started). Throws
   * `FW_ERR_FRAME_TOO_LARGE` for an empty packet or one longer than Opus allows.
   */
  packetize(opus: Uint8Array, timestampUs: number): Buffer {
    if (opus.byteLength === 0 || opus.byteLength > MAX_OPUS_PACKET_BYTES)
      throw new FramewireError('FW_ERR_FRAME_TOO_LARGE', `an Opus packet of ${opus.byteLength} bytes`, {
        stage: 'webrtc',
      });
    const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + opus.byteLength);
    packet[0] = 0x80; // version 2, no padding, no extension, no CSRC
    packet[1] = this.#payloadType;
    packet.writeUInt16BE(this.#sequenceNumber, 2);
    packet.writeUInt32BE(this.rtpTimestamp(timestampUs), 4);
    packet.writeUInt32BE(this.#ssrc, 8);
    packet.set(opus, RTP_HEADER_BYTES);
    this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    return packet;
  }
}
