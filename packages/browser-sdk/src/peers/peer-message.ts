/*
 * The messages room peers exchange on their data channel, as a discriminated union on `type`, parsed and validated
 * at the boundary (like the signaling protocol). The wire format is the data framing's envelope + body
 * (network/data-framing.ts), unchanged, so that peers of every version interoperate:
 *
 *   fw.frame        x: EncodedFrameMeta, body: the encoded chunk        (data publication → receivers)
 *   fw.frame-end    x: { pub }                                          (a data publication ended)
 *   fw.tmeta        x: { s: stream id, c: capture ms (server clock), f: fed ms }   (track capture times)
 *   fw.keyframe     x: { pub }                                          (a receiver asks for a key frame)
 *   fw.pull         x: { topic, credits }                               (a consumer's credits, 0 to stop)
 *   fw.push         id, x: { topic }, body: the item                    (work queue item)
 *   fw.ack          re, err?                                            (the item was consumed, or refused)
 *   <topic>         re, err?, body                                      (a reply)
 *   <topic>         id, body                                            (a request)
 *   <topic>         body                                                (a plain message)
 */
import { FramewireError, isErrorCode } from '@framewire/core';
import { decodeMessage, encodeMessage, jsonBody, toJsonBody, type Envelope } from '../network/data-framing.js';
import type { EncodedFrameMeta } from './remote-frame-source.js';

/** A user payload as it travels: JSON (`j`) or bytes (`b`). */
export interface PeerPayload {
  /** Body kind: `j` JSON text, `b` raw bytes. */
  kind: 'j' | 'b';
  /** The body. */
  body: Uint8Array;
}

/** A failed reply or acknowledgement on the wire: a framewire error code and a message. */
export interface WireError {
  /** The error code (`FW_ERR_…`). */
  code: string;
  /** What went wrong. */
  message: string;
}

/** An encoded frame of a `data` publication. */
export interface FrameMessage {
  type: 'frame';
  /** The frame's metadata. */
  meta: EncodedFrameMeta;
  /** The encoded chunk. */
  data: Uint8Array;
}
/** A `data` publication ended. */
export interface FrameEndMessage {
  type: 'frame-end';
  /** The publication id. */
  pub: number;
}
/** The capture time of the frame just fed to a published media track. */
export interface TrackMetaMessage {
  type: 'track-meta';
  /** The id of the media stream the track travels in. */
  streamId: string;
  /** Capture time on the signaling server's clock, in ms since the epoch. */
  captureServerMs: number;
  /** When the frame was fed to the track, in ms on the sender's clock (matched to RTP timestamps). */
  fedAtMs: number;
}
/** A receiver asks a `data` publication for a key frame. */
export interface KeyFrameRequestMessage {
  type: 'keyframe-request';
  /** The publication id. */
  pub: number;
}
/** A consumer announces how many items of `topic` it takes at once (0: it stopped consuming). */
export interface PullMessage {
  type: 'pull';
  /** The user topic. */
  topic: string;
  /** Items it takes at once, ≥ 0. */
  credits: number;
}
/** A work-queue item for one consumer. */
export interface PushMessage {
  type: 'push';
  /** The item id, echoed by the acknowledgement. */
  id: number;
  /** The user topic. */
  topic: string;
  /** The item. */
  payload: PeerPayload;
}
/** A consumer finished (or refused, with `err`) a work-queue item. */
export interface AckMessage {
  type: 'ack';
  /** The id of the item. */
  re: number;
  /** Why it failed. */
  err?: WireError;
}
/** A request on a user topic, answered by the receiver's handler. */
export interface RequestMessage {
  type: 'request';
  /** The request id, echoed by the reply. */
  id: number;
  /** The user topic. */
  topic: string;
  /** The request's data. */
  payload: PeerPayload;
}
/** The reply to a request. */
export interface ReplyMessage {
  type: 'reply';
  /** The id of the request. */
  re: number;
  /** The user topic. */
  topic: string;
  /** Why it failed. */
  err?: WireError;
  /** The handler's result (empty when it failed). */
  payload: PeerPayload;
}
/** A plain message on a user topic. */
export interface UserMessage {
  type: 'message';
  /** The user topic. */
  topic: string;
  /** The message's data. */
  payload: PeerPayload;
}

