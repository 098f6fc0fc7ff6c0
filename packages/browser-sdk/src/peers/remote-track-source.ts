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
  readonly #stream: MediaStream | undefined;
  #lastLatencyMs: number | undefined;

  /** Starts reading the remote `track` (kind `peer`), which arrived in `stream` (the sender's media stream). */
  constructor(track: MediaStreamTrack, stream?: MediaStream) {
    super('peer', track);
    this.#stream = stream;
  }

  /**
   * The audio the peer sends in the same media stream as this video (its `publish()` of a source with audio), ready
   * to play in sync with the frames or to give to a `Recorder` (`audio`); set as soon as it arrives, `undefined`
   * while there is none. `close()` stops it.
   */
  get audioTrack(): MediaStreamTrack | undefined {
    return this.#stream?.getAudioTracks()[0];
  }

  /** Glass-to-glass latency of the newest frame the browser handed over, in ms; `undefined` before the lock. */
  get lastLatencyMs(): number | undefined {
    return this.#lastLatencyMs;
  }

  /** Stops the audio track of the stream too. */
  protected override async release(): Promise<void> {
    this.audioTrack?.stop();
    await super.release();
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
