/*
 * NetGear's bidirectional replies (receiver -> sender): a JSON value, or an array (a uint8 image) sent as a JSON
 * header plus a second part with the raw bytes or a JPEG, as Python vidgear's receiver does for a numpy array.
 */
import { encode } from '@msgpack/msgpack';
import { FramewireError } from '@framewire/core';
import type { SourceFrame } from '../media/source-frame.js';
import { jpegSize } from '../media/h264.js';
import { netGearRawFrame, pythonTypeName, type NetGearLimits } from './netgear-wire.js';

/** A bidirectional reply as the sender sees it; an `ndarray` reply's `data` is a raw BGR24/GRAY8 or a JPEG frame. */
export interface NetGearReply {
  /** vidgear's `return_type`: the Python type name, e.g. `str`, `dict`, `ndarray`, `NoneType`. */
  returnType: string;
  /** The JSON value, or the array as a frame when `returnType` is `ndarray`. */
  data: unknown;
}

const violation = (message: string): FramewireError =>
  new FramewireError('FW_ERR_PROTOCOL_VIOLATION', `NetGear reply: ${message}`, { stage: 'netgear' });

const NO_LIMIT_TIME = 0;

/** True for bytes that start like a JPEG and have a frame header with a size. */
const isJpeg = (data: Buffer): boolean => data[0] === 0xff && data[1] === 0xd8 && jpegSize(data) !== undefined;

/** An array a `returnData` callback returned: raw uint8 bytes with their numpy shape, or a JPEG. */
type ReplyArray = { shape: number[]; data: Buffer } | { jpeg: Buffer };

/** The array in `value` (see {@link netGearReplyParts}), undefined for a JSON value; throws for a bad array-like. */
function replyArray(value: unknown): ReplyArray | undefined {
  const array = value as Record<string, unknown> | null | undefined;
  const bytes = array?.['data'];
  if (typeof array !== 'object' || array === null || !(bytes instanceof Uint8Array)) return undefined;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (array['codec'] === 'jpeg') {
    if (!isJpeg(data)) throw invalid('a JPEG array reply must hold a JPEG');
    return { jpeg: data };
  }
  let shape: unknown = array['shape'];
  if (shape === undefined) {
    const { width, height, format } = array;
    if (format !== 'BGR24' && format !== 'GRAY8') throw invalid('an array reply frame must be BGR24 or GRAY8');
    shape = format === 'BGR24' ? [height, width, 3] : [height, width];
  }
  const limits = { maxFrameBytes: Number.MAX_SAFE_INTEGER, maxDimension: 8192 };
  try {
    netGearRawFrame(array['dtype'] ?? 'uint8', shape, data, limits, NO_LIMIT_TIME);
  } catch (error) {
    throw invalid(`not a valid array reply (${(error as Error).message})`);
  }
  return { shape: shape as number[], data };
}

/**
 * Builds the reply parts for `value` (what `returnData` returned): one JSON part, or for an array given as a raw
 * frame `{ width, height, format: 'BGR24' | 'GRAY8', data }`, an ndarray-like `{ shape, dtype?: 'uint8', data }`
 * or a JPEG frame `{ codec: 'jpeg', data }`, the JSON header plus the bytes. Throws `FW_ERR_INVALID_OPTION` for an
 * array-like value that is not a valid uint8 image.
 */
export function netGearReplyParts(value: unknown): [string] | [string, Buffer] {
  const array = replyArray(value);
  if (!array) return [JSON.stringify({ return_type: pythonTypeName(value), data: value ?? null })];
  if ('jpeg' in array) {
    const compression = { dct: false, ups: false, colorspace: 'BGR' };
    const header = { return_type: 'ndarray', compression, array_dtype: '', array_shape: '', data: null };
    return [JSON.stringify(header), array.jpeg];
  }
  const header = {
    return_type: 'ndarray',
    compression: false,
    array_dtype: 'uint8',
    array_shape: array.shape,
    data: null,
  };
  return [JSON.stringify(header), array.data];
}