/** Every message of a room's peer data channel. */
export type PeerMessage =
  | FrameMessage
  | FrameEndMessage
  | TrackMetaMessage
  | KeyFrameRequestMessage
  | PullMessage
  | PushMessage
  | AckMessage
  | RequestMessage
  | ReplyMessage
  | UserMessage;

const EMPTY = new Uint8Array(0);

const bad = (why: string): FramewireError =>
  new FramewireError('FW_ERR_BAD_MESSAGE', `malformed peer message: ${why}`, { stage: 'data' });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function wireError(envelope: Envelope): WireError | undefined {
  const err: unknown = envelope.err;
  if (err === undefined) return undefined;
  if (!isObject(err) || typeof err['code'] !== 'string' || typeof err['message'] !== 'string') {
    throw bad(`${envelope.t}: err must be { code, message }`);
  }
  return { code: err['code'], message: err['message'] };
}

function extra(envelope: Envelope): Record<string, unknown> {
  const x: unknown = envelope.x;
  if (!isObject(x)) throw bad(`${envelope.t}: x must be an object`);
  return x;
}

function frameMeta(x: Record<string, unknown>): EncodedFrameMeta {
  const { pub, seq, codec, key, timestampUs, captureServerMs, width, height } = x;
  if (!isId(pub) || !isId(seq)) throw bad('fw.frame: pub and seq must be integers ≥ 0');
  if (typeof codec !== 'string' || codec.length === 0 || codec.length > 64) throw bad('fw.frame: codec is invalid');
  if (typeof key !== 'boolean') throw bad('fw.frame: key must be a boolean');
  if (!isNumber(timestampUs)) throw bad('fw.frame: timestampUs must be a number');
  if (!isId(width) || !isId(height)) throw bad('fw.frame: width and height must be integers ≥ 0');
  if (captureServerMs !== undefined && !isNumber(captureServerMs)) throw bad('fw.frame: captureServerMs is invalid');
  const meta: EncodedFrameMeta = { pub, seq, codec, key, timestampUs, width, height };
  if (captureServerMs !== undefined) meta.captureServerMs = captureServerMs;
  return meta;
}

/**
 * Parses one whole data-channel message (as the chunk assembler returns it) into a {@link PeerMessage}. Throws
 * `FW_ERR_BAD_MESSAGE` when the framing is malformed or a framewire topic lacks its fields or has them of the
 * wrong type. Topics it does not know (a newer peer's `fw.*`, every user topic) are requests, replies or plain
 * messages by their `id`/`re`, as they always were.
 */
export function parsePeerMessage(bytes: Uint8Array): PeerMessage {
  const { envelope, body } = decodeMessage(bytes);
  const { t: topic, k: kind } = envelope;
  if (envelope.id !== undefined && !isId(envelope.id)) throw bad(`${topic}: id must be an integer ≥ 0`);
  if (envelope.re !== undefined && !isId(envelope.re)) throw bad(`${topic}: re must be an integer ≥ 0`);
  const payload: PeerPayload = { kind, body };
  switch (topic) {
    case 'fw.frame':
      return { type: 'frame', meta: frameMeta(extra(envelope)), data: body };
    case 'fw.frame-end':
    case 'fw.keyframe': {
      const pub = extra(envelope)['pub'];
      if (!isId(pub)) throw bad(`${topic}: pub must be an integer ≥ 0`);
      return { type: topic === 'fw.keyframe' ? 'keyframe-request' : 'frame-end', pub };
    }
    case 'fw.tmeta': {
      const { s, c, f } = extra(envelope);
      if (typeof s !== 'string' || s.length > 256) throw bad('fw.tmeta: s must be a stream id');
      if (!isNumber(c) || !isNumber(f)) throw bad('fw.tmeta: c and f must be numbers');
      return { type: 'track-meta', streamId: s, captureServerMs: c, fedAtMs: f };
    }
    case 'fw.pull': {
      const { topic: pulled, credits } = extra(envelope);
      if (typeof pulled !== 'string') throw bad('fw.pull: topic must be a string');
      if (!isId(credits)) throw bad('fw.pull: credits must be an integer ≥ 0');
      return { type: 'pull', topic: pulled, credits };
    }
    case 'fw.push': {
      const pushed = extra(envelope)['topic'];
      if (typeof pushed !== 'string') throw bad('fw.push: topic must be a string');
      if (envelope.id === undefined) throw bad('fw.push: id is missing');
      return { type: 'push', id: envelope.id, topic: pushed, payload };
    }
    case 'fw.ack': {
      if (envelope.re === undefined) throw bad('fw.ack: re is missing');
      const err = wireError(envelope);
      return err ? { type: 'ack', re: envelope.re, err } : { type: 'ack', re: envelope.re };
    }
    default:
      break;
  }
  if (envelope.re !== undefined) {
    const err = wireError(envelope);
    const reply: ReplyMessage = { type: 'reply', re: envelope.re, topic, payload };
    if (err) reply.err = err;
    return reply;
  }
  if (envelope.id !== undefined) return { type: 'request', id: envelope.id, topic, payload };
  return { type: 'message', topic, payload };
}

