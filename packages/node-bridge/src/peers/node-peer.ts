import { WebSocket } from 'ws';
import { FramewireError, TypedEmitter, assertOption } from '@framewire/core';
import {
  Room,
  type PeerConnectionConstructor,
  type Publication,
  type RoomOptions,
  type WebSocketConstructor,
} from '@framewire/browser-sdk/network';

/** One raw I420 frame, as `@roamhq/wrtc`'s `RTCVideoSource`/`RTCVideoSink` take and give them. */
export interface I420Frame {
  /** Width in pixels (even). */
  width: number;
  /** Height in pixels (even). */
  height: number;
  /** Y, then U, then V planes: width × height × 1.5 bytes. */
  data: Uint8Array | Uint8ClampedArray;
}

/** 10 ms of 16-bit PCM, as `@roamhq/wrtc`'s `RTCAudioSource` takes it. */
export interface PcmAudio {
  /** Interleaved samples: `sampleRate / 100 × channelCount` of them. */
  samples: Int16Array;
  /** Samples a second per channel. Default: 48000. */
  sampleRate?: number;
  /** Channels, 1 or 2. Default: 1. */
  channelCount?: number;
}

/** The parts of `@roamhq/wrtc` a {@link NodePeer} uses (pass `require('@roamhq/wrtc')` or its default import). */
export interface WrtcModule {
  /** The RTCPeerConnection implementation. */
  RTCPeerConnection: unknown;
  /** MediaStream, to group published tracks. */
  MediaStream: unknown;
  /** wrtc's non-standard frame sources and sinks. */
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): MediaStreamTrack; onFrame(frame: I420Frame): void };
    RTCVideoSink: new (track: MediaStreamTrack) => {
      onframe: ((event: { frame: I420Frame }) => void) | null;
      stop(): void;
    };
    /** Needed only to publish audio (`publishVideo({ audio: true })`). */
    RTCAudioSource?: new () => {
      createTrack(): MediaStreamTrack;
      onData(data: {
        samples: Int16Array;
        sampleRate: number;
        bitsPerSample: number;
        channelCount: number;
        numberOfFrames: number;
      }): void;
    };
  };
}

/** Options of {@link NodePeer.open}: the room's options, with wrtc instead of the browser's platform objects. */
export interface NodePeerOptions extends Omit<RoomOptions, 'WebSocket' | 'RTCPeerConnection' | 'wrapTrack'> {
  /** The `@roamhq/wrtc` module. Required. */
  wrtc: WrtcModule;
}

/** Events of a {@link NodePeer} (besides the room's, on `peer.room.on(…)`). */
export type NodePeerEvents = {
  /** A decoded frame of a remote peer's media track (I420). */
  frame: { peerId: string; frame: I420Frame; receivedAtMs: number };
};

/** A video published from Node: push I420 frames into it. */
export interface NodeVideoPublication extends Publication {
  /**
   * Sends one frame (the encoder paces and scales as the network allows). `captureTimeMs` (ms since the epoch,
   * default now) travels beside it, so that browser receivers measure glass-to-glass latency.
   */
  pushFrame(frame: I420Frame, captureTimeMs?: number): void;
  /**
   * Sends 10 ms of audio (with `audio: true`; the audio track travels in the video's media stream, so receivers play
   * the two in sync: feed each chunk when its sound was captured, as frames are fed when they were). Throws
   * `FW_ERR_INVALID_OPTION` for a chunk that is not 10 ms long, `FW_ERR_CLOSED` without `audio`.
   */
  pushAudio(chunk: PcmAudio): void;
}

/**
 * A Node peer in a framewire room, on `@roamhq/wrtc` (VP8 media, data channels) and `ws`: the SDK's {@link Room}
 * with Node's platform objects injected. It publishes raw I420 frames as a media track, receives every remote
 * media track as I420 frames (`frame` events), and speaks every data pattern of the room (`peer.room.send`,
 * `request`, `handle`, `push`, `pull`) with browsers and other Node peers.
 */
export class NodePeer {
  /** The room (data patterns, events, stats). */
  readonly room: Room;
  readonly #wrtc: WrtcModule;
  readonly #events = new TypedEmitter<NodePeerEvents>();
  readonly #sinks = new Set<{ stop(): void }>();
  readonly #publications = new Set<NodeVideoPublication>();
  #closed = false;

  private constructor(room: Room, wrtc: WrtcModule) {
    this.room = room;
    this.#wrtc = wrtc;
    room.on('track', ({ peerId, track }) => {
      if (track?.kind !== 'video') return;
      const sink = new wrtc.nonstandard.RTCVideoSink(track);
      this.#sinks.add(sink);
      sink.onframe = ({ frame }) => this.#events.emit('frame', { peerId, frame, receivedAtMs: Date.now() });
      room.on('peer-left', (event) => {
        if (event.peerId !== peerId) return;
        sink.stop();
        this.#sinks.delete(sink);
      });
    });
  }

