/*
 * The pipe protocol between the bridge and its WebRTC worker process (stdin: bridge → worker, stdout: worker →
 * bridge). Every message is `length u32 · kind u8 · body`, big-endian, where `length` counts `kind` and `body`.
 * Kind 0 is a UTF-8 JSON control message; kind 1 is one raw I420 frame: `idLength u8 · id · width u16 ·
 * height u16 · captureTimeMs f64 · pixels`; kind 2 is one H.264 access unit (bridge → worker, for data-channel
 * viewers): `idLength u8 · id · key u8 · timestampUs f64 · captureTimeMs f64 · Annex B bytes`; kind 3 is 10 ms of
 * a source's audio as PCM (bridge → room peer worker): `idLength u8 · id · captureTimeMs f64 · s16le mono 48 kHz
 * samples`. Frames travel as bytes, never as JSON.
 */

/** Message kinds on the worker pipes. */
export const IPC_KIND = { json: 0, frame: 1, accessUnit: 2, pcm: 3 } as const;

/** Largest message accepted on a worker pipe (a 4K I420 frame with room to spare), in bytes. */
export const IPC_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** One I420 frame on a worker pipe. */
export interface IpcFrame {
  /** Source id (bridge → worker) or publishing session id (worker → bridge). */
  id: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
  /** Y, U and V planes, tightly packed. */
  data: Uint8Array;
}

/** One H.264 access unit on the worker pipe (the source's shared `h264` feed, for data-channel viewers). */
export interface IpcAccessUnit {
  /** Source id. */
  id: string;
  /** True for a keyframe (IDR). */
  key: boolean;
  /** Presentation time from the source, in µs. */
  timestampUs: number;
  /** Capture wall-clock time, in ms since the Unix epoch. */
  captureTimeMs: number;
  /** The Annex B access unit. */
  data: Uint8Array;
}

/** A chunk of a source's audio on a worker pipe: 16-bit mono PCM at 48 kHz. */
export interface IpcPcm {
  /** Source id. */
  id: string;
  /** Capture wall-clock time of its first sample, in ms since the Unix epoch. */
  captureTimeMs: number;
  /** The samples (a view of the pipe's buffer, valid until the callback returns). */
  data: Uint8Array;
}

/**
 * How a viewer session receives video: `track` (a VP8 track encoded by wrtc for this viewer) or `datachannel`
 * (the source's shared H.264 access units on an `fw.h264` data channel, encoded once for every viewer).
 */
export type IpcDelivery = 'track' | 'datachannel';

/** Control messages from the bridge to the worker. */
export type IpcToWorker =
  | {
      type: 'offer';
      requestId: number;
      sessionId: string;
      /** `view`: the worker sends the source; `publish`: it receives the client's video. */
      mode: 'view' | 'publish';
      /** How a viewer receives video. */
      delivery: IpcDelivery;
      sourceId: string;
      sdp: string;
      iceAddresses: string[];
      iceServers: { urls: string | string[]; username?: string; credential?: string }[];
    }
  | { type: 'candidates'; sessionId: string; candidates: { candidate: string; sdpMid: string }[] }
  | { type: 'close'; sessionId: string };

/** Control messages from the worker to the bridge. */
export type IpcFromWorker =
  | { type: 'ready' }
  | { type: 'answer'; requestId: number; sessionId: string; sdp: string }
  | { type: 'refused'; requestId: number; message: string }
  | { type: 'state'; sessionId: string; state: string };

/** Encodes a JSON control message. */
export function encodeIpcJson(message: IpcToWorker | IpcFromWorker): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out.writeUInt8(IPC_KIND.json, 4);
  body.copy(out, 5);
  return out;
}

/**
 * The start of a binary message of `kind`: `length · kind · idLength · id`, then room for `fieldBytes` of fixed
 * fields (written by the caller from the returned offset `at`); the `payloadBytes` that follow are written apart.
 */
function binaryHeader(
  kind: number,
  sourceId: string,
  fieldBytes: number,
  payloadBytes: number,
): { header: Buffer; at: number } {
  const id = Buffer.from(sourceId, 'utf8').subarray(0, 255);
  const header = Buffer.allocUnsafe(5 + 1 + id.length + fieldBytes);
  header.writeUInt32BE(1 + 1 + id.length + fieldBytes + payloadBytes, 0);
  header.writeUInt8(kind, 4);
  header.writeUInt8(id.length, 5);
  id.copy(header, 6);
  return { header, at: 6 + id.length };
}

