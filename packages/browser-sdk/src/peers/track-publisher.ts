/// <reference path="../types/globals.d.ts" />
import { FramewireError, type TypedEmitter, assertOption } from '@framewire/core';
import type { FrameSource } from '../core/frame-source.js';
import { SourceTrackFeed } from '../network/source-track-feed.js';
import { encodePeerMessage } from './peer-message.js';
import type { PeerLink } from './peer-link.js';
import type { PeerMesh } from './peer-mesh.js';
import type { Publication, PublishOptions } from './publication.js';
import type { RoomEvents } from './room-events.js';

interface TrackEntry {
  track: MediaStreamTrack;
  stream: MediaStream | undefined;
  to?: string[];
  senders: Map<string, RTCRtpSender>;
}

/**
 * The room's media-track publications: ready tracks (`publishTrack`) and FrameSources written into a
 * `MediaStreamTrackGenerator` (`publish` with `track` delivery). Every track goes to each linked peer it is meant
 * for, present and future, and the capture time of each frame fed to it travels beside it on the data channel
 * (`fw.tmeta`), so that receivers measure glass-to-glass latency.
 */
export class TrackPublisher {
  readonly #mesh: PeerMesh;
  readonly #nextId: () => number;
  readonly #clockOffsetMs: () => number;
  readonly #events: TypedEmitter<RoomEvents>;
  readonly #tracks = new Map<number, TrackEntry>();

  /**
   * @param mesh the room's links; @param nextId the room's id counter (publication ids); @param clockOffsetMs the
   * signaling server's clock minus this one's, in ms; @param events the room's events (non-fatal errors).
   */
  constructor(mesh: PeerMesh, nextId: () => number, clockOffsetMs: () => number, events: TypedEmitter<RoomEvents>) {
    this.#mesh = mesh;
    this.#nextId = nextId;
    this.#clockOffsetMs = clockOffsetMs;
    this.#events = events;
  }

  /** Publishes a ready track (see `Room.publishTrack`). Throws `FW_ERR_INVALID_OPTION` for a track that has ended. */
  publishTrack(track: MediaStreamTrack, options: { to?: string[]; stream?: MediaStream } = {}): Publication {
    assertLiveTrack(track, 'track');
    const id = this.#nextId();
    const entry: TrackEntry = {
      track,
      stream: options.stream ?? (typeof MediaStream === 'function' ? new MediaStream([track]) : undefined),
      senders: new Map(),
    };
    if (options.to) entry.to = options.to;
    this.#tracks.set(id, entry);
    for (const link of this.#mesh.links()) attachTrack(link, entry);
    let closed = false;
    return {
      id,
      delivery: 'track',
      framesSent: 0,
      close: () => {
        if (closed) return Promise.resolve();
        closed = true;
        this.#tracks.delete(id);
        for (const [peerId, sender] of entry.senders) this.#mesh.get(peerId)?.removeTrack(sender);
        return Promise.resolve();
      },
    };
  }

  /**
   * Publishes a FrameSource as a media track (with its audio track in the same stream unless `audio: false`).
   * Throws `FW_ERR_NOT_SUPPORTED` without `MediaStreamTrackGenerator`, `FW_ERR_INVALID_OPTION` when the source's
   * audio track has ended.
   */
  publishSource(source: FrameSource, options: PublishOptions): Publication {
    const audioTrack = options.audio === false ? undefined : source.audioTrack;
    if (audioTrack) assertLiveTrack(audioTrack, 'source.audioTrack');
    // Its first frame comes after an await, once `publication` below is set.
    const track = new SourceTrackFeed(source, {
      sent: (capturedMs, fedMs) => this.stampTrackFrame(publication.id, capturedMs, fedMs),
      failed: (error) =>
        this.#events.emit('error', {
          error: new FramewireError('FW_ERR_CLOSED', 'publishing a track failed', { cause: error, stage: 'publish' }),
          fatal: false,
        }),
    });
    // One media stream for the video and its audio: one msid, so that receivers play them in sync.
    const stream =
      typeof MediaStream === 'function'
        ? new MediaStream(audioTrack ? [track.track, audioTrack] : [track.track])
        : undefined;
    const to = options.to ? { to: options.to } : {};
    const publication = this.publishTrack(track.track, { ...to, ...(stream ? { stream } : {}) });
    const audioPublication = audioTrack
      ? this.publishTrack(audioTrack, { ...to, ...(stream ? { stream } : {}) })
      : undefined;
    let stopped = false;
    return {
      id: publication.id,
      delivery: 'track',
      get framesSent() {
        return track.framesSent;
      },
      close: async () => {
        if (stopped) return;
        stopped = true;
        await publication.close();
        await audioPublication?.close();
        await track.stop();
      },
    };
  }

  /** Sends the capture time of the frame just fed to publication `publicationId` (see `Room.stampTrackFrame`). */
  stampTrackFrame(publicationId: number, captureTimeMs: number, fedAtMs: number): void {
    const entry = this.#tracks.get(publicationId);
    const streamId = entry?.stream?.id;
    if (!entry || streamId === undefined || entry.senders.size === 0) return;
    const message = encodePeerMessage({
      type: 'track-meta',
      streamId,
      captureServerMs: captureTimeMs + this.#clockOffsetMs(),
      fedAtMs,
    });
    for (const peerId of entry.senders.keys()) {
      const link = this.#mesh.get(peerId);
      if (link?.open) void link.send(message).catch(() => undefined);
    }
  }

  /** A new link: adds every published track meant for its peer. */
  attachTo(link: PeerLink): void {
    for (const entry of this.#tracks.values()) attachTrack(link, entry);
  }

  /** A peer left: its senders are gone with its connection. */
  forgetPeer(peerId: string): void {
    for (const entry of this.#tracks.values()) entry.senders.delete(peerId);
  }
}

function attachTrack(link: PeerLink, entry: TrackEntry): void {
  if (entry.to && !entry.to.includes(link.remoteId)) return;
  if (entry.senders.has(link.remoteId)) return;
  entry.senders.set(link.remoteId, link.addTrack(entry.track, entry.stream));
}

/** Throws `FW_ERR_INVALID_OPTION` naming `what` when `track` has ended: it would send nothing. */
function assertLiveTrack(track: MediaStreamTrack, what: string): void {
  assertOption(
    track.readyState !== 'ended',
    `${what} has ended (a stopped or unplugged ${track.kind} track): it cannot be published`,
  );
}
