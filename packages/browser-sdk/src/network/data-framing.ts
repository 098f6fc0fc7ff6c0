/*
 * How data messages travel on a peer data channel. A message is an envelope header (JSON) plus a body (JSON text
 * or raw bytes); it is cut into chunks that each fit a data-channel message, because browsers and Node's wrtc do
 * not agree on the largest message one can send (16 KiB is safe everywhere).
 *
 *   chunk    = u32 messageId · u32 totalBytes · u32 offset · bytes
 *   message  = u32 headerBytes · header JSON (UTF-8) · body
 */
import { FramewireError } from '@framewire/core';

/** Bytes of data per chunk. */
export const CHUNK_BYTES = 16 * 1024;
const CHUNK_HEADER = 12;

/** The header of a data message. */
export interface Envelope {
  /** Topic; names starting with `fw.` belong to framewire. */
  t: string;
  /** Body kind: `j` JSON, `b` bytes. */
  k: 'j' | 'b';
  /** Request id (request/reply, push/pull). */
  id?: number;
  /** The request this message answers. */
  re?: number;
  /** A failed reply: the error code and message. */
  err?: { code: string; message: string };
  /** Extra fields of framewire's own topics (frame metadata, the user topic of a push). */
  x?: Record<string, unknown>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serializes an envelope and its body into one message. */
export function encodeMessage(envelope: Envelope, body: Uint8Array): Uint8Array {
  const header = encoder.encode(JSON.stringify(envelope));
  const out = new Uint8Array(4 + header.length + body.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(body, 4 + header.length);
  return out;
}

/** Splits one message into chunks tagged with `messageId`. */
export function chunkMessage(messageId: number, message: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < message.length || offset === 0; offset += CHUNK_BYTES) {
    const part = message.subarray(offset, offset + CHUNK_BYTES);
    const chunk = new Uint8Array(CHUNK_HEADER + part.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, messageId);
    view.setUint32(4, message.length);
    view.setUint32(8, offset);
    chunk.set(part, CHUNK_HEADER);
    chunks.push(chunk);
    if (message.length === 0) break;
  }
  return chunks;
}

/** Parses a whole message; throws `FW_ERR_BAD_MESSAGE` when it is malformed. */
export function decodeMessage(message: Uint8Array): { envelope: Envelope; body: Uint8Array } {
  const bad = (why: string): FramewireError =>
    new FramewireError('FW_ERR_BAD_MESSAGE', `malformed data message: ${why}`, { stage: 'data' });
  if (message.length < 4) throw bad('too short');
  const headerBytes = new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0);
  if (4 + headerBytes > message.length) throw bad('header overruns the message');
  let envelope: unknown;
  try {
    envelope = JSON.parse(decoder.decode(message.subarray(4, 4 + headerBytes)));
  } catch {
    throw bad('header is not JSON');
  }
  const e = envelope as Partial<Envelope> | null;
  if (typeof e !== 'object' || e === null || typeof e.t !== 'string' || (e.k !== 'j' && e.k !== 'b')) {
    throw bad('header lacks t or k');
  }
  return { envelope: e as Envelope, body: message.subarray(4 + headerBytes) };
}

/** Reads a JSON body. */
export function jsonBody(body: Uint8Array): unknown {
  return body.length === 0 ? undefined : JSON.parse(decoder.decode(body));
}

/** Writes a JSON body (`undefined` becomes an empty body). */
export function toJsonBody(value: unknown): Uint8Array {
  return value === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(value));
}

/**
 * Puts chunks back together. Refuses messages announcing more than `maxMessageBytes` and chunks that do not fit
 * the message they claim to belong to (`FW_ERR_MESSAGE_TOO_LARGE`, `FW_ERR_BAD_MESSAGE`).
 */
export class ChunkAssembler {
  readonly #maxMessageBytes: number;
  readonly #pending = new Map<number, { bytes: Uint8Array; received: number }>();

  /** @param maxMessageBytes the largest message accepted, in bytes. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Adds a chunk; returns the complete message when this chunk finishes one. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (chunk.length < CHUNK_HEADER) {
      throw new FramewireError('FW_ERR_BAD_MESSAGE', 'a data chunk is shorter than its header', { stage: 'data' });
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const id = view.getUint32(0);
    const total = view.getUint32(4);
    const offset = view.getUint32(8);
    const data = chunk.subarray(CHUNK_HEADER);
    if (total > this.#maxMessageBytes) {
      this.#pending.delete(id);
      throw new FramewireError('FW_ERR_MESSAGE_TOO_LARGE', `a data message of ${total} bytes exceeds the limit`, {
        stage: 'data',
        details: { total, limit: this.#maxMessageBytes },
      });
    }
    if (offset + data.length > total) {
      this.#pending.delete(id);
      throw new FramewireError('FW_ERR_BAD_MESSAGE', 'a data chunk overruns its message', { stage: 'data' });
    }
    if (offset === 0 && data.length === total) return data;
    let entry = this.#pending.get(id);
    if (!entry) {
      entry = { bytes: new Uint8Array(total), received: 0 };
      this.#pending.set(id, entry);
    }
    entry.bytes.set(data, offset);
    entry.received += data.length;
    if (entry.received < total) return undefined;
    this.#pending.delete(id);
    return entry.bytes;
  }
}
