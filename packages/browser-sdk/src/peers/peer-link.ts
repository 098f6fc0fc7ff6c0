import { FramewireError, TypedEmitter, createLogger } from '@framewire/core';
import type { SignalPayload } from '@framewire/signaling/protocol';
import { ChunkAssembler, chunkMessage } from '../network/data-framing.js';

/** The RTCPeerConnection constructor: the browser's, or `wrtc.RTCPeerConnection` in Node. */
export type PeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

/** Decides whether a local ICE candidate is sent to the other peer (e.g. keep loopback only in tests). */
export type IceCandidateFilter = (candidate: RTCIceCandidateInit) => boolean;

/** Options of {@link PeerLink}. */
export interface PeerLinkOptions {
  /** The other peer's id. */
  remoteId: string;
  /** The polite peer yields when both offer at once (perfect negotiation); the impolite one opens the data channel. */
  polite: boolean;
  /** Carries a signal to the other peer (through the signaling server). */
  sendSignal: (payload: SignalPayload) => void;
  /** ICE servers and policy. */
  configuration: RTCConfiguration;
  /** RTCPeerConnection implementation. */
  RTCPeerConnection: PeerConnectionConstructor;
  /** Local candidates that fail it are not sent. Default: all are sent. */
  iceCandidateFilter?: IceCandidateFilter;
  /** ICE restarts tried before the link fails. Default: 5 (with the doubling waits, an outage of about 90 s). */
  maxIceRestarts?: number;
  /**
   * A `disconnected` link restarts ICE after this long, in ms; a restart that has not connected is tried again
   * after this long, doubled at each restart. Default: 3000.
   */
  disconnectedRestartMs?: number;
  /** Largest data message accepted, in bytes. Default: 64 MiB. */
  maxMessageBytes?: number;
  /** Data-channel bytes queued before `send()` waits, in bytes. Default: 1 MiB. */
  highWaterMarkBytes?: number;
}

/** Events of a {@link PeerLink}. */
export type PeerLinkEvents = {
  /** The connection state changed. */
  state: { state: RTCPeerConnectionState };
  /** The data channel opened (data can flow). */
  open: object;
  /** A complete data message arrived. */
  message: { bytes: Uint8Array };
  /** A remote media track arrived. */
  track: { track: MediaStreamTrack; streams: readonly MediaStream[] };
  /** A failure; a fatal one closed the link. */
  error: { error: FramewireError; fatal: boolean };
  /** The link closed. */
  close: object;
};

/** Snapshot of a link's transport counters. */
export interface PeerLinkStats {
  /** Current round-trip time of the selected candidate pair, in ms. */
  rttMs: number | undefined;
  /** Bytes sent on every transport so far. */
  bytesSent: number;
  /** Bytes received on every transport so far. */
  bytesReceived: number;
  /** Receive bitrate since the previous call, in bits per second. */
  inboundBitrateBps: number;
  /** Send bitrate since the previous call, in bits per second. */
  outboundBitrateBps: number;
  /** Decoded frames a second of the remote video (media tracks only). */
  framesPerSecond: number | undefined;
  /** Remote video packets lost so far. */
  packetsLost: number;
  /** Lost ÷ (received + lost) of the remote video. */
  lossRatio: number;
  /** Mean jitter-buffer delay of the remote video, in ms. */
  jitterBufferMs: number | undefined;
  /** The type of the local candidate in use (`host`, `srflx`, `relay`). */
  localCandidateType: string | undefined;
}

const log = createLogger('peer-link');

/**
 * The candidate pair in use: the one a transport names as `selectedCandidatePairId`. Its own checks may still be
 * `in-progress` while data already flows on it (the other side nominated it, as after an ICE restart), so its
 * state does not matter. Without a transport entry (older implementations), a nominated or selected pair whose
 * checks succeeded.
 */
function selectedPair(entries: Map<string, Record<string, unknown>>): Record<string, unknown> | undefined {
  for (const s of entries.values()) {
    if (s['type'] !== 'transport' || typeof s['selectedCandidatePairId'] !== 'string') continue;
    const pair = entries.get(s['selectedCandidatePairId']);
    if (pair) return pair;
  }
  for (const s of entries.values()) {
    if (
      s['type'] === 'candidate-pair' &&
      (s['nominated'] === true || s['selected'] === true) &&
      s['state'] === 'succeeded'
    ) {
      return s;
    }
  }
  return undefined;
}
/** A data channel's state, read fresh (it changes while a send loop awaits). */
const isOpen = (channel: RTCDataChannel): boolean => channel.readyState === 'open';