/** Encodes the header of an I420 frame message; write it, then `frame.data`. */
export function encodeIpcFrameHeader(frame: Omit<IpcFrame, 'data'> & { data: { length: number } }): Buffer {
  const { header, at } = binaryHeader(IPC_KIND.frame, frame.id, 12, frame.data.length);
  header.writeUInt16BE(frame.width, at);
  header.writeUInt16BE(frame.height, at + 2);
  header.writeDoubleBE(frame.captureTimeMs, at + 4);
  return header;
}

/** Encodes the header of an access unit message; write it, then `unit.data`. */
export function encodeIpcAccessUnitHeader(unit: Omit<IpcAccessUnit, 'data'> & { data: { length: number } }): Buffer {
  const { header, at } = binaryHeader(IPC_KIND.accessUnit, unit.id, 17, unit.data.length);
  header.writeUInt8(unit.key ? 1 : 0, at);
  header.writeDoubleBE(unit.timestampUs, at + 1);
  header.writeDoubleBE(unit.captureTimeMs, at + 9);
  return header;
}

/** Encodes the header of a PCM message; write it, then the samples' bytes (`data`). */
export function encodeIpcPcmHeader(pcm: Omit<IpcPcm, 'data'> & { data: { byteLength: number } }): Buffer {
  const { header, at } = binaryHeader(IPC_KIND.pcm, pcm.id, 8, pcm.data.byteLength);
  header.writeDoubleBE(pcm.captureTimeMs, at);
  return header;
}

/**
 * Splits a worker pipe's byte stream into messages. `push()` each chunk; `onJson` and `onFrame` receive complete
 * messages (frames as views of one buffer, valid until the callback returns). A message over
 * {@link IPC_MAX_MESSAGE_BYTES} or of an unknown kind throws: the pipe is out of step and must be reset.
 */
export class IpcMessageReader {
  readonly #onJson: (message: unknown) => void;
  readonly #onFrame: (frame: IpcFrame) => void;
  readonly #onAccessUnit: (unit: IpcAccessUnit) => void;
  readonly #onPcm: (pcm: IpcPcm) => void;
  #chunks: Buffer[] = [];
  #buffered = 0;

  /**
   * Calls `onJson` for every control message, `onFrame` for every frame, `onAccessUnit` for every access unit and
   * `onPcm` for every PCM chunk.
   */
  constructor(
    onJson: (message: unknown) => void,
    onFrame: (frame: IpcFrame) => void,
    onAccessUnit: (unit: IpcAccessUnit) => void = () => undefined,
    onPcm: (pcm: IpcPcm) => void = () => undefined,
  ) {
    this.#onJson = onJson;
    this.#onFrame = onFrame;
    this.#onAccessUnit = onAccessUnit;
    this.#onPcm = onPcm;
  }

  /** Forgets a partial message (after the other end restarted). */
  reset(): void {
    this.#chunks = [];
    this.#buffered = 0;
  }

  /** Adds bytes from the pipe and handles every complete message. */
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#buffered < 4) return;
      const head = this.#peek(4);
      const length = head.readUInt32BE(0);
      if (length < 1 || length > IPC_MAX_MESSAGE_BYTES) throw new Error(`bad message length ${length}`);
      if (this.#buffered < 4 + length) return;
      const message = this.#take(4 + length).subarray(4);
      this.#handle(message);
    }
  }

  #handle(message: Buffer): void {
    const kind = message.readUInt8(0);
    if (kind === IPC_KIND.json) {
      this.#onJson(JSON.parse(message.subarray(1).toString('utf8')));
      return;
    }
    if (kind !== IPC_KIND.frame && kind !== IPC_KIND.accessUnit && kind !== IPC_KIND.pcm)
      throw new Error(`unknown message kind ${kind}`);
    const idLength = message.readUInt8(1);
    const id = message.subarray(2, 2 + idLength).toString('utf8');
    const at = 2 + idLength;
    if (kind === IPC_KIND.pcm) {
      this.#onPcm({ id, captureTimeMs: message.readDoubleBE(at), data: message.subarray(at + 8) });
      return;
    }
    if (kind === IPC_KIND.accessUnit) {
      this.#onAccessUnit({
        id,
        key: message.readUInt8(at) === 1,
        timestampUs: message.readDoubleBE(at + 1),
        captureTimeMs: message.readDoubleBE(at + 9),
        data: message.subarray(at + 17),
      });
      return;
    }
    this.#onFrame({
      id,
      width: message.readUInt16BE(at),
      height: message.readUInt16BE(at + 2),
      captureTimeMs: message.readDoubleBE(at + 4),
      data: message.subarray(at + 12),
    });
  }

  #peek(bytes: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= bytes) return first;
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  #take(bytes: number): Buffer {
    const joined = this.#peek(bytes);
    const taken = joined.subarray(0, bytes);
    const rest = joined.subarray(bytes);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered -= bytes;
    return taken;
  }
}
