import { randomUUID } from 'node:crypto';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import { RTCPeerConnection, type RTCRtpReceiver, type RtpPacket } from 'werift';
import type { EncodedFrame } from '../media/encoded-frame.js';
import { H264RtpDepacketizer } from '../media/h264-rtp-depacketizer.js';
import type { OfferedH264 } from './offer-video-codecs.js';
import {
  iceGatheringComplete,
  keepCandidates,
  weriftH264PeerConfig,
  weriftIceServers,
  type WeriftIceServer,
} from './werift-ice.js';
import { WeriftSessions, type WeriftSessionEntry } from './werift-sessions.js';

/** Options of {@link H264PublishReceivers}. */
export interface H264PublishReceiversOptions {
  /** Keep only ICE candidates with these addresses, in offers and answers. Default: `[]`, every candidate. */
  iceAddresses?: string[];
  /** STUN/TURN servers. Default: none (host candidates; the bridge's own STUN server on 127.0.0.1 for werift). */
  iceServers?: WeriftIceServer[];
  /** Most H.264 publishers at once; beyond it `FW_ERR_CAPACITY_REACHED`. Default: 16. */
  maxSessions?: number;
  /** A publisher that did not connect within this long after its answer is dropped, in ms. Default: 30000. */
  connectTimeoutMs?: number;
}

/** One H.264 publisher and its counters. */
export interface H264PublishSession {
  /** Session id, the last segment of its resource URL. */
  id: string;
  /** The peer connection state (`new`, `connecting`, `connected`, `closed`, `failed`). */
  state: string;
  /** Access units received whole and passed on. */
  accessUnits: number;
  /** Bytes of those access units. */
  bytesReceived: number;
  /** RTP packets lost (sequence gaps); each costs the access units up to the next keyframe. */
  packetsLost: number;
}

/** Events of {@link H264PublishReceivers}. */
export type H264PublishReceiversEvents = {
  /** An H.264 access unit a publisher sent (Annex B), stamped with its arrival time. */
  accessUnit: { sessionId: string; frame: EncodedFrame };
  /** A session's state changed; `closed` and `failed` end it. */
  session: { session: H264PublishSession };
};

type Entry = WeriftSessionEntry<H264PublishSession>;

const log = createLogger('webrtc-publish-h264');
/** Least time between two keyframe requests (PLI) of one publisher, in ms. */
const PLI_INTERVAL_MS = 500;

/**
 * Publishers (WHIP) whose offer sends H.264 but not VP8, such as another bridge's `--whip-push`: received by werift
 * peer connections in the bridge process and passed on as H.264 access units, not decoded (`@roamhq/wrtc`, which
 * takes the VP8 publishers, has no H.264). Lost packets drop the access units up to the next keyframe, which is
 * asked for with a PLI.
 */
export class H264PublishReceivers extends WeriftSessions<H264PublishSession, Entry, H264PublishReceiversEvents> {
  readonly #options: Required<H264PublishReceiversOptions>;

  /** Validates the options. */
  constructor(options: H264PublishReceiversOptions = {}) {
    const o: Required<H264PublishReceiversOptions> = {
      iceAddresses: [],
      iceServers: [],
      maxSessions: 16,
      connectTimeoutMs: 30_000,
      ...options,
    };
    assertOption(
      Number.isInteger(o.maxSessions) && o.maxSessions >= 1,
      `maxSessions must be an integer >= 1; got ${o.maxSessions}`,
    );
    assertOption(o.connectTimeoutMs >= 1000, `connectTimeoutMs must be >= 1000; got ${o.connectTimeoutMs}`);
    super(o, log);
    this.#options = o;
  }