/**
 * One WebRTC connection to one remote peer, negotiated with the "perfect negotiation" pattern over the signaling
 * server (explicit offers and answers, so Node's wrtc works too), with one reliable, ordered data channel that
 * carries chunked messages, media tracks in both directions, renegotiation when tracks come and go, and ICE
 * restarts when the path breaks.
 */
export class PeerLink {
  /** The other peer's id. */
  readonly remoteId: string;
  /** The underlying connection. */
  readonly pc: RTCPeerConnection;
  readonly #options: PeerLinkOptions;
  readonly #events = new TypedEmitter<PeerLinkEvents>();
  readonly #assembler: ChunkAssembler;
  readonly #highWaterMarkBytes: number;
  #channel: RTCDataChannel | undefined;
  #negotiationWanted = false;
  #ignoreOffer = false;
  #restartPending = false;
  #restarts = 0;
  #pendingCandidates: RTCIceCandidateInit[] = [];
  #signalChain: Promise<void> = Promise.resolve();
  #disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #statePoll: ReturnType<typeof setInterval> | undefined;
  #lastState: RTCPeerConnectionState | undefined;
  #nextMessageId = 1;
  #sendChain: Promise<void> = Promise.resolve();
  #lastCounters = { atMs: 0, sent: 0, received: 0 };
  #closed = false;

