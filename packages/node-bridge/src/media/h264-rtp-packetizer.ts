import { randomInt } from 'node:crypto';
import { FramewireError, assertOption } from '@framewire/core';
import { NAL_TYPES, nalType, splitNalUnits } from './h264.js';
import { RTP_HEADER_BYTES, rtpPacketOptions } from './rtp-packet-options.js';

/** Options of {@link H264RtpPacketizer}. */
export interface H264RtpPacketizerOptions {
  /** Largest RTP packet written (12-byte header plus payload), in bytes. Default: 1200 (safe on any path). */
  maxPacketBytes?: number;
  /** RTP payload type written in the header (a sender may rewrite it). Default: 96. */
  payloadType?: number;
  /** RTP SSRC written in the header (a sender may rewrite it). Default: random. */
  ssrc?: number;
  /** Sequence number of the first packet. Default: random. */
  initialSequenceNumber?: number;
  /** 90 kHz RTP timestamp of `timestampUs` 0. Default: random. */
  initialTimestamp?: number;
  /** Aggregate small NAL units of an access unit (SPS, PPS, SEI) into STAP-A packets. Default: true. */
  aggregate?: boolean;
}

/** The RTP packets of one access unit. */
export interface H264RtpAccessUnit {
  /** Serialized RTP packets (header and payload), in sending order; the last one has the marker bit. */
  packets: Buffer[];
  /** The 90 kHz RTP timestamp of every packet of the access unit. */
  rtpTimestamp: number;
  /** True when the access unit holds an IDR slice. */
  key: boolean;
  /** True when SPS/PPS kept from earlier access units were inserted before its IDR slice. */
  parameterSetsInserted: boolean;
}

const STAP_A = 24;
const FU_A = 28;
/** NAL unit types that are not sent: access unit delimiters, end of sequence/stream, filler data. */
const DROPPED_TYPES = new Set([NAL_TYPES.aud, 10, 11, 12]);

/**
 * Packetizes H.264 Annex B access units into RTP (RFC 6184, packetization-mode 1): each NAL unit goes in a single
 * NAL unit packet when it fits, in FU-A fragments otherwise, and runs of small NAL units (SPS, PPS, SEI) in STAP-A
 * packets; no packet exceeds `maxPacketBytes`. The marker bit is set on the last packet of each access unit;
 * timestamps are 90 kHz from the access unit's `timestampUs`.
 *
 * The latest SPS and PPS seen are kept and inserted before an IDR slice whose access unit lacks them, so that a
 * decoder joining at any keyframe can start. Access delimiters and filler data are not sent.
 *
 * Pure: no I/O and no RTP session state beyond the sequence number, so one packetizer serves any number of
 * receivers (their senders rewrite SSRC and payload type).
 */
export class H264RtpPacketizer {
  readonly #maxPayloadBytes: number;
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #initialTimestamp: number;
  readonly #aggregate: boolean;
  #sequenceNumber: number;
  #sps: Uint8Array | undefined;
  #pps: Uint8Array | undefined;

  /** Validates the options. */
  constructor(options: H264RtpPacketizerOptions = {}) {
    const { maxPacketBytes, payloadType } = rtpPacketOptions(options);
    const uint = (value: number | undefined, max: number, name: string): number | undefined => {
      assertOption(
        value === undefined || (Number.isInteger(value) && value >= 0 && value <= max),
        `${name} must be an integer from 0 to ${max}; got ${value}`,
      );
      return value;
    };
    this.#maxPayloadBytes = maxPacketBytes - RTP_HEADER_BYTES;
    this.#payloadType = payloadType;
    this.#ssrc = uint(options.ssrc, 0xffff_ffff, 'ssrc') ?? randomInt(1, 0xffff_ffff);
    this.#sequenceNumber = uint(options.initialSequenceNumber, 0xffff, 'initialSequenceNumber') ?? randomInt(0, 0xffff);
    this.#initialTimestamp =
      uint(options.initialTimestamp, 0xffff_ffff, 'initialTimestamp') ?? randomInt(0, 0xffff_ffff);
    this.#aggregate = options.aggregate ?? true;
  }

  /** True once an SPS and a PPS have been seen (IDR slices can then always be sent with them). */
  get hasParameterSets(): boolean {
    return this.#sps !== undefined && this.#pps !== undefined;
  }

