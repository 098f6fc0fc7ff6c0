import { createLogger } from '@framewire/core';
import { MediaStreamTrack, type RTCRtpSender } from 'werift';
import { H264RtpPacketizer } from '../media/h264-rtp-packetizer.js';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import { Vp8RtpPacketizer } from '../media/vp8-rtp-packetizer.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';

/** The video codecs a {@link RtpFanout} packetizes: H.264 (RFC 6184) or VP8 (RFC 7741). */
export type RtpFanoutCodec = 'h264' | 'vp8';

/** Options of {@link RtpFanout}. */
export interface RtpFanoutOptions {
  /** Largest RTP packet, in bytes. Default: 1200. */
  maxPacketBytes?: number;
  /**
   * Largest group of pictures kept for late joiners (the packets from the latest keyframe on), in bytes; a longer
   * one is dropped and a new viewer waits for the next keyframe. Default: 4 MiB.
   */
  maxCachedBytes?: number;
}

/** Counters of an {@link RtpFanout}. */
export interface RtpFanoutStats {
  /** Access units (frames) packetized (once each, whatever the number of viewers). */
  accessUnits: number;
  /** RTP packets written to the shared track. */
  packets: number;
  /** Bytes of those packets. */
  bytes: number;
  /** Access units skipped: unusable, or before the first keyframe. */
  skipped: number;
}

/** One access unit written to the shared track. */
export interface RtpFanoutWrite {
  /** Bytes of its RTP packets. */
  bytes: number;
  /** Its capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
  /**
   * Its RTP time on the wall clock, in ms since the Unix epoch: the first access unit's capture time plus the
   * media time since then (so `RTP timestamp / 90 - rtpClockMs` is one constant per fan-out).
   */
  rtpClockMs: number;
  /**
   * Its 90 kHz RTP timestamp as written to the track (werift's senders keep it): sent to viewers beside the capture
   * time, so that a stream as regular as a file's or an encoder's maps each frame to its own time without guessing.
   */
  rtpTimestamp: number;
  /** Its RTP packets, in sending order (for outputs that send them elsewhere too, such as a Janus mountpoint). */
  packets: readonly Buffer[];
}

/** Packetizes one access unit of the fan-out's codec. */
interface AccessUnitPacketizer {
  packetize(data: Uint8Array, timestampUs: number): { packets: Buffer[]; key: boolean; rtpTimestamp: number };
}

const log = createLogger('webrtc-fanout');

/**
 * One source's video as RTP, shared by every passthrough viewer of that source: subscribes once to the source's
 * feed in `codec` while started (H.264 passed through or encoded once; VP8 from the one shared VP8 encoder),
 * packetizes each access unit once ({@link H264RtpPacketizer}, RFC 6184, or {@link Vp8RtpPacketizer}, RFC 7741)
 * and writes the packets to one werift `MediaStreamTrack` that every viewer's `sendonly` transceiver sends (each
 * sender only rewrites SSRC and payload type, encrypts and keeps its own NACK cache).
 *
 * It keeps the packets of the current group of pictures (from the latest keyframe on) so that a viewer that
 * connects mid-group gets them at once ({@link primeViewer}) and shows a picture without waiting for the next
 * keyframe; their sequence numbers run straight into the live packets that follow.
 */
export class RtpFanout {
  /** The track every viewer's sender reads. */
  readonly track = new MediaStreamTrack({ kind: 'video' });
  /** The codec of the feed and of the packets. */
  readonly codec: RtpFanoutCodec;
  readonly #feed: FrameFeed;
  readonly #packetizer: AccessUnitPacketizer;
  readonly #maxCachedBytes: number;
  readonly #listeners = new Set<(write: RtpFanoutWrite) => void>();
  #clockBaseMs: number | undefined;
  #unsubscribe: (() => void) | undefined;
  #gop: Buffer[] = [];
  #gopBytes = 0;
  #sawKey = false;
  #accessUnits = 0;
  #packets = 0;
  #bytes = 0;
  #skipped = 0;

  /** Prepares the fan-out of `feed` (a feed in `codec`); nothing runs until {@link start}. */
  constructor(feed: FrameFeed, codec: RtpFanoutCodec, options: RtpFanoutOptions = {}) {
    this.#feed = feed;
    this.codec = codec;
    const maxPacketBytes = options.maxPacketBytes ?? 1200;
    this.#packetizer =
      codec === 'vp8' ? new Vp8RtpPacketizer({ maxPacketBytes }) : new H264RtpPacketizer({ maxPacketBytes });
    this.#maxCachedBytes = options.maxCachedBytes ?? 4 * 1024 * 1024;
  }

  /** The counters. */
  get stats(): RtpFanoutStats {
    return { accessUnits: this.#accessUnits, packets: this.#packets, bytes: this.#bytes, skipped: this.#skipped };
  }

  /** True while subscribed to the feed. */
  get running(): boolean {
    return this.#unsubscribe !== undefined;
  }

  /** Subscribes to the feed (the first viewer calls it). Idempotent. */
  start(): void {
    this.#unsubscribe ??= this.#feed.subscribe((frame) => this.#onFrame(frame));
  }

  /** Unsubscribes from the feed (after the last viewer) and forgets the cached packets. Idempotent. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#gop = [];
    this.#gopBytes = 0;
    this.#sawKey = false;
    this.#clockBaseMs = undefined;
  }

  /** Calls `listener` for every access unit written to the track; returns its remover. */
  onWrite(listener: (write: RtpFanoutWrite) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sends the current group of pictures (from the latest keyframe on) to one newly connected viewer's sender, so
   * that it decodes at once; returns the bytes sent (0 when no keyframe is cached yet).
   */
  primeViewer(sender: RTCRtpSender): number {
    let bytes = 0;
    for (const packet of this.#gop) {
      bytes += packet.length;
      sender.sendRtp(packet).catch((error: unknown) => log.debug(`priming a viewer failed: ${String(error)}`));
    }
    return bytes;
  }

  #onFrame(frame: SourceFrame): void {
    if (isRawFrame(frame) || frame.codec !== this.codec) return;
    if (!this.#sawKey && !frame.key) {
      this.#skipped++;
      return;
    }
    let packets: Buffer[];
    let key: boolean;
    let rtpTimestamp: number;
    try {
      ({ packets, key, rtpTimestamp } = this.#packetizer.packetize(frame.data, frame.timestampUs));
    } catch (error) {
      this.#skipped++;
      log.debug(`skipped an access unit: ${(error as Error).message}`);
      return;
    }
    this.#sawKey = true;
    this.#accessUnits++;
    if (key) {
      this.#gop = [];
      this.#gopBytes = 0;
    }
    let bytes = 0;
    for (const packet of packets) {
      bytes += packet.length;
      this.track.writeRtp(packet);
    }
    this.#packets += packets.length;
    this.#bytes += bytes;
    if (this.#gopBytes + bytes <= this.#maxCachedBytes) {
      this.#gop.push(...packets);
      this.#gopBytes += bytes;
    } else {
      // Too long to replay: late joiners wait for the next keyframe.
      this.#gop = [];
      this.#gopBytes = Number.POSITIVE_INFINITY;
    }
    this.#clockBaseMs ??= frame.captureTimeMs - frame.timestampUs / 1000;
    const write = {
      bytes,
      captureTimeMs: frame.captureTimeMs,
      rtpClockMs: this.#clockBaseMs + frame.timestampUs / 1000,
      rtpTimestamp,
      packets,
    };
    for (const listener of this.#listeners) listener(write);
  }
}