/** Serializes a {@link PeerMessage} to the wire format {@link parsePeerMessage} reads (one whole message). */
export function encodePeerMessage(message: PeerMessage): Uint8Array {
  switch (message.type) {
    case 'frame':
      return encodeMessage(
        { t: 'fw.frame', k: 'b', x: message.meta as unknown as Record<string, unknown> },
        message.data,
      );
    case 'frame-end':
      return encodeMessage({ t: 'fw.frame-end', k: 'j', x: { pub: message.pub } }, EMPTY);
    case 'keyframe-request':
      return encodeMessage({ t: 'fw.keyframe', k: 'j', x: { pub: message.pub } }, EMPTY);
    case 'track-meta':
      return encodeMessage(
        { t: 'fw.tmeta', k: 'j', x: { s: message.streamId, c: message.captureServerMs, f: message.fedAtMs } },
        EMPTY,
      );
    case 'pull':
      return encodeMessage({ t: 'fw.pull', k: 'j', x: { topic: message.topic, credits: message.credits } }, EMPTY);
    case 'push':
      return encodeMessage(
        { t: 'fw.push', k: message.payload.kind, id: message.id, x: { topic: message.topic } },
        message.payload.body,
      );
    case 'ack': {
      const ack: Envelope = { t: 'fw.ack', k: 'j', re: message.re };
      if (message.err) ack.err = message.err;
      return encodeMessage(ack, EMPTY);
    }
    case 'reply': {
      const reply: Envelope = { t: message.topic, k: message.payload.kind, re: message.re };
      if (message.err) reply.err = message.err;
      return encodeMessage(reply, message.payload.body);
    }
    case 'request':
      return encodeMessage({ t: message.topic, k: message.payload.kind, id: message.id }, message.payload.body);
    case 'message':
      return encodeMessage({ t: message.topic, k: message.payload.kind }, message.payload.body);
  }
}

/** A user value as a payload: bytes (`Uint8Array`, `ArrayBuffer`, any view) travel as they are, the rest as JSON. */
export function toPayload(data: unknown): PeerPayload {
  if (data instanceof Uint8Array) return { kind: 'b', body: data };
  if (data instanceof ArrayBuffer) return { kind: 'b', body: new Uint8Array(data) };
  if (ArrayBuffer.isView(data))
    return { kind: 'b', body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  return { kind: 'j', body: toJsonBody(data) };
}

/** The user value of a payload: a copy of its bytes, or its JSON. Throws `FW_ERR_BAD_MESSAGE` for invalid JSON. */
export function fromPayload(payload: PeerPayload): unknown {
  if (payload.kind === 'b') return payload.body.slice();
  try {
    return jsonBody(payload.body);
  } catch (error) {
    throw new FramewireError('FW_ERR_BAD_MESSAGE', 'malformed peer message: the JSON body does not parse', {
      cause: error,
      stage: 'data',
    });
  }
}

/** A JSON payload with no body (`undefined`). */
export const EMPTY_PAYLOAD: PeerPayload = { kind: 'j', body: EMPTY };

/** The wire form of a handler's failure: its framewire code, or `FW_ERR_PROCESS_FAILED` for any other error. */
export function toWireError(error: unknown): WireError {
  if (error instanceof FramewireError) return { code: error.code, message: error.message };
  return { code: 'FW_ERR_PROCESS_FAILED', message: error instanceof Error ? error.message : String(error) };
}

/** The `FramewireError` of a failed reply (an unknown code becomes `FW_ERR_PROCESS_FAILED`), stage `reply`. */
export function fromWireError(err: WireError): FramewireError {
  return new FramewireError(isErrorCode(err.code) ? err.code : 'FW_ERR_PROCESS_FAILED', err.message, {
    stage: 'reply',
  });
}
