import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { assertOption, createLogger } from '@framewire/core';
import { WebSocketServer, type WebSocket } from 'ws';
import { findSps, h264FrameType } from '../media/h264.js';
import type { AudioPacket } from '../media/audio-packet.js';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import {
  WS_CLOSE_CODES,
  WS_FRAME_FLAGS,
  WS_AUDIO_QUERY,
  WS_PROTOCOL_VERSION,
  encodeWsAudio,
  encodeWsFrame,
  parseWsClientMessage,
  type WsConfigMessage,
  type WsServerMessage,
} from '../protocol.js';

/** Options of {@link WebSocketOutput}. */
export interface WebSocketOutputOptions {
  /** A viewer whose socket holds more than this many unsent bytes skips to the next keyframe. Default: 1 MiB. */
  maxBufferedBytes?: number;
  /**
   * A viewer that acknowledges frames (`{ "type": "ack", "sequence": n }`, as the SDK's BridgeSource does) and has
   * more than this many sent frames unacknowledged skips to the next keyframe; it gets frames again once it has
   * no more than this many unacknowledged again. Viewers that never ack are judged by `maxBufferedBytes` alone.
   * Default: 10.
   */
  maxUnackedFrames?: number;
  /** Largest message a viewer may send, in bytes (viewers send nothing large). Default: 64 KiB. */
  maxPayloadBytes?: number;
}

/** Counters of a {@link WebSocketOutput}. */
export interface WebSocketOutputStats {
  /** Connected viewers. */
  clients: number;
  /** Access units sent (one per viewer per frame). */
  framesSent: number;
  /** Access units a slow viewer skipped (it then resumes at the next keyframe). */
  framesDropped: number;
  /** Connected viewers that acknowledge frames (judged by unacknowledged frames rather than buffered bytes). */
  ackingClients: number;
  /** Bytes sent. */
  bytesSent: number;
  /** Opus packets sent (one per audio viewer per packet). */
  audioPacketsSent: number;
}

interface Viewer {
  needKey: boolean;
  config: string;
  sequence: number;
  /** The sequence of the newest frame sent, or -1. */
  sentSequence: number;
  /** The newest sequence the viewer acknowledged; `undefined` until its first ack (it may never send one). */
  ackedSequence: number | undefined;
  /** The next audio sequence number, for a viewer that asked for audio (`?audio=1`) of a source with audio. */
  audioSequence: number | undefined;
}

const log = createLogger('websocket');

/**
 * H.264 over WebSocket, the low-CPU path to browsers: one shared H.264 {@link FrameFeed} (a Pi camera's own
 * stream, or one encoder for all viewers) fans out to every viewer as binary messages, each a
 * {@link WsFrameHeader} (capture time, key flag, sequence) and one Annex B access unit. A `config` message (codec
 * string, size) precedes the first keyframe and every change. A viewer that joins late starts at the next
 * keyframe; a slow viewer skips to the next keyframe instead of buffering: one that acknowledges frames (a
 * {@link WsAckMessage} per frame received) when too many sent frames are unacknowledged, any other when its socket
 * backs up.
 */
export class WebSocketOutput {
  readonly #feed: FrameFeed;
  readonly #server: WebSocketServer;
  readonly #viewers = new Map<WebSocket, Viewer>();
  readonly #maxBufferedBytes: number;
  readonly #maxUnackedFrames: number;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeAudio: (() => void) | undefined;
  #audioPacketsSent = 0;
  #framesSent = 0;
  #framesDropped = 0;
  #bytesSent = 0;

