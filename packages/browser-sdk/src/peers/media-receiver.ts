/// <reference path="../types/globals.d.ts" />
import { type FramewireError, type TypedEmitter } from '@framewire/core';
import type { FrameSource } from '../core/frame-source.js';
import { encodePeerMessage, type FrameMessage, type TrackMetaMessage } from './peer-message.js';
import type { PeerMesh } from './peer-mesh.js';
import { RemoteFrameSource } from './remote-frame-source.js';
import { RemoteTrackSource } from './remote-track-source.js';
import type { RoomEvents } from './room-events.js';

/** Turns a remote media track into a FrameSource (see `RoomOptions.wrapTrack`). */
export type TrackWrapper = (track: MediaStreamTrack, peerId: string) => FrameSource | undefined;

/**
 * What the room's peers publish, received: their media tracks (wrapped as FrameSources, stamped with the capture
 * times their senders announce) and their `data` publications (decoded into {@link RemoteFrameSource}s); each
 * becomes a `track` event (audio tracks an `audio` event). It also keeps each peer's measured latencies.
 */
export class MediaReceiver {
  readonly #mesh: PeerMesh;
  readonly #clockOffsetMs: () => number;
  readonly #events: TypedEmitter<RoomEvents>;
  readonly #wrapTrack: TrackWrapper | undefined;
  /** Remote `data` publications by `<peer>/<publication>`; `undefined` when they cannot be decoded here. */
  readonly #remoteSources = new Map<string, RemoteFrameSource | undefined>();
  /** Glass-to-glass latency of the last data frame, by peer. */
  readonly #latency = new Map<string, number>();
  /** Remote media tracks by `<peer>/<stream id>`, to match the capture times their senders announce. */
  readonly #remoteTracks = new Map<string, RemoteTrackSource>();

  /**
   * @param mesh the room's links; @param clockOffsetMs the signaling server's clock minus this one's, in ms;
   * @param events the room's events; @param wrapTrack `RoomOptions.wrapTrack`, when given.
   */
  constructor(
    mesh: PeerMesh,
    clockOffsetMs: () => number,
    events: TypedEmitter<RoomEvents>,
    wrapTrack: TrackWrapper | undefined,
  ) {
    this.#mesh = mesh;
    this.#clockOffsetMs = clockOffsetMs;
    this.#events = events;
    this.#wrapTrack = wrapTrack;
  }

  /** A media track arrived from `peerId`. */
  onTrack(peerId: string, track: MediaStreamTrack, streams: readonly MediaStream[]): void {
    const stream = streams[0];
    if (track.kind === 'audio') {
      this.#events.emit('audio', { peerId, track, streamId: stream?.id });
      return;
    }
    let source: FrameSource | undefined;
    if (this.#wrapTrack) source = this.#wrapTrack(track, peerId);
    else if (typeof MediaStreamTrackProcessor === 'function') {
      const remote = new RemoteTrackSource(track, stream);
      if (stream !== undefined) this.#remoteTracks.set(`${peerId}/${stream.id}`, remote);
      source = remote;
    }
    // The tracks of one offer join their streams before the first track event: the audio is there already.
    const audioTrack = stream?.getAudioTracks()[0];
    this.#events.emit('track', { peerId, delivery: 'track', track, source, audioTrack });
  }

  /** The capture time of a frame `from` just fed to one of its tracks. */
  onTrackMeta(from: string, meta: TrackMetaMessage): void {
    // The sender stated the capture time on the signaling server's clock: bring it to this one.
    this.#remoteTracks
      .get(`${from}/${meta.streamId}`)
      ?.clock.addMeta({ c: meta.captureServerMs - this.#clockOffsetMs(), f: meta.fedAtMs });
  }

  /** An encoded frame of a `data` publication of `from`: the first one of a publication makes its source. */
  onFrame(from: string, { meta, data }: FrameMessage): void {
    const key = `${from}/${meta.pub}`;
    if (this.#remoteSources.has(key) && !this.#remoteSources.get(key)) return;
    let source = this.#remoteSources.get(key);
    if (!source) {
      try {
        source = new RemoteFrameSource(from, this.#clockOffsetMs);
      } catch (error) {
        // No WebCodecs here (Node): report once per publication and ignore its frames.
        this.#remoteSources.set(key, undefined);
        this.#events.emit('error', { error: error as FramewireError, fatal: false });
        return;
      }
      const created = source;
      this.#remoteSources.set(key, source);
      source.on('end', () => {
        if (this.#remoteSources.get(key) === created) this.#remoteSources.delete(key);
      });
      this.#events.emit('track', { peerId: from, delivery: 'data', source, track: undefined, audioTrack: undefined });
      if (!meta.key)
        void this.#mesh
          .get(from)
          ?.send(encodePeerMessage({ type: 'keyframe-request', pub: meta.pub }))
          .catch(() => undefined);
    }
    if (meta.captureServerMs !== undefined) {
      this.#latency.set(from, Date.now() - (meta.captureServerMs - this.#clockOffsetMs()));
    }
    source.push(meta, data.slice());
  }

  /** A `data` publication of `from` ended: its source ends. */
  async onFrameEnd(from: string, pub: number): Promise<void> {
    const key = `${from}/${pub}`;
    const source = this.#remoteSources.get(key);
    this.#remoteSources.delete(key);
    await source?.end();
  }

  /** Glass-to-glass latency of the last data frame from `peerId`, in ms. */
  dataFrameLatencyMs(peerId: string): number | undefined {
    return this.#latency.get(peerId);
  }

  /** The largest measured latency of `peerId`'s media tracks, or `undefined`. */
  trackLatencyMs(peerId: string): number | undefined {
    let latency: number | undefined;
    for (const [key, source] of this.#remoteTracks) {
      const ms = key.startsWith(`${peerId}/`) ? source.lastLatencyMs : undefined;
      if (ms !== undefined && (latency === undefined || ms > latency)) latency = ms;
    }
    return latency;
  }

  /** A peer left: its data sources end and its tracks are forgotten. */
  forgetPeer(peerId: string): void {
    for (const [key, source] of this.#remoteSources) {
      if (key.startsWith(`${peerId}/`)) {
        this.#remoteSources.delete(key);
        void source?.end();
      }
    }
    for (const key of this.#remoteTracks.keys()) if (key.startsWith(`${peerId}/`)) this.#remoteTracks.delete(key);
  }

  /** Closes every remote data source. */
  async close(): Promise<void> {
    for (const source of this.#remoteSources.values()) await source?.close();
    this.#remoteTracks.clear();
  }
}
