import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FramewireError, assertOption, createLogger, type ErrorCode } from '@framewire/core';
import { NodePeer, type NodeVideoPublication, type WrtcModule } from '@framewire/signaling/node-peer';
import type { BridgeServer } from '../bridge-server.js';
import { isRawFrame } from '../media/source-frame.js';
import { RoomSource } from '../sources/room-source.js';

/** Options of {@link BridgeRoomPeer.join}. */
export interface BridgeRoomPeerOptions {
  /** `ws://` or `wss://` URL of the signaling server's `/ws` endpoint. Required. */
  url: string;
  /** The room to join (the token's room). Required. */
  room: string;
  /** A signaling token with role `publisher` (or `admin`), or a function returning a fresh one. Required. */
  token: string | (() => string | Promise<string>);
  /**
   * Ids of the bridge sources to publish to the room as media tracks (VP8 from the shared I420 feed). Default: the
   * first source that is not a {@link RoomSource}; `[]` publishes nothing.
   */
  publish?: string[];
  /** The bridge source the peers' video goes to (it must be one of the bridge's sources). Default: none. */
  receive?: RoomSource;
  /** Keep only local ICE candidates with these addresses (e.g. `127.0.0.1`). Default: every candidate. */
  iceAddresses?: string[];
  /** JSON shown to the other peers (≤ 1 KiB). Default: `{ kind: 'framewire-bridge' }`. */
  meta?: Record<string, unknown>;
  /** The `@roamhq/wrtc` module. Default: the one the bridge depends on. */
  wrtc?: WrtcModule;
}

const log = createLogger('room');

/** The address field of an ICE candidate line (`candidate:<foundation> <component> <transport> <priority> <address> …`). */
function candidateAddress(candidate: RTCIceCandidateInit): string | undefined {
  return (candidate.candidate ?? '').replace(/^a=/, '').split(/\s+/)[4];
}

/**
 * Lets the garbage collector finalize wrtc's remote tracks while the process still runs: `@roamhq/wrtc` 0.10 can
 * crash at exit when they are finalized during teardown.
 */
async function settleWrtc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc();
  }
}

/**
 * The bridge as a peer of a framewire room (see `@framewire/signaling`): it publishes bridge sources as media
 * tracks, encoded from the bridge's shared I420 feed (so each source is still decoded once), and passes every
 * remote peer's video to a {@link RoomSource}, which the bridge's other outputs serve like any source. The peer
 * runs `@roamhq/wrtc` in the bridge's own process (unlike the `/offer` output, whose peers live in a worker
 * process). Signaling reconnects (with the same peer id) are the room's.
 */
export class BridgeRoomPeer {
  /** The Node peer (its `room` has the data patterns, events and stats). */
  readonly peer: NodePeer;
  /** Output labels in the bridge's `/metrics`. */
  readonly metricsLabels = { source: '*', output: 'room' };
  readonly #unsubscribe: (() => void)[] = [];
  readonly #publications: NodeVideoPublication[] = [];
  #receivedTracks = false;
  #closing: Promise<void> | undefined;

  private constructor(peer: NodePeer) {
    this.peer = peer;
  }