  /**
   * Answers a publisher's offer that sends H.264 with payload type `h264` (recvonly, candidates kept to
   * `iceAddresses`, gathering complete). Throws `FW_ERR_CAPACITY_REACHED` at `maxSessions`, `FW_ERR_CLOSED` after
   * `close()`, `FW_ERR_SDP_INVALID` when the offer is refused.
   */
  async answer(offerSdp: string, h264: OfferedH264): Promise<{ sessionId: string; sdp: string }> {
    this.admit(
      this.#options.maxSessions,
      `the bridge already has ${this.#options.maxSessions} H.264 publishers; try again later`,
    );
    const { iceAddresses } = this.#options;
    const { servers, loopback } = await weriftIceServers(this.#options.iceServers, () => this.loopbackStun());
    const pc = new RTCPeerConnection(
      weriftH264PeerConfig({ payloadType: h264.payloadType, fmtp: h264.fmtp, fir: false }, servers, iceAddresses),
    );
    const id = randomUUID();
    const session: H264PublishSession = { id, state: 'new', accessUnits: 0, bytesReceived: 0, packetsLost: 0 };
    const entry: Entry = { session, pc, answeredAtMs: 0 };
    this.entries.set(id, entry);
    pc.onTrack.subscribe((track) => {
      if (track.kind !== 'video') return;
      const receiver = pc.getTransceivers().find((t) => t.receiver.track === track)?.receiver;
      this.#receive(entry, receiver, (listener) => track.onReceiveRtp.subscribe(listener).unSubscribe);
    });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: keepCandidates(offerSdp, iceAddresses, false) });
      const transceiver = pc.getTransceivers().find((t) => t.kind === 'video');
      if (!transceiver) throw new Error('the offer has no video section');
      transceiver.setDirection('recvonly');
      await pc.setLocalDescription(await pc.createAnswer());
      await iceGatheringComplete(pc);
      const sdp = keepCandidates(pc.localDescription?.sdp ?? '', iceAddresses, loopback);
      if (!/^a=candidate:/m.test(sdp)) throw new Error('no ICE candidate on the allowed addresses (iceAddresses)');
      entry.answeredAtMs = Date.now();
      pc.connectionStateChange.subscribe((state) => this.stateChanged(entry, state));
      return { sessionId: id, sdp };
    } catch (error) {
      this.endSession(id, 'failed');
      throw new FramewireError('FW_ERR_SDP_INVALID', `the offer was refused: ${(error as Error).message}`, {
        stage: 'webrtc',
        cause: error,
      });
    }
  }

  #receive(
    entry: Entry,
    receiver: RTCRtpReceiver | undefined,
    subscribe: (listener: (packet: RtpPacket) => void) => () => void,
  ): void {
    const depacketizer = new H264RtpDepacketizer();
    let lastPliMs = 0;
    let lastTimestamp: number | undefined;
    let elapsedTicks = 0;
    subscribe((packet) => {
      if (!this.entries.has(entry.session.id)) return;
      const unit = depacketizer.push(packet);
      entry.session.packetsLost = depacketizer.lost;
      const now = Date.now();
      if (depacketizer.needsKeyframe && receiver && now - lastPliMs > PLI_INTERVAL_MS) {
        lastPliMs = now;
        receiver
          .sendRtcpPLI(packet.header.ssrc)
          .catch((error: unknown) => log.debug(`PLI to ${entry.session.id}: ${String(error)}`));
      }
      if (!unit) return;
      // RTP time since the first access unit, across 32-bit wraps.
      const delta = lastTimestamp === undefined ? 0 : (unit.rtpTimestamp - lastTimestamp) >>> 0;
      // A timestamp older than the previous one (reordered) does not move the clock back.
      if (delta < 0x80000000) elapsedTicks += delta;
      lastTimestamp = unit.rtpTimestamp;
      entry.session.accessUnits++;
      entry.session.bytesReceived += unit.data.length;
      this.events.emit('accessUnit', {
        sessionId: entry.session.id,
        frame: {
          codec: 'h264',
          key: unit.key,
          data: unit.data,
          timestampUs: Math.round((elapsedTicks / 90_000) * 1e6),
          captureTimeMs: now,
        },
      });
    });
  }
}