  /** Joins a room; rejects like `Room.open` (`FW_ERR_SIGNALING_FAILED`, `FW_ERR_UNAUTHORIZED`, …). */
  static async open(options: NodePeerOptions): Promise<NodePeer> {
    assertOption(
      typeof options.wrtc === 'object' && typeof options.wrtc.RTCPeerConnection === 'function',
      'options.wrtc must be the @roamhq/wrtc module',
    );
    const { wrtc, ...rest } = options;
    const room = await Room.open({
      ...rest,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      RTCPeerConnection: wrtc.RTCPeerConnection as PeerConnectionConstructor,
      wrapTrack: () => undefined,
    });
    return new NodePeer(room, wrtc);
  }
  /**
   * The same as {@link NodePeer.open}.
   * @deprecated Use `NodePeer.open()` (one construction verb: `open` for everything that connects; docs/guides/names.md).
   * Kept for one release.
   */
  static join(options: NodePeerOptions): Promise<NodePeer> {
    return NodePeer.open(options);
  }

  /** This peer's id. */
  get peerId(): string {
    return this.room.peerId;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof NodePeerEvents>(event: E, listener: (payload: NodePeerEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Publishes a video track fed with {@link NodeVideoPublication.pushFrame} to the room's peers (or `to`); with
   * `audio: true`, an audio track in the same media stream too, fed with {@link NodeVideoPublication.pushAudio}
   * (default: false). Throws `FW_ERR_NOT_SUPPORTED` for audio when the wrtc module has no `RTCAudioSource`.
   */
  publishVideo(options: { to?: string[]; audio?: boolean } = {}): NodeVideoPublication {
    if (this.#closed) throw new FramewireError('FW_ERR_CLOSED', 'the peer was closed');
    assertOption(options.audio === undefined || typeof options.audio === 'boolean', 'options.audio must be a boolean');
    const AudioSource = this.#wrtc.nonstandard.RTCAudioSource;
    if (options.audio === true && !AudioSource) {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'this wrtc module has no nonstandard.RTCAudioSource', {
        stage: 'publish',
      });
    }
    const source = new this.#wrtc.nonstandard.RTCVideoSource();
    const track = source.createTrack();
    const audioSource = options.audio === true && AudioSource ? new AudioSource() : undefined;
    const audioTrack = audioSource?.createTrack();
    const MediaStreamImpl = this.#wrtc.MediaStream as new (tracks: MediaStreamTrack[]) => MediaStream;
    const stream = new MediaStreamImpl(audioTrack ? [track, audioTrack] : [track]);
    const to = options.to ? { to: options.to } : {};
    const publication = this.room.publishTrack(track, { ...to, stream });
    const audioPublication = audioTrack ? this.room.publishTrack(audioTrack, { ...to, stream }) : undefined;
    let framesSent = 0;
    let closed = false;
    const video: NodeVideoPublication = {
      id: publication.id,
      delivery: 'track',
      get framesSent() {
        return framesSent;
      },
      pushFrame: (frame, captureTimeMs) => {
        source.onFrame(frame);
        const fedMs = Date.now();
        this.room.stampTrackFrame(publication.id, captureTimeMs ?? fedMs, fedMs);
        framesSent++;
      },
      pushAudio: ({ samples, sampleRate = 48_000, channelCount = 1 }) => {
        if (!audioSource || closed) throw new FramewireError('FW_ERR_CLOSED', 'this publication sends no audio');
        const numberOfFrames = sampleRate / 100;
        assertOption(
          [1, 2].includes(channelCount) &&
            Number.isInteger(numberOfFrames) &&
            samples instanceof Int16Array &&
            samples.length === numberOfFrames * channelCount,
          `an audio chunk must be 10 ms of 16-bit PCM (sampleRate / 100 × channelCount samples); got ${samples.length} samples at ${sampleRate} Hz, ${channelCount} channel(s)`,
        );
        audioSource.onData({ samples, sampleRate, bitsPerSample: 16, channelCount, numberOfFrames });
      },
      close: async () => {
        if (closed) return;
        closed = true;
        this.#publications.delete(video);
        await publication.close();
        await audioPublication?.close();
        // A live wrtc track keeps native threads (and so the process) running.
        track.stop();
        audioTrack?.stop();
      },
    };
    this.#publications.add(video);
    return video;
  }

  /** Stops every publication and sink and leaves the room. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const publication of [...this.#publications]) await publication.close();
    for (const sink of this.#sinks) sink.stop();
    this.#sinks.clear();
    await this.room.close();
    this.#events.removeAllListeners();
  }
}
