import type { RTCRtpSender } from 'werift';

/** The newest RTP packet written to a sender's track, with its capture time. */
export interface CaptureClockPoint {
  /** Its RTP timestamp as written to the track (before the sender's own offset). */
  rtpTimestamp: number;
  /** Its capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** The 64-bit NTP timestamp of `epochMs` (ms since the Unix epoch): seconds since 1900, then a 32-bit fraction. */
export function ntpTimestampOf(epochMs: number): bigint {
  const seconds = Math.floor(epochMs / 1000);
  const fraction = Math.floor(((epochMs - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds + NTP_UNIX_OFFSET_S) << 32n) | BigInt(fraction >>> 0);
}

/**
 * Makes a werift sender's RTCP sender reports say when its media was captured, so that a browser plays a source's
 * audio and video in sync (lip sync pairs each stream's RTP time with the NTP time of its sender reports).
 *
 * werift pairs the RTP timestamp of the last packet sent with the moment it was sent, so each stream's report would
 * include its own encoding and sending delay (the video's is longer), and it writes the NTP fraction wrongly. Here
 * each report pairs the current wall clock, as a correct NTP timestamp, with the RTP time the stream reaches at
 * that moment on its capture clock: the newest packet's RTP timestamp plus the time since its capture, at
 * `clockRate`. Audio and video stamped on one capture clock then line up at the receiver. Returns the function that
 * gives the sender back werift's own values.
 */
export function useCaptureClockSenderReports(
  sender: RTCRtpSender,
  clockRate: number,
  latest: () => CaptureClockPoint | undefined,
  now: () => number = Date.now,
): () => void {
  // werift keeps these private; its version is pinned (see DEVELOPERS.md).
  const fields = sender as unknown as { ntpTimestamp: bigint; rtpTimestamp: number; timestampOffset: number };
  let ownNtp = fields.ntpTimestamp;
  let ownRtp = fields.rtpTimestamp;
  const point = (): { ntp: bigint; rtp: number } | undefined => {
    const newest = latest();
    if (!newest) return undefined;
    const wallMs = now();
    const elapsed = Math.round(((wallMs - newest.captureTimeMs) * clockRate) / 1000);
    return { ntp: ntpTimestampOf(wallMs), rtp: (newest.rtpTimestamp + elapsed + fields.timestampOffset) >>> 0 };
  };
  // Read together by werift when it builds a report: one point per report.
  let cached: { ntp: bigint; rtp: number; atMs: number } | undefined;
  const current = (): { ntp: bigint; rtp: number } | undefined => {
    const at = now();
    if (cached?.atMs !== at) {
      const value = point();
      cached = value && { ...value, atMs: at };
    }
    return cached;
  };
  Object.defineProperty(sender, 'ntpTimestamp', {
    configurable: true,
    enumerable: true,
    get: () => current()?.ntp ?? ownNtp,
    set: (value: bigint) => {
      ownNtp = value;
    },
  });
  Object.defineProperty(sender, 'rtpTimestamp', {
    configurable: true,
    enumerable: true,
    get: () => current()?.rtp ?? ownRtp,
    set: (value: number) => {
      ownRtp = value;
    },
  });
  return () => {
    Object.defineProperty(sender, 'ntpTimestamp', {
      configurable: true,
      enumerable: true,
      writable: true,
      value: ownNtp,
    });
    Object.defineProperty(sender, 'rtpTimestamp', {
      configurable: true,
      enumerable: true,
      writable: true,
      value: ownRtp,
    });
  };
}
