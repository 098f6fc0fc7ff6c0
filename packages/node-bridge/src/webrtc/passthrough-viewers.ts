import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpPayloadSpecificFeedback,
  type PeerConfig,
  type RTCDataChannel,
  type RTCRtpSender,
} from 'werift';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import { PassthroughAudio } from './passthrough-audio.js';
import { candidateAddress } from './trickle-ice-sdpfrag.js';
import {
  iceGatheringComplete,
  isMdnsCandidate,
  keepCandidates,
  weriftIceServers,
  type WeriftIceServer,
} from './werift-ice.js';
import { WeriftSessions, type WeriftSessionEntry } from './werift-sessions.js';
import { RtpFanout, type RtpFanoutCodec } from './rtp-fanout.js';

/** An ICE server of the passthrough peer connections (the `RTCIceServer` shape). */
export type PassthroughIceServer = WeriftIceServer;

/** Options of {@link PassthroughViewers}. */
export interface PassthroughViewersOptions {
  /** Keep only ICE candidates with these addresses, in offers and answers. Default: `[]`, every candidate. */
  iceAddresses?: string[];
  /**
   * STUN/TURN servers. Default: none: host candidates only (werift's fallback to a public STUN server is replaced
   * by a STUN server on 127.0.0.1 inside the bridge, so gathering never leaves the machine).
   */
  iceServers?: PassthroughIceServer[];
  /** Most passthrough viewers at once (all sources); beyond it `503 FW_ERR_CAPACITY_REACHED`. Default: 500. */
  maxViewers?: number;
  /** A viewer that sent no RTCP for this long is dropped (a closed tab, a lost network), in ms. Default: 10000. */
  viewerTimeoutMs?: number;
  /** A viewer that did not connect within this long after its answer is dropped, in ms. Default: 30000. */
  connectTimeoutMs?: number;
}

/** The codec a passthrough viewer receives, as its offer assigned it. */
export interface PassthroughCodec {
  /** `h264` (the source's H.264, passed through or encoded once) or `vp8` (the one shared VP8 encode). */
  codec: RtpFanoutCodec;
  /** The payload type the offer assigned. */
  payloadType: number;
  /** Its `a=fmtp` parameters as offered (empty for VP8). */
  fmtp: string;
}

/** One passthrough viewer and its counters. */
export interface PassthroughSession {
  /** Session id, the last segment of its resource URL. */
  id: string;
  /** The source viewed. */
  sourceId: string;
  /** The peer connection state (`new`, `connecting`, `connected`, `closed`, `failed`). */
  state: string;
  /** The codec sent: `h264` or `vp8`. */
  codec: RtpFanoutCodec;
  /** The negotiated payload type. */
  payloadType: number;
  /** RTP bytes handed to the viewer's sender (live packets and the group of pictures sent when it connected). */
  bytesSent: number;
  /** NACK messages (RTCP generic NACK) the viewer sent; the sender answers them from its packet cache. */
  nacks: number;
  /** Picture loss indications (RTCP PLI) the viewer sent. */
  plis: number;
  /** Full intra requests (RTCP FIR) the viewer sent. */
  firs: number;
}

/** Events of {@link PassthroughViewers}. */
export type PassthroughViewersEvents = {
  /** A session's state changed; `closed` and `failed` end it. */
  session: { session: PassthroughSession };
};

/** Counters of {@link PassthroughViewers}. */
export interface PassthroughViewersStats {
  /** Open sessions. */
  clients: number;
  /** Access units packetized, once per source whatever the viewers. */
  framesSent: number;
  /** Access units skipped (unusable, or before the first keyframe). */
  framesDropped: number;
  /** RTP bytes handed to the senders, summed over the viewers. */
  bytesSent: number;
}

interface Entry extends WeriftSessionEntry<PassthroughSession> {
  sender: RTCRtpSender | undefined;
  /** The viewer's `fw.meta` data channel, when its offer has one: each frame's capture time. */
  meta: RTCDataChannel | undefined;
  lastRtcpMs: number;
  stopWrites: () => void;
  stopAudio: () => void;
}

const log = createLogger('webrtc-passthrough');

/**
 * WebRTC viewers that receive a source's own H.264 (or, when their browser takes no H.264, the source's one shared
 * VP8 encode), with no per-viewer encode: each viewer is a werift peer connection (pure TypeScript, in the bridge
 * process) whose `sendonly` transceiver sends the source's one shared track per codec ({@link RtpFanout}). The
 * source's feed in that codec is read from the first viewer on and released after the last. Each sender answers
 * NACKs from its packet cache and sends RTCP sender reports; PLI and FIR are counted and answered by the next
 * keyframe (the feed's encoder has a fixed keyframe interval), and a viewer that connects mid-group gets the group
 * of pictures so far at once. An offer's `fw.meta` data channel gets each frame's capture time.
 */
