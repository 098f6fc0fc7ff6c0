import type { EncodedFrame } from '../media/encoded-frame.js';
import type { RawFrame } from '../media/raw-frame.js';
import { SourceBase } from './source-base.js';

/** The events {@link WebRtcPublishSource} reads: the frames of every publishing session. */
export type PublishedVideoEvents = {
  /** An I420 frame a publisher sent (VP8 publishers, decoded), stamped with its arrival time. */
  frame: { frame: RawFrame };
  /** An H.264 access unit (Annex B) a publisher sent, passed on without decoding, stamped with its arrival time. */
  h264: { frame: EncodedFrame };
};

/**
 * What receives video published to the bridge over WebRTC: the `WebRtcOutput` is one. Declared here, by the
 * source that reads it, so that sources do not depend on an output.
 */
export interface PublishedVideo {
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof PublishedVideoEvents>(event: E, listener: (payload: PublishedVideoEvents[E]) => void): () => void;
}

/**
 * The video browsers and other bridges send to the bridge over WebRTC (`POST /whip`, or its alias `/publish`) as a
 * bridge source, stamped with their arrival time: raw I420 frames from VP8 publishers (browsers), H.264 access units
 * from publishers that send H.264 only (another bridge's `--whip-push`): give it to a `FrameFeed` to forward a browser camera to any output,
 * e.g. `new NetGearOutput(new FrameFeed(source, 'BGR24'), { port })` for a Python vidgear receiver. Frames of
 * every publishing session pass through (with several publishers, their frames interleave).
 */
export class WebRtcPublishSource extends SourceBase {
  readonly #output: PublishedVideo;
  #unsubscribe: (() => void) | undefined;

  /** Reads the published video of `output` (a `WebRtcOutput`) under source id `id` (default `browser`). */
  constructor(output: PublishedVideo, id = 'browser') {
    super(id, 'webrtc');
    this.#output = output;
  }

  /** Starts passing frames on (idempotent). */
  start(): Promise<void> {
    if (!this.#unsubscribe) {
      const raw = this.#output.on('frame', ({ frame }) => this.emitFrame(frame));
      const h264 = this.#output.on('h264', ({ frame }) => this.emitFrame(frame));
      this.#unsubscribe = () => {
        raw();
        h264();
      };
    }
    return Promise.resolve();
  }

  /** Stops passing frames on. */
  protected release(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
