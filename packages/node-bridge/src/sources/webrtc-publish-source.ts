import type { WebRtcOutput } from '../outputs/webrtc-output.js';
import { SourceBase } from './source-base.js';

/**
 * The video browsers and other bridges send to the bridge over WebRTC (`POST /whip`, or its alias `/publish`) as a
 * bridge source, stamped with their arrival time: raw I420 frames from VP8 publishers (browsers), H.264 access units
 * from publishers that send H.264 only (another bridge's `--whip-push`): give it to a `FrameFeed` to forward a browser camera to any output,
 * e.g. `new NetGearOutput(new FrameFeed(source, 'BGR24'), { port })` for a Python vidgear receiver. Frames of
 * every publishing session pass through (with several publishers, their frames interleave).
 */
export class WebRtcPublishSource extends SourceBase {
  readonly #output: WebRtcOutput;
  #unsubscribe: (() => void) | undefined;

  /** Reads the published video of `output` under source id `id` (default `browser`). */
  constructor(output: WebRtcOutput, id = 'browser') {
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
