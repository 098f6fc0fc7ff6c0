/// <reference path="../types/globals.d.ts" />
import { createLogger } from '@framewire/core';

const log = createLogger('track-frame-reader');

/** A frame read from a remote track, with the RTP timestamp the browser received it with (when it tells). */
export interface RemoteTrackFrame {
  /** The frame: the callback owns it (closes it or passes it on). */
  frame: VideoFrame;
  /** Its 90 kHz RTP timestamp (`VideoFrame.metadata().rtpTimestamp`), where the browser gives it. */
  rtpTimestamp: number | undefined;
}

/**
 * Reads a received WebRTC video track frame by frame (`MediaStreamTrackProcessor`) and hands each frame, with its RTP
 * timestamp, to `onFrame` until the track ends, `onFrame` returns false, or `cancel()` is called. Shared by the
 * sources that receive a remote track and replace it on reconnection (WhepSource, JanusSource).
 */
export class TrackFrameReader {
  readonly #reader: ReadableStreamDefaultReader<VideoFrame>;

  /** Starts reading `track`. */
  constructor(track: MediaStreamTrack, onFrame: (received: RemoteTrackFrame) => boolean | Promise<boolean>) {
    const Processor = MediaStreamTrackProcessor as unknown as new (init: { track: MediaStreamTrack }) => {
      readable: ReadableStream<VideoFrame>;
    };
    this.#reader = new Processor({ track }).readable.getReader();
    void this.#pump(onFrame);
  }

  /** Stops reading (the track's pending frames are dropped). Idempotent. */
  cancel(): void {
    void this.#reader.cancel().catch(() => undefined);
  }

  async #pump(onFrame: (received: RemoteTrackFrame) => boolean | Promise<boolean>): Promise<void> {
    try {
      for (;;) {
        const { value: frame, done } = await this.#reader.read();
        if (done) return;
        const rtpTimestamp = (frame as VideoFrame & { metadata?: () => { rtpTimestamp?: number } }).metadata?.()
          .rtpTimestamp;
        if (!(await onFrame({ frame, rtpTimestamp }))) return;
      }
    } catch (error) {
      log.debug(`track reader ended: ${String(error)}`);
    }
  }
}

/** Sets how long the browser may hold received frames (`jitterBufferTarget`, in ms) where it has the setting. */
export function setJitterBufferTarget(receiver: RTCRtpReceiver, targetMs: number | null): void {
  if (targetMs !== null && 'jitterBufferTarget' in receiver) receiver.jitterBufferTarget = targetMs;
}
