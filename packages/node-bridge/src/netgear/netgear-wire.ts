/*
 * The NetGear / NetGear_Async wire formats of Python vidgear (see docs/guides/node-bridge.md): parsing with
 * strict validation (peer-supplied dtype and shape are never trusted) and building messages for Python peers.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { FramewireError } from '@framewire/core';
import type { SourceFrame } from '../media/source-frame.js';

/** NetGear messaging patterns: 0 PAIR, 1 REQ/REP, 2 PUB/SUB, 3 PUSH/PULL (NetGear_Async only). */
export type NetGearPattern = 0 | 1 | 2 | 3;

/** A parsed data or termination message. */
export type NetGearMessage =
  | { type: 'frame'; frame: SourceFrame; message: unknown; port: string | undefined; bidirectional: boolean }
  | { type: 'terminate'; port: string | undefined };

/** Limits applied to peer-supplied frames. */
export interface NetGearLimits {
  /** Largest frame, in bytes. */
  maxFrameBytes: number;
  /** Largest width or height, in pixels. */
  maxDimension: number;
}

const violation = (message: string, details?: Record<string, unknown>): FramewireError =>
  new FramewireError('FW_ERR_PROTOCOL_VIOLATION', `NetGear: ${message}`, {
    stage: 'netgear',
    ...(details ? { details } : {}),
  });

/**
 * Validates a peer-supplied uint8 array (`dtype`, `shape` as `[rows, cols]` or `[rows, cols, 3]`, its bytes) and
 * makes it a BGR24 or GRAY8 frame. Throws `FW_ERR_PROTOCOL_VIOLATION` or `FW_ERR_FRAME_TOO_LARGE`.
 */