  /**
   * Joins the room and starts publishing and receiving; the bridge closes the peer when it closes. Rejects with
   * `FW_ERR_INVALID_OPTION`, `FW_ERR_UNAUTHORIZED` (the signaling server refused the token) or
   * `FW_ERR_SIGNALING_FAILED` (it cannot be reached).
   */
  static async join(bridge: BridgeServer, options: BridgeRoomPeerOptions): Promise<BridgeRoomPeer> {
    assertOption(
      typeof options.url === 'string' && /^wss?:\/\/./.test(options.url),
      `room url must be a ws:// or wss:// URL; got ${options.url}`,
    );
    assertOption(typeof options.room === 'string' && options.room !== '', 'room must be a room name');
    assertOption(
      (typeof options.token === 'string' && options.token !== '') || typeof options.token === 'function',
      'room token must be a signaling token (FRAMEWIRE_ROOM_TOKEN or --room-token)',
    );
    const receive = options.receive;
    assertOption(
      receive === undefined || bridge.sources.includes(receive),
      'room receive must be one of the bridge sources',
    );
    const publish =
      options.publish ??
      bridge.sources
        .filter((s) => !(s instanceof RoomSource))
        .map((s) => s.id)
        .slice(0, 1);
    for (const id of publish) {
      const source = bridge.sources.find((s) => s.id === id);
      assertOption(
        source && !(source instanceof RoomSource),
        `room publish: no bridge source to publish with id ${id}`,
      );
    }
    const addresses = options.iceAddresses ?? [];
    assertOption(
      Array.isArray(addresses) && addresses.every((a) => typeof a === 'string' && a !== ''),
      'room iceAddresses must be an array of IP addresses',
    );
    const wrtc = options.wrtc ?? (createRequire(import.meta.url)('@roamhq/wrtc') as WrtcModule);
    let peer: NodePeer;
    try {
      peer = await NodePeer.join({
        url: options.url,
        room: options.room,
        token: options.token,
        wrtc,
        meta: options.meta ?? { kind: 'framewire-bridge' },
        ...(addresses.length > 0
          ? { iceCandidateFilter: (candidate) => addresses.includes(candidateAddress(candidate) ?? '') }
          : {}),
      });
    } catch (error) {
      // A refused upgrade arrives with the server's reason (the signaling client asks /ws/check after one).
      const code: ErrorCode = error instanceof FramewireError ? error.code : 'FW_ERR_SIGNALING_FAILED';
      const reason = (error as Error).message;
      const why =
        code === 'FW_ERR_UNAUTHORIZED' || code === 'FW_ERR_FORBIDDEN'
          ? 'refused the room token'
          : 'could not be joined';
      throw new FramewireError(code, `room "${options.room}" at ${options.url} ${why}: ${reason}`, {
        cause: error,
        fatal: true,
        stage: 'room',
      });
    }
    const member = new BridgeRoomPeer(peer);
    try {
      member.#start(bridge, publish, receive);
    } catch (error) {
      await member.close();
      throw error;
    }
    bridge.attach(member);
    log.info(`joined room "${options.room}" as ${peer.peerId}`, { publish, receive: receive?.id });
    return member;
  }

  /** Connected peers and frames handed to the encoder, as bridge output metrics (wrtc's bytes are not counted). */
  get stats(): { clients: number; framesSent: number; framesDropped: number; bytesSent: number } {
    return {
      clients: this.peer.room.connectedPeers.length,
      framesSent: this.#publications.reduce((sum, p) => sum + p.framesSent, 0),
      framesDropped: 0,
      bytesSent: 0,
    };
  }

  /** Stops publishing, leaves the room and lets wrtc settle. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const off of this.#unsubscribe.splice(0)) off();
      await this.peer.close().catch((error: unknown) => log.warn('leaving the room failed', { error }));
      if (this.#receivedTracks) await settleWrtc();
    })();
    return this.#closing;
  }

  #start(bridge: BridgeServer, publish: string[], receive: RoomSource | undefined): void {
    for (const id of publish) {
      const video = this.peer.publishVideo();
      this.#publications.push(video);
      const feed = bridge.feed(id, 'I420');
      this.#unsubscribe.push(
        feed.subscribe((frame) => {
          if (!isRawFrame(frame) || frame.format !== 'I420') return;
          video.pushFrame({ width: frame.width, height: frame.height, data: frame.data });
        }),
      );
    }
    this.#unsubscribe.push(
      this.peer.room.on('track', () => {
        this.#receivedTracks = true;
      }),
    );
    if (receive) {
      this.#unsubscribe.push(
        this.peer.on('frame', ({ peerId, frame, receivedAtMs }) => receive.pushPeerFrame(peerId, frame, receivedAtMs)),
        this.peer.room.on('peer-left', ({ peerId }) => receive.removePeer(peerId)),
      );
    }
  }
}