  /** Serves the H.264 `feed`. */
  constructor(feed: FrameFeed, options: WebSocketOutputOptions = {}) {
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#maxUnackedFrames = options.maxUnackedFrames ?? 10;
    const maxPayload = options.maxPayloadBytes ?? 64 * 1024;
    assertOption(this.#maxBufferedBytes > 0, 'websocket.maxBufferedBytes must be > 0');
    assertOption(
      Number.isInteger(this.#maxUnackedFrames) && this.#maxUnackedFrames >= 1,
      'websocket.maxUnackedFrames must be an integer >= 1',
    );
    assertOption(maxPayload > 0, 'websocket.maxPayloadBytes must be > 0');
    this.#feed = feed;
    this.#server = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
    this.#server.on('error', (error) => log.warn(`server error: ${error.message}`));
  }

  /** The counters. */
  get stats(): WebSocketOutputStats {
    return {
      clients: this.#viewers.size,
      framesSent: this.#framesSent,
      framesDropped: this.#framesDropped,
      ackingClients: [...this.#viewers.values()].filter((v) => v.ackedSequence !== undefined).length,
      bytesSent: this.#bytesSent,
      audioPacketsSent: this.#audioPacketsSent,
    };
  }

  /** Completes an (already authorised) upgrade request and adds the viewer. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#add(ws, request));
  }

  /** Closes every viewer with 1001 (going away) and `reason` (default: `bridge shutting down`). */
  close(reason = 'bridge shutting down'): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unsubscribeAudio?.();
    this.#unsubscribeAudio = undefined;
    for (const ws of this.#viewers.keys()) ws.close(WS_CLOSE_CODES.goingAway, reason);
    this.#viewers.clear();
    this.#server.close();
  }

  #add(ws: WebSocket, request: IncomingMessage): void {
    const address = request.socket.remoteAddress ?? '?';
    // Without an 'error' listener, a client sending more than maxPayload would crash the process.
    ws.on('error', (error) => {
      log.warn(`viewer ${address}: ${error.message}`);
    });
    ws.on('close', () => {
      this.#viewers.delete(ws);
      if (this.#viewers.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
      if (![...this.#viewers.values()].some((v) => v.audioSequence !== undefined)) {
        this.#unsubscribeAudio?.();
        this.#unsubscribeAudio = undefined;
      }
    });
    const audio = this.#feed.source.audio;
    const wantsAudio = new URL(request.url ?? '/', 'http://bridge').searchParams.get(WS_AUDIO_QUERY);
    const viewer: Viewer = {
      needKey: true,
      config: '',
      sequence: 0,
      sentSequence: -1,
      ackedSequence: undefined,
      audioSequence: audio && (wantsAudio === '1' || wantsAudio === 'true') ? 0 : undefined,
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const message = isBinary ? undefined : parseWsClientMessage(data.toString());
      if (!message) {
        log.debug(`viewer ${address}: ignored a message that is not an ack`);
        return;
      }
      // Acks can only move forward, and never past what was sent.
      const sequence = Math.min(message.sequence, viewer.sentSequence);
      if (sequence > (viewer.ackedSequence ?? -1)) viewer.ackedSequence = sequence;
      else viewer.ackedSequence ??= sequence;
    });
    this.#viewers.set(ws, viewer);
    this.#send(ws, {
      type: 'hello',
      version: WS_PROTOCOL_VERSION,
      sourceId: this.#feed.source.id,
      sourceKind: this.#feed.source.kind,
    });
    if (audio && viewer.audioSequence !== undefined) {
      this.#send(ws, {
        type: 'audio-config',
        codec: 'opus',
        sampleRate: audio.sampleRate,
        numberOfChannels: audio.channels,
      });
      this.#unsubscribeAudio ??= this.#feed.source.on('audio', ({ packet }) => this.#broadcastAudio(packet));
    }
    this.#unsubscribe ??= this.#feed.subscribe((frame) => this.#broadcast(frame));
  }

  #broadcastAudio(packet: AudioPacket): void {
    for (const [ws, viewer] of this.#viewers) {
      if (viewer.audioSequence === undefined || ws.readyState !== ws.OPEN) continue;
      // Audio is small: a viewer too slow for it is too slow for anything; skip (the gap shows in the sequence).
      if (ws.bufferedAmount > this.#maxBufferedBytes) {
        viewer.audioSequence++;
        continue;
      }
      const message = encodeWsAudio(
        { sequence: viewer.audioSequence++, timestampUs: packet.timestampUs, captureTimeMs: packet.captureTimeMs },
        packet.data,
      );
      ws.send(message);
      this.#audioPacketsSent++;
      this.#bytesSent += message.byteLength;
    }
  }

  #broadcast(frame: SourceFrame): void {
    if (isRawFrame(frame) || frame.codec !== 'h264') return;
    let config: WsConfigMessage | undefined;
    if (frame.key) {
      const sps = findSps(frame.data);
      if (sps) config = { type: 'config', codec: sps.codec, codedWidth: sps.width, codedHeight: sps.height };
    }
    // Parsed once for every viewer: the first slice header's type (a few bytes).
    const frameType = h264FrameType(frame.data);
    let message: Uint8Array | undefined;
    for (const [ws, viewer] of this.#viewers) {
      if (ws.readyState !== ws.OPEN) continue;
      const unacked = viewer.ackedSequence === undefined ? 0 : viewer.sentSequence - viewer.ackedSequence;
      if (unacked > this.#maxUnackedFrames || ws.bufferedAmount > this.#maxBufferedBytes) {
        viewer.needKey = true;
        viewer.sequence++; // the gap tells the viewer frames were skipped
        this.#framesDropped++;
        continue;
      }
      if (viewer.needKey) {
        if (!frame.key || !config) {
          if (viewer.sequence > 0) viewer.sequence++;
          continue;
        }
        viewer.needKey = false;
      }
      if (config) {
        const text = JSON.stringify(config);
        if (text !== viewer.config) {
          viewer.config = text;
          ws.send(text);
        }
      }
      // The header carries the viewer's own sequence number, so each viewer gets its own copy.
      message = encodeWsFrame(
        {
          flags: (frame.key ? WS_FRAME_FLAGS.key : 0) | (config ? WS_FRAME_FLAGS.config : 0),
          ...(frameType === undefined ? {} : { frameType }),
          sequence: viewer.sequence,
          timestampUs: frame.timestampUs,
          captureTimeMs: frame.captureTimeMs,
        },
        frame.data,
      );
      viewer.sentSequence = viewer.sequence++;
      ws.send(message);
      this.#framesSent++;
      this.#bytesSent += message.byteLength;
    }
  }

  #send(ws: WebSocket, message: WsServerMessage): void {
    ws.send(JSON.stringify(message));
  }
}