export function netGearRawFrame(
  dtype: unknown,
  shape: unknown,
  data: Buffer,
  limits: NetGearLimits,
  captureTimeMs: number,
): SourceFrame {
  if (dtype !== 'uint8' && dtype !== '|u1') throw violation(`dtype must be uint8; got ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 3))
    throw violation(`shape must be [rows, cols] or [rows, cols, channels]; got ${JSON.stringify(shape)}`);
  const [height, width, channels = 1] = shape as unknown[];
  const ok = (n: unknown, max: number): n is number =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max;
  if (!ok(height, limits.maxDimension) || !ok(width, limits.maxDimension) || (channels !== 1 && channels !== 3))
    throw violation(`unsupported shape ${JSON.stringify(shape)} (1..${limits.maxDimension} pixels, 1 or 3 channels)`);
  const expected = height * width * (channels as number);
  if (expected > limits.maxFrameBytes)
    throw new FramewireError(
      'FW_ERR_FRAME_TOO_LARGE',
      `NetGear: a ${width}x${height} frame is over the ${limits.maxFrameBytes} byte limit`,
      { stage: 'netgear' },
    );
  if (data.length !== expected)
    throw violation(`shape ${JSON.stringify(shape)} needs ${expected} bytes; the frame has ${data.length}`);
  return { width, height, format: channels === 3 ? 'BGR24' : 'GRAY8', data, captureTimeMs };
}

/** Parses a NetGear (JSON header + frame) multipart message. Throws `FW_ERR_PROTOCOL_VIOLATION` or `FW_ERR_FRAME_TOO_LARGE`. */
export function parseNetGearMessage(
  parts: Buffer[],
  limits: NetGearLimits,
  captureTimeMs = Date.now(),
): NetGearMessage {
  const [headerPart, data] = parts;
  if (!headerPart || parts.length > 2) throw violation(`expected 1 or 2 message parts; got ${parts.length}`);
  if (headerPart.length > 64 * 1024) throw violation('header larger than 64 KiB');
  let header: unknown;
  try {
    header = JSON.parse(headerPart.toString('utf8'));
  } catch {
    throw violation('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw violation('header is not a JSON object');
  const h = header as Record<string, unknown>;
  const rawPort = h['port'];
  const port = typeof rawPort === 'string' || typeof rawPort === 'number' ? String(rawPort) : undefined;
  if (h['terminate_flag'] === true) return { type: 'terminate', port };
  if (h['terminate_flag'] !== false) throw violation('header lacks terminate_flag');
  if (!data) throw violation('data message without a frame part');
  if (data.length > limits.maxFrameBytes)
    throw new FramewireError(
      'FW_ERR_FRAME_TOO_LARGE',
      `NetGear: a ${data.length} byte frame is over the ${limits.maxFrameBytes} byte limit`,
      { stage: 'netgear' },
    );
  const compression = h['compression'];
  let frame: SourceFrame;
  if (compression !== false && compression !== undefined) {
    if (typeof compression !== 'object' || compression === null)
      throw violation('compression must be false or an object');
    if (data[0] !== 0xff || data[1] !== 0xd8) throw violation('compressed frame is not a JPEG');
    frame = { codec: 'jpeg', key: true, data, timestampUs: captureTimeMs * 1000, captureTimeMs };
  } else frame = netGearRawFrame(h['dtype'], h['shape'], data, limits, captureTimeMs);
  return { type: 'frame', frame, message: h['message'] ?? null, port, bidirectional: false };
}

const keyConverter = (key: unknown): string | number =>
  key instanceof Uint8Array ? new TextDecoder().decode(key) : (key as string | number);

function unpack(part: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    // No extension types are registered: nothing in a peer's message can turn into code (unlike pickle).
    value = decode(part, {
      mapKeyConverter: keyConverter,
      maxStrLength: 1 << 20,
      maxMapLength: 64,
      maxArrayLength: 1 << 16,
    });
  } catch (error) {
    throw violation(`${what} is not valid msgpack (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    throw violation(`${what} is not a msgpack map`);
  return value as Record<string, unknown>;
}

/** Parses a NetGear_Async (msgpack + msgpack-numpy) multipart message. Throws like {@link parseNetGearMessage}. */
export function parseNetGearAsyncMessage(
  parts: Buffer[],
  limits: NetGearLimits,
  captureTimeMs = Date.now(),
): NetGearMessage {
  const [headerPart, framePart] = parts;
  if (!headerPart || parts.length > 2) throw violation(`expected 1 or 2 message parts; got ${parts.length}`);
  if (headerPart.length > 1 << 20) throw violation('header larger than 1 MiB');
  const header = unpack(headerPart, 'header');
  if (header['terminate'] === true) return { type: 'terminate', port: undefined };
  if (header['terminate'] !== false) throw violation('header lacks terminate');
  if (!framePart) throw violation('data message without a frame part');
  if (framePart.length > limits.maxFrameBytes + 1024)
    throw new FramewireError(
      'FW_ERR_FRAME_TOO_LARGE',
      `NetGear_Async: a ${framePart.length} byte frame is over the limit`,
      { stage: 'netgear' },
    );
  const array = unpack(framePart, 'frame');
  if (array['nd'] !== true) throw violation('frame is not a msgpack-numpy array (nd is not true)');
  const data = array['data'];
  if (!(data instanceof Uint8Array)) throw violation('frame data is not binary');
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const frame = netGearRawFrame(array['type'], array['shape'], bytes, limits, captureTimeMs);
  return {
    type: 'frame',
    frame,
    message: header['data'] ?? null,
    port: undefined,
    bidirectional: header['bi_mode'] === true,
  };
}

/** The Python type name vidgear puts in `return_type` for a JSON value. */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** The JSON header of a NetGear data message for `frame` (raw BGR/grey or JPEG). */
export function netGearHeader(
  frame: SourceFrame,
  pattern: NetGearPattern,
  message: unknown = null,
  port?: number | string,
): string {
  const raw = 'format' in frame;
  const header: Record<string, unknown> = {
    terminate_flag: false,
    compression: raw ? false : { dct: false, ups: false, colorspace: 'BGR' },
    message,
    pattern: String(pattern),
    dtype: raw ? 'uint8' : '',
    shape: raw ? (frame.format === 'GRAY8' ? [frame.height, frame.width] : [frame.height, frame.width, 3]) : '',
  };
  if (port !== undefined) header['port'] = String(port);
  return JSON.stringify(header);
}

/** msgpack of a NetGear_Async reply or header value (used for replies to Python NetGear_Async senders). */
export function packMsgpack(value: unknown): Buffer {
  return Buffer.from(encode(value));
}

/** A CURVE key pair in Z85 text. */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/** Reads a ZeroMQ certificate file (`*.key` or `*.key_secret`, as pyzmq's `zmq.auth.create_certificates` writes). */
export async function readCurveCertificate(path: string): Promise<{ publicKey: string; secretKey?: string }> {
  const text = await readFile(path, 'utf8');
  const publicKey = /public-key\s*=\s*"([^"]{40})"/.exec(text)?.[1];
  const secretKey = /secret-key\s*=\s*"([^"]{40})"/.exec(text)?.[1];
  if (!publicKey)
    throw new FramewireError('FW_ERR_INVALID_OPTION', `${path} is not a ZeroMQ CURVE certificate`, {
      fatal: true,
      stage: 'options',
    });
  return secretKey ? { publicKey, secretKey } : { publicKey };
}

/** The public keys of every `*.key` certificate in `dir` (IronHouse's authorised clients). */
export async function readCurvePublicKeys(dir: string): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.key'));
  return Promise.all(files.map(async (f) => (await readCurveCertificate(join(dir, f))).publicKey));
}

/** Writes a certificate pair `<name>.key` (public) and `<name>.key_secret` in pyzmq's format. */
export function curveCertificateText(pair: CurveKeyPair, secret: boolean): string {
  return [
    `#   ZeroMQ CURVE ${secret ? '**Secret** ' : ''}Certificate (framewire)`,
    '',
    'metadata',
    'curve',
    `    public-key = "${pair.publicKey}"`,
    ...(secret ? [`    secret-key = "${pair.secretKey}"`] : []),
    '',
  ].join('\n');
}
