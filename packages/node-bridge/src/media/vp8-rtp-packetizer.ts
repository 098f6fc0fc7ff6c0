import { randomInt } from 'node:crypto';
import { assertOption } from '@framewire/core';
import { Vp8Packetizer } from 'werift';
import { RTP_HEADER_BYTES, rtpPacketOptions } from './rtp-packet-options.js';

/** Options of {@link Vp8RtpPacketizer}. */
export interface Vp8RtpPacketizerOptions {
  /** Largest RTP packet written (12-byte header plus payload), in bytes. Default: 1200 (safe on any path). */
  maxPacketBytes?: number;
  /** RTP payload type written in the header (a sender may rewrite it). Default: 96. */
  payloadType?: number;
  /** 90 kHz RTP timestamp of `timestampUs` 0. Default: random. */
  initialTimestamp?: number;
}

/** The RTP packets of one VP8 frame. */
export interface Vp8RtpFrame {
  /** Serialized RTP packets (header and payload), in sending order; the last one has the marker bit. */
  packets: Buffer[];
  /** The 90 kHz RTP timestamp of every packet of the frame. */
  rtpTimestamp: number;
  /** True for a keyframe. */
  key: boolean;
}

/**
 * Packetizes VP8 frames into RTP (RFC 7741) with werift's `Vp8Packetizer`: each packet carries the 4-byte payload
 * descriptor (X=1, I=1 with a 15-bit PictureID that advances once per frame, S=1 on the frame's first packet,
 * partition index 0), no packet exceeds `maxPacketBytes`, the marker bit is set on the frame's last packet, and
 * timestamps are 90 kHz from the frame's `timestampUs`. Keyframes are recognised from the VP8 frame tag.
 *
 * No RTP session state beyond the sequence number and PictureID, so one packetizer serves any number of receivers
 * (their senders rewrite SSRC and payload type).
 */
export class Vp8RtpPacketizer {
  readonly #packetizer: Vp8Packetizer;
  readonly #initialTimestamp: number;

  /** Validates the options. */
  constructor(options: Vp8RtpPacketizerOptions = {}) {
    const { maxPacketBytes, payloadType } = rtpPacketOptions(options);
    const initial = options.initialTimestamp;
    assertOption(
      initial === undefined || (Number.isInteger(initial) && initial >= 0 && initial <= 0xffff_ffff),
      `initialTimestamp must be an integer from 0 to 4294967295; got ${initial}`,
    );
    this.#initialTimestamp = initial ?? randomInt(0, 0xffff_ffff);
    this.#packetizer = new Vp8Packetizer({ maxPayloadSize: maxPacketBytes - RTP_HEADER_BYTES, payloadType });
  }

  /**
   * The RTP packets of one VP8 frame presented at `timestampUs` (µs since the stream's start). Throws
   * `FW_ERR_INVALID_OPTION` for an empty frame or a negative timestamp.
   */
  packetize(frame: Uint8Array, timestampUs: number): Vp8RtpFrame {
    assertOption(frame.length > 0, 'a VP8 frame must not be empty');
    assertOption(Number.isFinite(timestampUs) && timestampUs >= 0, `timestampUs must be >= 0; got ${timestampUs}`);
    const rtpTimestamp = (this.#initialTimestamp + Math.round((timestampUs * 90) / 1000)) % 2 ** 32;
    const data = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    const packets = this.#packetizer.packetize(data, rtpTimestamp).map((packet) => packet.serialize());
    return { packets, rtpTimestamp, key: ((frame[0] ?? 1) & 0x01) === 0 };
  }
}