export class PassthroughViewers extends WeriftSessions<PassthroughSession, Entry, PassthroughViewersEvents> {
  readonly #feeds: (sourceId: string, codec: RtpFanoutCodec) => FrameFeed;
  readonly #options: Required<PassthroughViewersOptions>;
  /** By `<source id>:<codec>`. */
  readonly #fanouts = new Map<string, RtpFanout>();
  readonly #audio = new PassthroughAudio();
  #endedBytes = 0;

  /** Validates the options; `feeds` gives the shared H.264 or VP8 feed of a source. */
  constructor(feeds: (sourceId: string, codec: RtpFanoutCodec) => FrameFeed, options: PassthroughViewersOptions = {}) {
    const o: Required<PassthroughViewersOptions> = {
      iceAddresses: [],
      iceServers: [],
      maxViewers: 500,
      viewerTimeoutMs: 10_000,
      connectTimeoutMs: 30_000,
      ...options,
    };
    assertOption(
      Number.isInteger(o.maxViewers) && o.maxViewers >= 1,
      `webrtc.maxPassthroughViewers must be an integer >= 1; got ${o.maxViewers}`,
    );
    assertOption(o.viewerTimeoutMs >= 1000, `webrtc.viewerTimeoutMs must be >= 1000; got ${o.viewerTimeoutMs}`);
    assertOption(o.connectTimeoutMs >= 1000, `webrtc.connectTimeoutMs must be >= 1000; got ${o.connectTimeoutMs}`);
    super(o, log);
    this.#options = o;
    this.#feeds = feeds;
  }

  /** The counters. */
  get stats(): PassthroughViewersStats {
    let framesSent = 0;
    let framesDropped = 0;
    for (const fanout of this.#fanouts.values()) {
      framesSent += fanout.stats.accessUnits;
      framesDropped += fanout.stats.skipped;
    }
    let bytesSent = this.#endedBytes;
    for (const { session } of this.entries.values()) bytesSent += session.bytesSent;
    return { clients: this.entries.size, framesSent, framesDropped, bytesSent };
  }

