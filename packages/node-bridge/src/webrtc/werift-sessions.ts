import { FramewireError, TypedEmitter, type EventMap, type Logger } from '@framewire/core';
import type { RTCPeerConnection } from 'werift';
import { LoopbackStunServer } from './loopback-stun-server.js';
import type { SdpFrag, SdpFragCandidate } from './trickle-ice-sdpfrag.js';
import { isMdnsCandidate, restartWeriftIce } from './werift-ice.js';

/** What every session of a {@link WeriftSessions} reports: its id and its peer connection state. */
export interface WeriftSession {
  /** Session id, the last segment of its resource URL. */
  id: string;
  /** The peer connection state (`new`, `connecting`, `connected`, `closed`, `failed`). */
  state: string;
}

/** A session as a {@link WeriftSessions} keeps it: its counters and its werift peer connection. */
export interface WeriftSessionEntry<S extends WeriftSession> {
  /** The session's counters, copied out by {@link WeriftSessions.sessions}. */
  session: S;
  /** Its peer connection. */
  pc: RTCPeerConnection;
  /** When its answer (or its last ICE restart) was sent, in ms since the epoch; 0 before. */
  answeredAtMs: number;
}

/** Options of {@link WeriftSessions} (validated by the subclass, whose option names they are). */
export interface WeriftSessionsOptions {
  /** Keep only ICE candidates with these addresses. */
  iceAddresses: string[];
  /** A session not connected this long after its answer (or its last ICE restart) is dropped, in ms. */
  connectTimeoutMs: number;
}

/**
 * The session plumbing of the bridge's werift peer connections (H.264 passthrough viewers, H.264 publishers): the
 * open sessions by id, the `session` event when one changes state, trickled candidates and ICE restarts, the
 * bridge's own STUN server on 127.0.0.1 (started on first use), a once-a-second check that drops sessions that did
 * not connect in time (and whatever {@link expired} adds), and an idempotent `close()`.
 */
export abstract class WeriftSessions<
  S extends WeriftSession,
  E extends WeriftSessionEntry<S>,
  Events extends EventMap & { session: { session: S } },
