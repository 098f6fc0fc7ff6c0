import { H264RtpPayload, type RtpPacket } from 'werift';
import { isKeyAccessUnit } from './h264.js';

/** An access unit put back together by {@link H264RtpDepacketizer}. */
export interface DepacketizedAccessUnit {
  /** Annex B NAL units (start codes included). */
  data: Buffer;
  /** True when it holds an IDR slice. */
  key: boolean;
  /** Its 90 kHz RTP timestamp. */
  rtpTimestamp: number;
}

/**
 * Puts RTP packets of H.264 (RFC 6184: single NAL units, STAP-A, FU-A) back into Annex B access units, one per RTP
 * timestamp, complete at the marker bit. Packets must arrive in order: after a gap in the sequence numbers the access
 * unit in progress is dropped and nothing is returned until the next keyframe ({@link needsKeyframe} tells the
 * caller to ask the sender for one).
 */
export class H264RtpDepacketizer {
  #nalus: Buffer[] = [];
  #fragment: Buffer | undefined;
  #timestamp: number | undefined;
  #lastSequence: number | undefined;
  #broken = false;
  #needKey = true;
  #lost = 0;

  /** True until a keyframe arrived after the start or after a loss. */
  get needsKeyframe(): boolean {
    return this.#needKey;
  }

  /** Packets lost (sequence gaps) so far. */
  get lost(): number {
    return this.#lost;
  }

  /** Takes the next packet; returns the access unit it completes, if any. */
  push(packet: RtpPacket): DepacketizedAccessUnit | undefined {
    const { sequenceNumber, timestamp, marker } = packet.header;
    const gap = this.#lastSequence !== undefined && sequenceNumber !== ((this.#lastSequence + 1) & 0xffff);
    this.#lastSequence = sequenceNumber;
    // A new timestamp starts a new access unit; one left without its marker packet is dropped with it.
    if (this.#timestamp !== timestamp) this.#reset(timestamp);
    if (gap) {
      this.#lost++;
      this.#broken = true;
      this.#needKey = true;
    }
    if (packet.payload.length > 0 && !this.#broken) {
      const payload = H264RtpPayload.deSerialize(packet.payload, this.#fragment);
      this.#fragment = payload.fragment;
      // werift leaves `payload` unset for the first and middle parts of a fragmented NAL unit.
      const nalu = payload.payload as Buffer | undefined;
      if (nalu && nalu.length > 0) this.#nalus.push(nalu);
    }
    if (!marker) return undefined;
    const nalus = this.#nalus;
    const broken = this.#broken;
    this.#reset(undefined);
    if (broken || nalus.length === 0) return undefined;
    const data = Buffer.concat(nalus);
    const key = isKeyAccessUnit(data);
    if (this.#needKey && !key) return undefined;
    this.#needKey = false;
    return { data, key, rtpTimestamp: timestamp };
  }

  #reset(timestamp: number | undefined): void {
    this.#nalus = [];
    this.#fragment = undefined;
    this.#timestamp = timestamp;
    this.#broken = false;
  }
}
