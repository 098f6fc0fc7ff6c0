import type { AudioInfo, AudioPacket } from './audio-packet.js';
import { MediaStartClock } from './media-start-clock.js';
import { OggOpusDemuxer } from './ogg-opus-demuxer.js';

/**
 * Turns an Ogg Opus byte stream from an encoder that runs in real time (ffmpeg reading a device, a live camera or
 * a paced test pattern) into stamped {@link AudioPacket}s. A packet's media time comes from the stream's granule
 * positions; its capture time is that media time plus the stream's start on the wall clock ({@link MediaStartClock}:
 * the earliest `arrival − media end` seen so far, the packet that came through with the least delay), so that the
 * capture times keep the encoder's regular spacing instead of the pipe's jitter. Capture times never go back.
 */
export class OpusStreamReader {
  readonly #demuxer = new OggOpusDemuxer();
  readonly #now: () => number;
  readonly #clock: MediaStartClock;
  #lastCaptureMs = Number.NEGATIVE_INFINITY;

  /**
   * Reads one stream (make a new reader for each run of the encoder); `now` is the wall clock in ms; `clock` is
   * shared with the video of the same encoder run (default: the stream's own).
   */
  constructor(now: () => number = Date.now, clock = new MediaStartClock()) {
    this.#now = now;
    this.#clock = clock;
  }

  /** The stream's audio, once its `OpusHead` was read. */
  get info(): AudioInfo | undefined {
    const head = this.#demuxer.head;
    return head ? { codec: 'opus', sampleRate: 48_000, channels: head.channels } : undefined;
  }

  /** Adds bytes; returns the packets they complete. Throws `FW_ERR_PROTOCOL_VIOLATION` on a broken stream. */
  push(chunk: Uint8Array): AudioPacket[] {
    const packets = this.#demuxer.push(chunk);
    if (packets.length === 0) return [];
    const arrivalMs = this.#now();
    const last = packets[packets.length - 1];
    if (last) this.#clock.observe(arrivalMs, ((last.startSample + last.samples) * 1000) / 48_000);
    return packets.map(({ data, startSample, samples }) => {
      const timestampUs = Math.round((startSample * 1_000_000) / 48_000);
      const captureTimeMs = Math.max((this.#clock.startMs ?? arrivalMs) + timestampUs / 1000, this.#lastCaptureMs);
      this.#lastCaptureMs = captureTimeMs;
      return {
        codec: 'opus',
        data,
        timestampUs,
        durationUs: Math.round((samples * 1_000_000) / 48_000),
        captureTimeMs,
      };
    });
  }
}