> {
  /** The open sessions by id. */
  protected readonly entries = new Map<string, E>();
  /** The events of the subclass; `session` is emitted here. */
  protected readonly events = new TypedEmitter<Events>();
  /** True once `close()` started. */
  protected closed = false;
  readonly #options: WeriftSessionsOptions;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #stun: Promise<LoopbackStunServer> | undefined;

  /** Starts the expiry check (unref'd: it keeps no process alive). */
  protected constructor(options: WeriftSessionsOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    this.#timer = setInterval(() => this.#expire(), 1000);
    this.#timer.unref();
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** The open sessions with their counters. */
  get sessions(): S[] {
    return [...this.entries.values()].map((e) => ({ ...e.session }));
  }

  /** True when `sessionId` is an open session. */
  has(sessionId: string): boolean {
    return this.entries.has(sessionId);
  }

  /** Adds ICE candidates a client found after its offer (trickle ICE); mDNS ones are skipped. */
  async addCandidates(sessionId: string, candidates: SdpFragCandidate[]): Promise<void> {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    for (const candidate of candidates) {
      if (isMdnsCandidate(candidate.candidate)) continue;
      await entry.pc
        .addIceCandidate(candidate)
        .catch((error: unknown) => this.#log.debug(`candidate for ${sessionId}: ${String(error)}`));
    }
  }

  /**
   * Restarts ICE for a session (a WHIP/WHEP `PATCH` with new credentials, see {@link restartWeriftIce}); resolves
   * with the bridge's trickle-ice-sdpfrag, `undefined` when there is no such session. The connect deadline starts
   * again.
   */
  async restartIce(sessionId: string, frag: SdpFrag): Promise<string | undefined> {
    const entry = this.entries.get(sessionId);
    if (!entry) return undefined;
    const fragment = await restartWeriftIce(entry.pc, frag, this.#options.iceAddresses, this.#stun !== undefined);
    entry.answeredAtMs = Date.now();
    return fragment;
  }

  /** Ends a session (`DELETE` of its resource); false when there is no such session. */
  end(sessionId: string): boolean {
    if (!this.entries.has(sessionId)) return false;
    this.endSession(sessionId, 'closed');
    return true;
  }

  /** Ends every session, then runs {@link released}. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.#timer);
    const pcs = [...this.entries.values()].map((e) => e.pc);
    for (const id of [...this.entries.keys()]) this.endSession(id, 'closed');
    await Promise.allSettled(pcs.map((pc) => pc.close()));
    this.released?.();
    this.events.removeAllListeners();
    (await this.#stun?.catch(() => undefined))?.close();
  }

  /** The bridge's STUN server on 127.0.0.1, started on first use (werift must not ask a public one). */
  protected loopbackStun(): Promise<LoopbackStunServer> {
    this.#stun ??= LoopbackStunServer.start();
    return this.#stun;
  }

  /** True once {@link loopbackStun} was used: its server-reflexive candidates copy host ones (drop them). */
  protected get usesLoopbackStun(): boolean {
    return this.#stun !== undefined;
  }

  /** Throws `FW_ERR_CLOSED` after `close()`, `FW_ERR_CAPACITY_REACHED` (with `message`) at `max` sessions. */
  protected admit(max: number, message: string): void {
    if (this.closed) throw new FramewireError('FW_ERR_CLOSED', 'the bridge is shutting down', { stage: 'webrtc' });
    if (this.entries.size >= max) throw new FramewireError('FW_ERR_CAPACITY_REACHED', message, { stage: 'webrtc' });
  }

  /** Follows a peer connection state: `closed` and `failed` end the session; others are emitted. */
  protected stateChanged(entry: E, state: string): void {
    if (!this.entries.has(entry.session.id)) return;
    if (state === 'closed' || state === 'failed') {
      this.endSession(entry.session.id, state);
      return;
    }
    if (state === 'connected' && entry.session.state !== 'connected') this.connected?.(entry);
    entry.session.state = state;
    this.emitSession(entry.session);
  }

  /** Ends session `sessionId` with `state`: removed, {@link ended} run, its connection closed, emitted. */
  protected endSession(sessionId: string, state: 'closed' | 'failed'): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    this.ended?.(entry);
    entry.session.state = state;
    void entry.pc.close().catch((error: unknown) => this.#log.debug(`closing ${sessionId}: ${String(error)}`));
    this.emitSession(entry.session);
  }

  /** A session first reached `connected` (before the state is stored and emitted). */
  protected connected?(entry: E): void;

  /** A session was removed; release what it holds. */
  protected ended?(entry: E): void;

  /** Every session ended and `close()` is finishing; release what the sessions shared. */
  protected released?(): void;

  /** True when an open, connected session must be dropped now (checked each second). Default: never. */
  protected expired?(entry: E, nowMs: number): boolean;

  /** Emits `session` with a copy of `session`. */
  protected emitSession(session: S): void {
    // The subclass's event map has this `session` event (the class's constraint); TypeScript cannot narrow it.
    (this.events as unknown as TypedEmitter<{ session: { session: S } }>).emit('session', { session: { ...session } });
  }

  /** Drops sessions that did not connect within the connect timeout of their answer, or that {@link expired}. */
  #expire(): void {
    const now = Date.now();
    for (const entry of [...this.entries.values()]) {
      const { session } = entry;
      const late =
        session.state !== 'connected' &&
        entry.answeredAtMs > 0 &&
        now - entry.answeredAtMs > this.#options.connectTimeoutMs;
      if (late || (session.state === 'connected' && this.expired?.(entry, now) === true))
        this.endSession(session.id, 'failed');
    }
  }
}
