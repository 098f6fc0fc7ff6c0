/** Helpers for bridge tests: a WebSocket viewer, and writing received H.264 to a file for ffprobe. */
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';
import {
  decodeWsAudio,
  decodeWsFrame,
  parseWsServerMessage,
  type WsAudioHeader,
  type WsFrameHeader,
  type WsServerMessage,
} from '@framewire/node-bridge/protocol';

/** What a {@link WsViewer} received. */
export interface ReceivedFrame {
  header: WsFrameHeader;
  payload: Buffer;
  receivedAtMs: number;
}

/** A WebSocket viewer of a bridge that records every message. */
export class WsViewer {
  readonly socket: WebSocket;
  readonly messages: WsServerMessage[] = [];
  readonly frames: ReceivedFrame[] = [];
  /** Opus packets received (a viewer that asked for audio, `?audio=1`): header and payload size. */
  readonly audio: { header: WsAudioHeader; bytes: number }[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number }>;

  /** With `ack`, the viewer acknowledges every frame on arrival (`{ type: 'ack', sequence }`), as BridgeSource does. */
  constructor(url: string, headers: Record<string, string> = {}, options: { ack?: boolean } = {}) {
    this.socket = new WebSocket(url, { headers });
    this.socket.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => resolve({ code })));
    this.socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const message = parseWsServerMessage(data.toString());
        if (message) this.messages.push(message);
        return;
      }
      const audio = decodeWsAudio(new Uint8Array(data));
      if (audio) {
        this.audio.push({ header: audio.header, bytes: audio.payload.byteLength });
        return;
      }
      const decoded = decodeWsFrame(new Uint8Array(data));
      if (!decoded) return;
      this.frames.push({ header: decoded.header, payload: Buffer.from(decoded.payload), receivedAtMs: Date.now() });
      if (options.ack) this.socket.send(JSON.stringify({ type: 'ack', sequence: decoded.header.sequence }));
    });
  }

  /** Resolves once `count` frames arrived (rejects after `timeoutMs`, which only bounds a hang). */
  async waitForFrames(count: number, timeoutMs = 60_000): Promise<ReceivedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.frames.length} of ${count} frames within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.frames.slice(0, count);
  }

  close(): void {
    this.socket.close();
  }
}

/** Writes the payloads (Annex B access units) to `path` as one raw .h264 stream. */
export async function writeH264(path: string, frames: { payload: Buffer }[]): Promise<string> {
  await writeFile(path, Buffer.concat(frames.map((f) => f.payload)));
  return path;
}

/** The encoders running for `source` in `metrics`, e.g. `['h264/libx264']`. */
export function runningEncodersOf(metrics: string, source: string): string[] {
  return metrics
    .split('\n')
    .map((line) => /^framewire_encoder_running\{source="([\w.-]+)",format="(\w+)",codec="(\w+)"\} 1$/.exec(line))
    .filter((match) => match?.[1] === source)
    .map((match) => `${match?.[2]}/${match?.[3]}`);
}