  /**
   * Answers a viewer's offer for `sourceId` in the offer's `codec` (H.264 or VP8): returns the session id and
   * the answer SDP (candidates kept to `iceAddresses`, gathering complete). Throws `FW_ERR_CAPACITY_REACHED` at
   * `maxViewers`, `FW_ERR_CLOSED` after `close()`, `FW_ERR_SDP_INVALID` when the offer is refused.
   */
  async answer(
    sourceId: string,
    offerSdp: string,
    codec: PassthroughCodec,
  ): Promise<{ sessionId: string; sdp: string }> {
    this.admit(
      this.#options.maxViewers,
      `the bridge already has ${this.#options.maxViewers} WebRTC media viewers (webrtc.maxPassthroughViewers); try again later`,
    );
    const id = randomUUID();
    const source = this.#feeds(sourceId, codec.codec).source;
    const pc = new RTCPeerConnection(await this.#peerConfig(codec, this.#audio.codecs(source, offerSdp)));
    const session: PassthroughSession = {
      id,
      sourceId,
      state: 'new',
      codec: codec.codec,
      payloadType: codec.payloadType,
      bytesSent: 0,
      nacks: 0,
      plis: 0,
      firs: 0,
    };
    const fanout = this.#fanout(sourceId, codec.codec);
    const entry: Entry = {
      session,
      pc,
      sender: undefined,
      meta: undefined,
      lastRtcpMs: 0,
      answeredAtMs: 0,
      stopWrites: noop,
      stopAudio: noop,
    };
    pc.onDataChannel.subscribe((channel) => {
      if (channel.label === 'fw.meta') entry.meta = channel;
    });
    this.entries.set(id, entry);
    fanout.start();
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: this.#remoteSdp(offerSdp, codec.payloadType) });
      const transceiver = pc.getTransceivers().find((t) => t.kind === 'video');
      if (!transceiver) throw new Error('the offer has no video section');
      transceiver.setDirection('sendonly');
      await transceiver.sender.replaceTrack(fanout.track);
      entry.sender = transceiver.sender;
      this.#watchSender(entry, transceiver.sender);
      entry.stopAudio = await this.#audio.attach(pc, source, transceiver.sender, fanout);
      await pc.setLocalDescription(await pc.createAnswer());
      await iceGatheringComplete(pc);
      const sdp = keepCandidates(pc.localDescription?.sdp ?? '', this.#options.iceAddresses, this.usesLoopbackStun);
      if (!/^a=candidate:/m.test(sdp)) throw new Error('no ICE candidate on the allowed addresses (iceAddresses)');
      entry.answeredAtMs = Date.now();
      entry.stopWrites = fanout.onWrite(({ bytes, captureTimeMs, rtpClockMs, rtpTimestamp }) => {
        if (session.state !== 'connected') return;
        session.bytesSent += bytes;
        const meta = entry.meta;
        // The SDK's RtpCaptureClock maps RTP timestamps to capture times with these (`f`: the RTP clock in ms).
        if (meta?.readyState === 'open' && meta.bufferedAmount < 64 * 1024)
          meta.send(JSON.stringify({ c: captureTimeMs, f: rtpClockMs, r: rtpTimestamp }));
      });
      pc.connectionStateChange.subscribe((state) => this.stateChanged(entry, state));
      return { sessionId: id, sdp };
    } catch (error) {
      this.endSession(id, 'failed');
      if (error instanceof FramewireError) throw error;
      throw new FramewireError('FW_ERR_SDP_INVALID', `the offer was refused: ${(error as Error).message}`, {
        stage: 'webrtc',
        cause: error,
      });
    }
  }

  /** Stops the fanouts and the audio once every session ended (`close()`). */
  protected override released(): void {
    for (const fanout of this.#fanouts.values()) fanout.stop();
    this.#audio.close();
  }

  #fanout(sourceId: string, codec: RtpFanoutCodec): RtpFanout {
    let fanout = this.#fanouts.get(`${sourceId}:${codec}`);
    if (!fanout) {
      fanout = new RtpFanout(this.#feeds(sourceId, codec), codec);
      this.#fanouts.set(`${sourceId}:${codec}`, fanout);
    }
    return fanout;
  }

  async #peerConfig(codec: PassthroughCodec, audio: RTCRtpCodecParameters[]): Promise<Partial<PeerConfig>> {
    const { iceAddresses } = this.#options;
    const { servers } = await weriftIceServers(this.#options.iceServers, () => this.loopbackStun());
    return {
      codecs: {
        video: [
          new RTCRtpCodecParameters({
            mimeType: codec.codec === 'vp8' ? 'video/VP8' : 'video/H264',
            clockRate: 90_000,
            payloadType: codec.payloadType,
            ...(codec.fmtp === '' ? {} : { parameters: codec.fmtp }),
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          }),
        ],
        audio,
      },
      headerExtensions: { video: [], audio: [] },
      iceServers: servers,
      iceStunGatherTimeout: 2,
      iceAdditionalHostAddresses: iceAddresses.filter((a) => isIP(a) !== 0),
      iceUseIpv6: iceAddresses.length === 0 || iceAddresses.some((a) => isIP(a) === 6),
    };
  }

  /** The offer as werift gets it: other video payload types and disallowed or mDNS candidates removed. */
  #remoteSdp(sdp: string, payloadType: number): string {
    const addresses = this.#options.iceAddresses;
    const lines = sdp.split(/\r?\n/).filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      if (isMdnsCandidate(line)) return false;
      return addresses.length === 0 || addresses.includes(candidateAddress(line));
    });
    let inVideo = false;
    const kept: string[] = [];
    for (const line of lines) {
      if (line.startsWith('m=')) inVideo = line.startsWith('m=video ');
      if (inVideo && line.startsWith('m=video ')) {
        const fields = line.split(' ');
        kept.push([...fields.slice(0, 3), String(payloadType)].join(' '));
        continue;
      }
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(line)?.[1];
      if (inVideo && pt !== undefined && Number(pt) !== payloadType) continue;
      kept.push(line);
    }
    return kept.join('\r\n');
  }

  #watchSender(entry: Entry, sender: RTCRtpSender): void {
    sender.onRtcp.subscribe((packet) => {
      entry.lastRtcpMs = Date.now();
      if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback.count === 4) entry.session.firs++;
    });
    sender.onGenericNack.subscribe(() => {
      entry.session.nacks++;
    });
    sender.onPictureLossIndication.subscribe(() => {
      entry.session.plis++;
    });
  }

  /** A viewer connected: its RTCP clock starts, and it gets the group of pictures so far. */
  protected override connected(entry: Entry): void {
    entry.lastRtcpMs = Date.now();
    const fanout = this.#fanouts.get(`${entry.session.sourceId}:${entry.session.codec}`);
    if (fanout && entry.sender) entry.session.bytesSent += fanout.primeViewer(entry.sender);
  }

  /** A viewer that stopped sending RTCP (an abruptly closed page) is dropped. */
  protected override expired(entry: Entry, nowMs: number): boolean {
    if (nowMs - entry.lastRtcpMs <= this.#options.viewerTimeoutMs) return false;
    log.info(`viewer ${entry.session.id} of "${entry.session.sourceId}" went silent; dropping it`);
    return true;
  }

  /** A viewer ended: its writes and audio stop, and the source's fanout and audio once it was their last viewer. */
  protected override ended(entry: Entry): void {
    entry.stopWrites();
    entry.stopAudio();
    this.#endedBytes += entry.session.bytesSent;
    const { sourceId, codec } = entry.session;
    if (![...this.entries.values()].some((e) => e.session.sourceId === sourceId && e.session.codec === codec))
      this.#fanouts.get(`${sourceId}:${codec}`)?.stop();
    if (![...this.entries.values()].some((e) => e.session.sourceId === sourceId)) this.#audio.stop(sourceId);
  }
}

/** Does nothing (a session's write listener before it has one). */
function noop(): void {
  // nothing to undo
}