  /** Creates the connection; the impolite side opens the data channel, which starts the first negotiation. */
  constructor(options: PeerLinkOptions) {
    this.#options = options;
    this.remoteId = options.remoteId;
    this.#assembler = new ChunkAssembler(options.maxMessageBytes ?? 64 * 1024 * 1024);
    this.#highWaterMarkBytes = options.highWaterMarkBytes ?? 1024 * 1024;
    const pc = new options.RTCPeerConnection(options.configuration);
    this.pc = pc;
    pc.onnegotiationneeded = () => this.#queueNegotiation();
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate?.candidate) return;
      const init = candidate.toJSON();
      if (options.iceCandidateFilter && !options.iceCandidateFilter(init)) return;
      options.sendSignal({
        kind: 'candidate',
        candidate: {
          candidate: init.candidate ?? '',
          sdpMid: init.sdpMid ?? null,
          sdpMLineIndex: init.sdpMLineIndex ?? null,
        },
      });
    };
    pc.onconnectionstatechange = () => this.#onConnectionState();
    pc.oniceconnectionstatechange = () => this.#onIceState();
    pc.ontrack = (event) => this.#events.emit('track', { track: event.track, streams: event.streams });
    pc.ondatachannel = (event) => this.#adoptChannel(event.channel);
    if (!options.polite) this.#adoptChannel(pc.createDataChannel('framewire', { ordered: true }));
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof PeerLinkEvents>(event: E, listener: (payload: PeerLinkEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** True while the data channel is open. */
  get open(): boolean {
    return this.#channel?.readyState === 'open';
  }

  /** The connection state. */
  get state(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  /** Handles a signal from the other peer. Signals are applied one at a time, in order. */
  handleSignal(payload: SignalPayload): void {
    this.#enqueue(() => this.#applySignal(payload), `applying a ${payload.kind} signal`);
  }

  /**
   * Sends one message (already encoded), cut into chunks, waiting while the channel's buffer is above the high
   * water mark. Messages are sent in call order. Rejects with `FW_ERR_CLOSED` when the channel is not open.
   */
  send(message: Uint8Array): Promise<void> {
    const run = this.#sendChain.then(async () => {
      const channel = this.#channel;
      if (!channel || !isOpen(channel)) {
        throw new FramewireError('FW_ERR_CLOSED', `the data channel to ${this.remoteId} is not open`, {
          stage: 'data',
        });
      }
      for (const chunk of chunkMessage(this.#nextMessageId++, message)) {
        // wrtc has no bufferedamountlow event: poll.
        while (channel.bufferedAmount > this.#highWaterMarkBytes && isOpen(channel)) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (!isOpen(channel)) throw new FramewireError('FW_ERR_CLOSED', 'the data channel closed');
        channel.send(chunk.buffer as ArrayBuffer);
      }
    });
    this.#sendChain = run.catch(() => undefined);
    return run;
  }

  /** Adds a local track (renegotiates). Returns the sender, for {@link removeTrack}. */
  addTrack(track: MediaStreamTrack, stream?: MediaStream): RTCRtpSender {
    return stream ? this.pc.addTrack(track, stream) : this.pc.addTrack(track);
  }

  /** Removes a track added with {@link addTrack} (renegotiates). */
  removeTrack(sender: RTCRtpSender): void {
    if (this.pc.signalingState !== 'closed') this.pc.removeTrack(sender);
  }

  /** Restarts ICE: the next offer (made at once when no exchange is under way) asks for new ICE credentials. */
  restartIce(): void {
    this.#restartPending = true;
    this.#queueNegotiation();
  }

  /** Transport counters; bitrates are measured since the previous call. */
  async stats(): Promise<PeerLinkStats> {
    const report = await this.pc.getStats();
    const result: PeerLinkStats = {
      rttMs: undefined,
      bytesSent: 0,
      bytesReceived: 0,
      inboundBitrateBps: 0,
      outboundBitrateBps: 0,
      framesPerSecond: undefined,
      packetsLost: 0,
      lossRatio: 0,
      jitterBufferMs: undefined,
      localCandidateType: undefined,
    };
    let packetsReceived = 0;
    const entries = new Map<string, Record<string, unknown>>();
    report.forEach((value: Record<string, unknown>) => entries.set(String(value['id']), value));
    const pair = selectedPair(entries);
    if (pair) {
      if (typeof pair['currentRoundTripTime'] === 'number') result.rttMs = pair['currentRoundTripTime'] * 1000;
      const local = entries.get(String(pair['localCandidateId']));
      if (typeof local?.['candidateType'] === 'string') result.localCandidateType = local['candidateType'];
    }
    for (const s of entries.values()) {
      const num = (key: string): number => (typeof s[key] === 'number' ? s[key] : 0);
      if (s['type'] === 'transport') {
        result.bytesSent += num('bytesSent');
        result.bytesReceived += num('bytesReceived');
      }
      if (s['type'] === 'inbound-rtp' && (s['kind'] ?? s['mediaType']) === 'video') {
        if (typeof s['framesPerSecond'] === 'number') result.framesPerSecond = s['framesPerSecond'];
        result.packetsLost += num('packetsLost');
        packetsReceived += num('packetsReceived');
        const emitted = num('jitterBufferEmittedCount');
        if (emitted > 0) result.jitterBufferMs = (num('jitterBufferDelay') / emitted) * 1000;
      }
    }
    if (result.bytesSent === 0 && pair) {
      result.bytesSent = typeof pair['bytesSent'] === 'number' ? pair['bytesSent'] : 0;
      result.bytesReceived = typeof pair['bytesReceived'] === 'number' ? pair['bytesReceived'] : 0;
    }
    const total = packetsReceived + result.packetsLost;
    result.lossRatio = total > 0 ? result.packetsLost / total : 0;
    const now = Date.now();
    const last = this.#lastCounters;
    if (last.atMs > 0 && now > last.atMs) {
      const seconds = (now - last.atMs) / 1000;
      result.inboundBitrateBps = Math.max(0, ((result.bytesReceived - last.received) * 8) / seconds);
      result.outboundBitrateBps = Math.max(0, ((result.bytesSent - last.sent) * 8) / seconds);
    }
    this.#lastCounters = { atMs: now, sent: result.bytesSent, received: result.bytesReceived };
    return result;
  }

  /** Closes the connection (and tells the other peer, unless `silent`). Idempotent. */
  close(silent = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#disconnectedTimer);
    clearTimeout(this.#retryTimer);
    clearInterval(this.#statePoll);
    if (!silent) this.#options.sendSignal({ kind: 'bye' });
    this.#channel?.close();
    this.pc.close();
    this.#events.emit('close', {});
    this.#events.removeAllListeners();
  }

  /** Read through a method: the flag changes while promises are pending, which narrowing cannot see. */
  #isClosed(): boolean {
    return this.#closed;
  }

  // ── negotiation ───────────────────────────────────────────────────────────────────────────────────────────

  /** Runs one negotiation step after every step queued before it: offers and signals never interleave. */
  #enqueue(step: () => Promise<void>, what: string): void {
    this.#signalChain = this.#signalChain.then(step).catch((error: unknown) => {
      if (!this.#isClosed()) log.warn(`${what} failed`, { error });
    });
  }

  /** Notes that local changes need an offer, and makes it once no exchange is under way. */
  #queueNegotiation(): void {
    this.#negotiationWanted = true;
    this.#enqueue(() => this.#negotiate(), 'making an offer');
  }

  /**
   * Makes and sends an offer when one is wanted and the connection is stable. Otherwise it does nothing: the
   * exchange under way ends in `stable`, and the step that completes it calls this again.
   */
  async #negotiate(): Promise<void> {
    if (this.#closed || !this.#negotiationWanted || this.pc.signalingState !== 'stable') return;
    // The first offer is the impolite side's (it opens the data channel); the polite side puts its own changes in
    // the offer it makes once it has answered. Were it to offer too, the collision would roll its first offer back,
    // and Chromium then gathers no candidate for the transport it makes next: that link never connects.
    if (this.#options.polite && !this.pc.remoteDescription) return;
    this.#negotiationWanted = false;
    // A restart stays pending until an answer lands: an offer withdrawn in a collision is made again as one.
    const offer = await this.pc.createOffer(this.#restartPending ? { iceRestart: true } : {});
    await this.pc.setLocalDescription(offer);
    this.#options.sendSignal({ kind: 'description', description: { type: 'offer', sdp: offer.sdp ?? '' } });
  }

  async #applySignal(payload: SignalPayload): Promise<void> {
    if (this.#closed) return;
    const pc = this.pc;
    if (payload.kind === 'bye') {
      this.close(true);
      return;
    }
    if (payload.kind === 'candidate') {
      // A candidate of a newer ICE generation than the remote description (after an ICE restart, the other side
      // can send its first candidates before its offer) waits for that description: added now, it would be
      // refused as unknown, and this side would never check the path the other side found.
      const ufrag = / ufrag (\S+)/.exec(payload.candidate.candidate)?.[1];
      const remoteUfrag = /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription?.sdp ?? '')?.[1];
      if (!pc.remoteDescription || (ufrag !== undefined && remoteUfrag !== undefined && ufrag !== remoteUfrag)) {
        this.#pendingCandidates.push(payload.candidate);
        return;
      }
      try {
        await pc.addIceCandidate(payload.candidate);
      } catch (error) {
        if (!this.#ignoreOffer) log.debug('addIceCandidate failed', { error });
      }
      return;
    }
    const description = payload.description;
    // Offers are made in this same chain, so an offer of ours is pending exactly when the state is not stable.
    const collision = description.type === 'offer' && pc.signalingState !== 'stable';
    this.#ignoreOffer = !this.#options.polite && collision;
    if (this.#ignoreOffer) return;
    if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') {
      log.debug('an answer to no offer of ours: ignored', { state: pc.signalingState });
      return;
    }
    if (collision) {
      // The polite side yields: its own offer is withdrawn, and made again once this exchange completes.
      await pc.setLocalDescription({ type: 'rollback' });
      this.#negotiationWanted = true;
    }
    await pc.setRemoteDescription(description);
    if (description.type === 'answer') this.#restartPending = false;
    for (const candidate of this.#pendingCandidates.splice(0)) {
      await pc.addIceCandidate(candidate).catch(() => undefined);
    }
    if (description.type === 'offer') {
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.#options.sendSignal({ kind: 'description', description: { type: 'answer', sdp: answer.sdp ?? '' } });
    }
    await this.#negotiate();
  }

  // ── state ─────────────────────────────────────────────────────────────────────────────────────────────────

  #onConnectionState(): void {
    const state = this.pc.connectionState;
    if (state !== this.#lastState) {
      this.#lastState = state;
      log.debug(`connection towards ${this.remoteId}: ${state}`);
      if (state === 'connected') this.#restarts = 0;
      this.#events.emit('state', { state });
    }
    this.#watchPath();
  }

  #onIceState(): void {
    log.debug(`ICE towards ${this.remoteId}: ${this.pc.iceConnectionState}`);
    this.#watchPath();
  }

  /**
   * Starts recovery when the path breaks, from either state. The two can disagree for a while (libwebrtc's legacy
   * ICE state can read `connected` while the connection reads `disconnected`), so a retry is only called off when
   * the link is up by {@link #linkUp}: an ICE state that looked connected once must not end the retries of a link
   * that is still down. While the link is down its state is also read once a second: a stack can dispatch its last
   * state event before the state it reports has changed (wrtc does, under load), and no event follows.
   */
  #watchPath(): void {
    clearTimeout(this.#disconnectedTimer);
    if (this.#closed || this.#linkUp()) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      clearInterval(this.#statePoll);
      this.#statePoll = undefined;
      return;
    }
    this.#statePoll ??= setInterval(() => this.#onConnectionState(), 1000);
    // A retry already scheduled covers a path that fails again; otherwise `failed` recovers at once.
    if (this.#retryTimer !== undefined) return;
    const states = [this.pc.iceConnectionState, this.pc.connectionState];
    if (states.includes('failed')) this.#recover();
    else if (states.includes('disconnected')) {
      this.#disconnectedTimer = setTimeout(() => this.#recover(), this.#options.disconnectedRestartMs ?? 3000);
    }
  }

  /** Up when the connection says so (the state users see); a stack without `connectionState` is read by ICE. */
  #linkUp(): boolean {
    const connection = this.pc.connectionState as RTCPeerConnectionState | undefined;
    if (connection !== undefined) return connection === 'connected';
    const ice = this.pc.iceConnectionState;
    return ice === 'connected' || ice === 'completed';
  }

  #recover(): void {
    if (this.#closed) return;
    clearTimeout(this.#disconnectedTimer);
    clearTimeout(this.#retryTimer);
    if (this.#restarts >= (this.#options.maxIceRestarts ?? 5)) {
      const error = new FramewireError('FW_ERR_PEER_CONNECTION_FAILED', `the connection to ${this.remoteId} failed`, {
        fatal: true,
        stage: 'ice',
      });
      this.#events.emit('error', { error, fatal: true });
      this.close();
      return;
    }
    this.#restarts++;
    const waitMs = (this.#options.disconnectedRestartMs ?? 3000) * 2 ** (this.#restarts - 1);
    const retryUnlessConnected = (): void => {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        if (!this.#linkUp()) this.#recover();
      }, waitMs);
    };
    if (!this.#options.polite) {
      // The impolite side restarts at once. A restart made while no path exists (the relay still down, say)
      // gathers nothing, and ICE may then stay `disconnected` without another event: it tries again when this
      // one has not connected after a while (twice as long at each restart, to cover a longer outage).
      log.info(`ICE restart ${this.#restarts} towards ${this.remoteId}`);
      this.restartIce();
      retryUnlessConnected();
      return;
    }
    // The polite side leaves the restart to the other one, so that both do not collide on every attempt. But its
    // own view can stay broken while the other side's is repaired: when it is still not connected after a while,
    // it restarts itself.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#linkUp()) return;
      log.info(`ICE restart ${this.#restarts} towards ${this.remoteId}, from the polite side`);
      this.restartIce();
      retryUnlessConnected();
    }, waitMs);
  }

  #adoptChannel(channel: RTCDataChannel): void {
    this.#channel = channel;
    channel.binaryType = 'arraybuffer';
    channel.onopen = () => this.#events.emit('open', {});
    channel.onmessage = (event: MessageEvent) => {
      if (!(event.data instanceof ArrayBuffer)) {
        this.#events.emit('error', {
          error: new FramewireError('FW_ERR_BAD_MESSAGE', 'a text message on the data channel', { stage: 'data' }),
          fatal: false,
        });
        return;
      }
      try {
        const message = this.#assembler.push(new Uint8Array(event.data));
        if (message) this.#events.emit('message', { bytes: message });
      } catch (error) {
        this.#events.emit('error', { error: error as FramewireError, fatal: false });
      }
    };
    if (channel.readyState === 'open') this.#events.emit('open', {});
  }
}
