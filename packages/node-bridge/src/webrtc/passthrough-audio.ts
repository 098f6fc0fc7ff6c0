import { RTCRtpCodecParameters, type RTCPeerConnection, type RTCRtpSender } from 'werift';
import type { VideoSource } from '../sources/video-source.js';
import { useCaptureClockSenderReports, type CaptureClockPoint } from './capture-clock-sender-reports.js';
import type { RtpFanout } from './rtp-fanout.js';
import { offeredOpus } from './offer-audio-codecs.js';
import { OpusFanout } from './opus-fanout.js';

/**
 * The audio of the passthrough viewers: one {@link OpusFanout} per source with audio, shared by its viewers, and
 * what a viewer's peer connection needs for it: the Opus codec of its offer, a `sendonly` audio transceiver in the
 * same media stream as the video (one msid), and sender reports on the capture clock for both tracks, so that the
 * browser plays them in sync. A viewer whose offer has no audio section, or a source without audio, gets video
 * alone.
 */
export class PassthroughAudio {
  readonly #fanouts = new Map<string, OpusFanout>();
  readonly #latest = new WeakMap<object, CaptureClockPoint>();

  /** The audio codecs to negotiate with a viewer of `source` that sent `offerSdp` (none without audio). */
  codecs(source: VideoSource, offerSdp: string): RTCRtpCodecParameters[] {
    const opus = source.audio ? offeredOpus(offerSdp) : undefined;
    if (!opus) return [];
    return [
      new RTCRtpCodecParameters({
        mimeType: 'audio/opus',
        clockRate: 48_000,
        channels: 2,
        payloadType: opus.payloadType,
        ...(opus.fmtp ? { parameters: opus.fmtp } : {}),
      }),
    ];
  }

  /**
   * Before the answer: puts the video sender and, when the viewer negotiated audio, the source's shared Opus track
   * in one media stream, and makes both senders' reports run on the capture clock. Returns what ends it.
   */
  async attach(
    pc: RTCPeerConnection,
    source: VideoSource,
    video: RTCRtpSender,
    videoFanout: RtpFanout,
  ): Promise<() => void> {
    const streamId = `framewire-${source.id}`;
    video.streamId = streamId;
    const undo: (() => void)[] = [];
    undo.push(
      this.#track(videoFanout),
      useCaptureClockSenderReports(video, 90_000, () => this.#latest.get(videoFanout)),
    );
    const transceiver = pc
      .getTransceivers()
      .find((t) => t.kind === 'audio' && t.codecs.some((c) => c.mimeType.toLowerCase() === 'audio/opus'));
    if (source.audio && transceiver) {
      const fanout = this.#fanout(source);
      transceiver.setDirection('sendonly');
      await transceiver.sender.replaceTrack(fanout.track);
      transceiver.sender.streamId = streamId;
      fanout.start();
      undo.push(
        this.#track(fanout),
        useCaptureClockSenderReports(transceiver.sender, 48_000, () => this.#latest.get(fanout)),
      );
    }
    return () => undo.forEach((fn) => fn());
  }

  /** Stops reading `sourceId`'s audio (after its last viewer). */
  stop(sourceId: string): void {
    this.#fanouts.get(sourceId)?.stop();
  }

  /** Stops every fan-out. */
  close(): void {
    for (const fanout of this.#fanouts.values()) fanout.stop();
  }

  /** Packets written through every audio fan-out (once per source). */
  get packets(): number {
    let packets = 0;
    for (const fanout of this.#fanouts.values()) packets += fanout.stats.packets;
    return packets;
  }

  #fanout(source: VideoSource): OpusFanout {
    let fanout = this.#fanouts.get(source.id);
    if (!fanout) {
      fanout = new OpusFanout(source);
      this.#fanouts.set(source.id, fanout);
    }
    return fanout;
  }

  /** Keeps the newest write of `fanout` for its senders' reports; returns the remover. */
  #track(fanout: RtpFanout | OpusFanout): () => void {
    return fanout.onWrite(({ rtpTimestamp, captureTimeMs }) =>
      this.#latest.set(fanout, { rtpTimestamp, captureTimeMs }),
    );
  }
}