  /**
   * The RTP packets of one Annex B access unit presented at `timestampUs` (µs since the source started). Throws
   * `FW_ERR_FRAME_UNUSABLE` when the buffer holds no NAL unit (empty, or no start code); the packetizer's state is
   * unchanged then, and the caller skips that access unit.
   */
  packetize(accessUnit: Uint8Array, timestampUs: number): H264RtpAccessUnit {
    const units = splitNalUnits(accessUnit).filter((unit) => {
      const type = nalType(unit);
      return type >= 1 && type <= 23 && !DROPPED_TYPES.has(type);
    });
    if (units.length === 0)
      throw new FramewireError(
        'FW_ERR_FRAME_UNUSABLE',
        accessUnit.length === 0
          ? 'the H.264 access unit is empty'
          : 'the H.264 access unit holds no NAL unit (it must be Annex B, with 00 00 01 start codes)',
        { stage: 'h264-rtp' },
      );
    const types = units.map(nalType);
    for (const unit of units) {
      if (nalType(unit) === NAL_TYPES.sps) this.#sps = Buffer.from(unit);
      if (nalType(unit) === NAL_TYPES.pps) this.#pps = Buffer.from(unit);
    }
    const key = types.includes(NAL_TYPES.idr);
    let parameterSetsInserted = false;
    if (key) {
      const missing: Uint8Array[] = [];
      if (!types.includes(NAL_TYPES.sps) && this.#sps) missing.push(this.#sps);
      if (!types.includes(NAL_TYPES.pps) && this.#pps) missing.push(this.#pps);
      if (missing.length > 0) {
        const firstSlice = types.findIndex((type) => type >= NAL_TYPES.slice && type <= NAL_TYPES.idr);
        units.splice(Math.max(0, firstSlice), 0, ...missing);
        parameterSetsInserted = true;
      }
    }
    const rtpTimestamp = (this.#initialTimestamp + Math.round((timestampUs * 9) / 100)) >>> 0;
    const payloads = this.#payloads(units);
    const packets = payloads.map((payload, i) => this.#packet(payload, rtpTimestamp, i === payloads.length - 1));
    return { packets, rtpTimestamp, key, parameterSetsInserted };
  }

  #payloads(units: Uint8Array[]): Uint8Array[] {
    const max = this.#maxPayloadBytes;
    const payloads: Uint8Array[] = [];
    let i = 0;
    for (let unit = units[0]; unit !== undefined; unit = units[i]) {
      if (unit.length > max) {
        payloads.push(...fragment(unit, max));
        i++;
        continue;
      }
      // STAP-A: one header byte, then a 16-bit size before each NAL unit.
      let end = i;
      let size = 1;
      for (let next = units[end]; this.#aggregate && next !== undefined && size + 2 + next.length <= max;) {
        size += 2 + next.length;
        next = units[++end];
      }
      if (end - i >= 2) {
        payloads.push(stapA(units.slice(i, end), size));
        i = end;
      } else {
        payloads.push(unit);
        i++;
      }
    }
    return payloads;
  }

  #packet(payload: Uint8Array, timestamp: number, marker: boolean): Buffer {
    const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
    packet[0] = 0x80; // version 2, no padding, no extension, no CSRC
    packet[1] = (marker ? 0x80 : 0) | this.#payloadType;
    packet.writeUInt16BE(this.#sequenceNumber, 2);
    packet.writeUInt32BE(timestamp, 4);
    packet.writeUInt32BE(this.#ssrc, 8);
    packet.set(payload, RTP_HEADER_BYTES);
    this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    return packet;
  }
}

/** STAP-A payload of `units` (RFC 6184 §5.7.1): F is the OR, NRI the maximum of the units'. */
function stapA(units: Uint8Array[], size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  let forbidden = 0;
  let nri = 0;
  let offset = 1;
  for (const unit of units) {
    const header = unit[0] ?? 0;
    forbidden |= header & 0x80;
    nri = Math.max(nri, header & 0x60);
    payload.writeUInt16BE(unit.length, offset);
    payload.set(unit, offset + 2);
    offset += 2 + unit.length;
  }
  payload[0] = forbidden | nri | STAP_A;
  return payload;
}

/** FU-A fragments of a NAL unit larger than `max` (RFC 6184 §5.8), each at most `max` bytes. */
function fragment(unit: Uint8Array, max: number): Buffer[] {
  const header = unit[0] ?? 0;
  const indicator = (header & 0xe0) | FU_A;
  const type = header & 0x1f;
  const body = unit.subarray(1);
  const chunk = max - 2;
  const count = Math.ceil(body.length / chunk);
  // Even fragment sizes: no tiny last packet.
  const size = Math.ceil(body.length / count);
  const fragments: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += size) {
    const part = body.subarray(offset, offset + size);
    const payload = Buffer.allocUnsafe(2 + part.length);
    const start = offset === 0 ? 0x80 : 0;
    const end = offset + size >= body.length ? 0x40 : 0;
    payload[0] = indicator;
    payload[1] = start | end | type;
    payload.set(part, 2);
    fragments.push(payload);
  }
  return fragments;
}
