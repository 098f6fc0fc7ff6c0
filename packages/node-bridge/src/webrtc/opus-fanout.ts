import { createLogger } from '@framewire/core';
import { MediaStreamTrack } from 'werift';
import type { AudioPacket } from '../media/audio-packet.js';
import { OpusRtpPacketizer } from '../media/opus-rtp-packetizer.js';
import type { VideoSource } from '../sources/video-source.js';

/** One Opus packet written to the shared track. */
export interface OpusFanoutWrite {
  /** Bytes of its RTP packet. */
  bytes: number;
  /** Its capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
  /** Its 48 kHz RTP timestamp as written to the track. */
  rtpTimestamp: number;
  /** Its RTP packet (for outputs that send it elsewhere too, such as a Janus mountpoint). */
  packet: Buffer;
}

/** Counters of an {@link OpusFanout}. */
export interface OpusFanoutStats {
  /** Opus packets written (once each, whatever the number of viewers). */
  packets: number;
  /** Bytes of their RTP packets. */
  bytes: number;
}

const log = createLogger('webrtc-opus');

/**
 * One source's Opus audio as RTP (RFC 7587), shared by every passthrough viewer of that source, like
 * {@link RtpFanout} for its video: it listens to the source's `audio` events while started, packetizes each Opus
 * packet once and writes it to one werift audio `MediaStreamTrack` that every viewer's `sendonly` audio transceiver
 * sends. Nothing is encoded here: the source's audio is Opus already.
 */
export class OpusFanout {
  /** The track every viewer's audio sender reads. */
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  readonly #source: VideoSource;
  readonly #packetizer = new OpusRtpPacketizer();
  readonly #listeners = new Set<(write: OpusFanoutWrite) => void>();
  #unsubscribe: (() => void) | undefined;
  #packets = 0;
  #bytes = 0;

  /** Prepares the fan-out of `source`'s audio; nothing runs until {@link start}. */
  constructor(source: VideoSource) {
    this.#source = source;
  }

  /** The counters. */
  get stats(): OpusFanoutStats {
    return { packets: this.#packets, bytes: this.#bytes };
  }

  /** True while listening to the source. */
  get running(): boolean {
    return this.#unsubscribe !== undefined;
  }

  /** Listens to the source's audio (the first viewer with audio calls it). Idempotent. */
  start(): void {
    this.#unsubscribe ??= this.#source.on('audio', ({ packet }) => this.#onPacket(packet));
  }

  /** Stops listening (after the last viewer). Idempotent. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Calls `listener` for every packet written to the track; returns its remover. */
  onWrite(listener: (write: OpusFanoutWrite) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #onPacket(packet: AudioPacket): void {
    let rtp: Buffer;
    try {
      rtp = this.#packetizer.packetize(packet.data, packet.timestampUs);
    } catch (error) {
      log.debug(`skipped an Opus packet: ${(error as Error).message}`);
      return;
    }
    this.track.writeRtp(rtp);
    this.#packets++;
    this.#bytes += rtp.length;
    const write = {
      bytes: rtp.length,
      captureTimeMs: packet.captureTimeMs,
      rtpTimestamp: this.#packetizer.rtpTimestamp(packet.timestampUs),
      packet: rtp,
    };
    for (const listener of this.#listeners) listener(write);
  }
}
