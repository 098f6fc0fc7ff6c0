import type { WebRtcOutput } from '../outputs/webrtc-output.js';
import { SourceBase } from './source-base.js';

/**
 * The video browsers send to the bridge over WebRTC (`POST /publish`, WHIP-style) as a bridge source of raw I420
 * frames, stamped with their arrival time: give it to a `FrameFeed` to forward a browser camera to any output,
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
    this.#unsubscribe ??= this.#output.on('frame', ({ frame }) => this.emitFrame(frame));
    return Promise.resolve();
  }

  /** Stops passing frames on. */
  protected release(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
