import type { FramewireError } from '@framewire/core';
import type { AudioInfo, AudioPacket } from '../media/audio-packet.js';

/** Events of an {@link AudioInput}. */
export type AudioInputEvents = {
  /** One Opus packet, stamped on the capture clock. */
  packet: { packet: AudioPacket };
  /** The input failed; it keeps retrying (non-fatal) and the video of its source keeps flowing. */
  error: { error: FramewireError; fatal: boolean };
};

/**
 * An audio input that runs beside a source's video (a capture device read by its own ffmpeg): the source starts it
 * with itself, forwards its packets as `audio` events and its errors as non-fatal `error` events, and closes it.
 */
export interface AudioInput {
  /** What the input produces. */
  readonly info: AudioInfo;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof AudioInputEvents>(event: E, listener: (payload: AudioInputEvents[E]) => void): () => void;
  /** Starts capturing (no-op when started). */
  start(): void;
  /** Stops for good. Idempotent. */
  close(): Promise<void>;
}