/** A msgpack bin8 header and the key's bytes (msgpack-numpy's keys are bytes, not strings). */
const binaryKey = (key: string): Buffer => Buffer.concat([Buffer.from([0xc4, key.length]), Buffer.from(key)]);

/**
 * NetGear_Async's reply parts for `value`: one msgpack map `{ return_type, return_data }`, or for an array (a raw
 * frame or ndarray-like as in {@link netGearReplyParts}; NetGear_Async has no JPEG) that map plus a msgpack-numpy
 * map with bytes keys (`nd`, `type` `|u1`, `kind`, `shape`, `data`), as msgpack-numpy encodes a numpy array.
 * Throws `FW_ERR_INVALID_OPTION` for an invalid array-like.
 */
export function netGearAsyncReplyParts(value: unknown): [Buffer] | [Buffer, Buffer] {
  const array = replyArray(value);
  if (!array) return [Buffer.from(encode({ return_type: pythonTypeName(value), return_data: value ?? null }))];
  if ('jpeg' in array) throw invalid('NetGear_Async replies carry raw arrays, not JPEGs');
  const numpy = Buffer.concat([
    Buffer.from([0x85]), // a map of 5 entries
    binaryKey('nd'),
    encode(true),
    binaryKey('type'),
    encode('|u1'),
    binaryKey('kind'),
    encode(new Uint8Array(0)),
    binaryKey('shape'),
    encode(array.shape),
    binaryKey('data'),
    encode(array.data),
  ]);
  return [Buffer.from(encode({ return_type: 'ndarray', return_data: null })), numpy];
}

function invalid(message: string): FramewireError {
  return new FramewireError('FW_ERR_INVALID_OPTION', `NetGear returnData: ${message}`, { stage: 'netgear' });
}

/**
 * Parses a bidirectional reply (one JSON part, or for `return_type` `ndarray` a JSON header and the raw bytes or a
 * JPEG). Peer-supplied dtype, shape and sizes are validated like frames. Throws `FW_ERR_PROTOCOL_VIOLATION` (or
 * `FW_ERR_FRAME_TOO_LARGE`).
 */
export function parseNetGearReply(
  parts: readonly Buffer[],
  limits: NetGearLimits,
  captureTimeMs = Date.now(),
): NetGearReply {
  const [headerPart, arrayPart] = parts;
  if (!headerPart || parts.length > 2) throw violation(`expected 1 or 2 parts; got ${parts.length}`);
  if (headerPart.length > 1 << 20) throw violation('header larger than 1 MiB');
  let header: unknown;
  try {
    header = JSON.parse(headerPart.toString('utf8'));
  } catch {
    throw violation('not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw violation('not a JSON object');
  const h = header as Record<string, unknown>;
  const returnType = h['return_type'];
  if (typeof returnType !== 'string') throw violation('return_type is missing');
  if (returnType !== 'ndarray') {
    if (arrayPart) throw violation(`a ${returnType} reply has a second part`);
    return { returnType, data: h['data'] ?? null };
  }
  if (!arrayPart) throw violation('an ndarray reply lacks its array part');
  const compression = h['compression'];
  if (compression === false || compression === undefined)
    return { returnType, data: netGearRawFrame(h['array_dtype'], h['array_shape'], arrayPart, limits, captureTimeMs) };
  if (typeof compression !== 'object' || compression === null)
    throw violation('compression must be false or an object');
  if (arrayPart.length > limits.maxFrameBytes)
    throw new FramewireError('FW_ERR_FRAME_TOO_LARGE', `NetGear reply: a ${arrayPart.length} byte JPEG is too large`, {
      stage: 'netgear',
    });
  if (!isJpeg(arrayPart)) throw violation('the compressed array is not a JPEG');
  const frame: SourceFrame = {
    codec: 'jpeg',
    key: true,
    data: arrayPart,
    timestampUs: captureTimeMs * 1000,
    captureTimeMs,
  };
  return { returnType, data: frame };
}
