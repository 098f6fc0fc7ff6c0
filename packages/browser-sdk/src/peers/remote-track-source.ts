import { TrackSource } from '../sources/track-source.js';
import { RtpCaptureClock } from '../network/rtp-capture-clock.js';

/**
 * A remote peer's media track as a frame source whose frames carry their capture time on the sending peer.
 *
 * The sender tells, on the data channel, when each frame was captured and when it was fed to its track; the
 * {@link RtpCaptureClock} matches those to received frames through their RTP timestamps. Until it has locked
 * (about ten frames), and for senders that send no such times, frames carry their arrival time.
 */
export class RemoteTrackSource extends TrackSource {
  /** Matches received frames to the sender's capture times. */
  readonly clock = new RtpCaptureClock();
  #lastLatencyMs: number | undefined;

  /** Starts reading the remote `track` (kind `peer`). */
  constructor(track: MediaStreamTrack) {
    super('peer', track);
  }

  /** Glass-to-glass latency of the newest frame the browser handed over, in ms; `undefined` before the lock. */
  get lastLatencyMs(): number | undefined {
    return this.#lastLatencyMs;
  }

  /** The sender's capture time of `frame` once the clock has locked, else its arrival. */
  protected override captureTimeOf(frame: VideoFrame, arrivalMs: number): number {
    const rtp = (frame as VideoFrame & { metadata?: () => { rtpTimestamp?: number } }).metadata?.().rtpTimestamp;
    const captured = rtp === undefined ? undefined : this.clock.captureTimeOf(rtp);
    if (captured === undefined) return arrivalMs;
    this.#lastLatencyMs = arrivalMs - captured;
    return captured;
  }
}
