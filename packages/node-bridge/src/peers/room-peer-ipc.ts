/*
 * The control messages between the bridge and its room peer worker process, on the same pipe framing as the
 * WebRTC worker (see webrtc-ipc.ts): kind 0 JSON control messages, kind 1 raw I420 frames, kind 3 PCM audio (to the
 * worker only). Frames and PCM to the worker carry the id of the bridge source being published; frames from the
 * worker carry the id of the remote peer.
 */
import type { LogLevel } from '@framewire/core';
import { IPC_KIND } from '../webrtc/webrtc-ipc.js';

/** Control messages from the bridge to the room peer worker. */
export type RoomIpcToWorker =
  | {
      type: 'join';
      url: string;
      room: string;
      meta: Record<string, unknown>;
      /** Local ICE candidates are kept only with these addresses (all when empty). */
      iceAddresses: string[];
      /** Ids of the bridge sources the worker publishes (their frames arrive as kind 1 messages). */
      publish: string[];
      /** Those of them with audio: published with an audio track, fed by kind 3 PCM messages. */
      publishAudio: string[];
      /** The bridge's log level: the worker logs at the same level (to stderr, which the bridge passes on). */
      logLevel: LogLevel;
    }
  /** The answer to a `token-request`: a fresh signaling token, or why there is none. */
  | { type: 'token'; requestId: number; token?: string; error?: string }
  /** A liveness check: the worker answers `pong` from its event loop. */
  | { type: 'ping'; id: number }
  | { type: 'leave' };

/** Control messages from the room peer worker to the bridge. */
export type RoomIpcFromWorker =
  | { type: 'ready' }
  | { type: 'pong'; id: number }
  /** The worker needs a signaling token (on every join and signaling reconnect). */
  | { type: 'token-request'; requestId: number }
  | { type: 'joined'; peerId: string }
  | { type: 'join-failed'; code: string; message: string }
  /** A remote peer's video track arrived; `meta` is what the peer sent with its join. */
  | { type: 'track'; peerId: string; meta: Record<string, unknown> | undefined }
  | { type: 'peer-left'; peerId: string }
  /** Peers with an open connection. */
  | { type: 'peers'; connected: number }
  | { type: 'error'; code: string; message: string; fatal: boolean };

/** Encodes a room control message with the worker pipes' framing (`length u32 · kind 0 · UTF-8 JSON`). */
export function encodeRoomIpcJson(message: RoomIpcToWorker | RoomIpcFromWorker): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out.writeUInt8(IPC_KIND.json, 4);
  body.copy(out, 5);
  return out;
}
