// The room's peer messages (packages/browser-sdk/src/peers/peer-message.ts): every message round-trips through the
// wire format, the wire is byte for byte what peers have always sent (older peers interoperate), and hostile input
// is refused with FW_ERR_BAD_MESSAGE.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeMessage, toJsonBody, type Envelope } from '../../packages/browser-sdk/src/network/data-framing.js';
import {
  EMPTY_PAYLOAD,
  encodePeerMessage,
  fromPayload,
  fromWireError,
  parsePeerMessage,
  toPayload,
  toWireError,
  type PeerMessage,
} from '../../packages/browser-sdk/src/peers/peer-message.js';
import { FramewireError } from '../../packages/core/src/index.js';

const empty = new Uint8Array(0);
const json = (value: unknown): { kind: 'j'; body: Uint8Array } => ({ kind: 'j', body: toJsonBody(value) });
const meta = { pub: 3, seq: 0, codec: 'vp8', key: true, timestampUs: 33_333, width: 640, height: 360 };

describe('parsePeerMessage: the wire as peers have always written it', () => {
  // Each envelope below is what room.ts wrote before the messages were typed: the parser must read it, and the
  // encoder must write the same bytes.
  const wire: { name: string; envelope: Envelope; body: Uint8Array; parsed: PeerMessage }[] = [
    {
      name: 'fw.frame with a capture time',
      envelope: { t: 'fw.frame', k: 'b', x: { ...meta, captureServerMs: 1_700_000_000_000.5 } },
      body: Uint8Array.from([1, 2, 3]),
      parsed: {
        type: 'frame',
        meta: { ...meta, captureServerMs: 1_700_000_000_000.5 },
        data: Uint8Array.from([1, 2, 3]),
      },
    },
    {
      name: 'fw.frame without a capture time',
      envelope: { t: 'fw.frame', k: 'b', x: { ...meta, key: false, seq: 9 } },
      body: Uint8Array.from([7]),
      parsed: { type: 'frame', meta: { ...meta, key: false, seq: 9 }, data: Uint8Array.from([7]) },
    },
    {
      name: 'fw.frame-end',
      envelope: { t: 'fw.frame-end', k: 'j', x: { pub: 3 } },
      body: empty,
      parsed: { type: 'frame-end', pub: 3 },
    },
    {
      name: 'fw.keyframe',
      envelope: { t: 'fw.keyframe', k: 'j', x: { pub: 4 } },
      body: empty,
      parsed: { type: 'keyframe-request', pub: 4 },
    },
    {
      name: 'fw.tmeta',
      envelope: { t: 'fw.tmeta', k: 'j', x: { s: 'stream-1', c: 1_700_000_000_123.25, f: 5_000.5 } },
      body: empty,
      parsed: { type: 'track-meta', streamId: 'stream-1', captureServerMs: 1_700_000_000_123.25, fedAtMs: 5_000.5 },
    },
    {
      name: 'fw.pull with credits',
      envelope: { t: 'fw.pull', k: 'j', x: { topic: 'jobs', credits: 2 } },
      body: empty,
      parsed: { type: 'pull', topic: 'jobs', credits: 2 },
    },
    {
      name: 'fw.pull stopping',
      envelope: { t: 'fw.pull', k: 'j', x: { topic: 'jobs', credits: 0 } },
      body: empty,
      parsed: { type: 'pull', topic: 'jobs', credits: 0 },
    },
    {
      name: 'fw.push of bytes',
      envelope: { t: 'fw.push', k: 'b', id: 12, x: { topic: 'jobs' } },
      body: Uint8Array.from([9, 8]),
      parsed: { type: 'push', id: 12, topic: 'jobs', payload: { kind: 'b', body: Uint8Array.from([9, 8]) } },
    },
    {
      name: 'fw.ack',
      envelope: { t: 'fw.ack', k: 'j', re: 12 },
      body: empty,
      parsed: { type: 'ack', re: 12 },
    },
    {
      name: 'fw.ack refusing (re 0: an old peer acknowledging a push without id)',
      envelope: { t: 'fw.ack', k: 'j', re: 0, err: { code: 'FW_ERR_PEER_NOT_FOUND', message: 'not consuming jobs' } },
      body: empty,
      parsed: { type: 'ack', re: 0, err: { code: 'FW_ERR_PEER_NOT_FOUND', message: 'not consuming jobs' } },
    },
    {
      name: 'a request',
      envelope: { t: 'sum', k: 'j', id: 5 },
      body: toJsonBody([1, 2]),
      parsed: { type: 'request', id: 5, topic: 'sum', payload: json([1, 2]) },
    },
    {
      name: 'a reply',
      envelope: { t: 'sum', k: 'j', re: 5 },
      body: toJsonBody(3),
      parsed: { type: 'reply', re: 5, topic: 'sum', payload: json(3) },
    },
    {
      name: 'a failed reply',
      envelope: { t: 'sum', k: 'j', re: 5, err: { code: 'FW_ERR_TIMEOUT', message: 'late' } },
      body: empty,
      parsed: {
        type: 'reply',
        re: 5,
        topic: 'sum',
        err: { code: 'FW_ERR_TIMEOUT', message: 'late' },
        payload: EMPTY_PAYLOAD,
      },
    },
    {
      name: 'a plain message',
      envelope: { t: 'chat', k: 'j' },
      body: toJsonBody({ text: 'hé' }),
      parsed: { type: 'message', topic: 'chat', payload: json({ text: 'hé' }) },
    },
    {
      name: "a newer peer's unknown fw.* topic: a plain message, as before",
      envelope: { t: 'fw.future', k: 'j' },
      body: empty,
      parsed: { type: 'message', topic: 'fw.future', payload: EMPTY_PAYLOAD },
    },
  ];
  for (const { name, envelope, body, parsed } of wire) {
    it(`reads ${name}, and writes the same bytes`, () => {
      const bytes = encodeMessage(envelope, body);
      const message = parsePeerMessage(bytes);
      assert.deepEqual(message, parsed);
      assert.deepEqual([...encodePeerMessage(message)], [...bytes]);
    });
  }
});

describe('parsePeerMessage refuses hostile input with FW_ERR_BAD_MESSAGE', () => {
  const header = (envelope: unknown, body = empty): Uint8Array => {
    const text = new TextEncoder().encode(JSON.stringify(envelope));
    const out = new Uint8Array(4 + text.length + body.length);
    new DataView(out.buffer).setUint32(0, text.length);
    out.set(text, 4);
    out.set(body, 4 + text.length);
    return out;
  };
  const hostile: { name: string; bytes: Uint8Array; why: RegExp }[] = [
    { name: 'broken framing', bytes: Uint8Array.from([0, 0, 0, 9, 1]), why: /overruns/ },
    { name: 'fw.frame without x', bytes: header({ t: 'fw.frame', k: 'b' }), why: /fw\.frame: x must be an object/ },
    { name: 'fw.frame with x an array', bytes: header({ t: 'fw.frame', k: 'b', x: [1] }), why: /x must be an object/ },
    {
      name: 'fw.frame with pub a string',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, pub: '3' } }),
      why: /pub and seq/,
    },
    {
      name: 'fw.frame with a negative seq',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, seq: -1 } }),
      why: /pub and seq/,
    },
    {
      name: 'fw.frame without codec',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, codec: undefined } }),
      why: /codec/,
    },
    {
      name: 'fw.frame with a huge codec',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, codec: 'v'.repeat(65) } }),
      why: /codec/,
    },
    {
      name: 'fw.frame with key a number',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, key: 1 } }),
      why: /key must be a boolean/,
    },
    {
      name: 'fw.frame with timestampUs a string',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, timestampUs: 'x' } }),
      why: /timestampUs/,
    },
    {
      name: 'fw.frame with a fractional width',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, width: 1.5 } }),
      why: /width and height/,
    },
    {
      name: 'fw.frame with captureServerMs null',
      bytes: header({ t: 'fw.frame', k: 'b', x: { ...meta, captureServerMs: null } }),
      why: /captureServerMs/,
    },
    {
      name: 'fw.frame-end with pub a string',
      bytes: header({ t: 'fw.frame-end', k: 'j', x: { pub: 'all' } }),
      why: /fw\.frame-end: pub/,
    },
    { name: 'fw.keyframe without pub', bytes: header({ t: 'fw.keyframe', k: 'j', x: {} }), why: /fw\.keyframe: pub/ },
    {
      name: 'fw.tmeta with s a number',
      bytes: header({ t: 'fw.tmeta', k: 'j', x: { s: 1, c: 1, f: 1 } }),
      why: /stream id/,
    },
    {
      name: 'fw.tmeta with c a string',
      bytes: header({ t: 'fw.tmeta', k: 'j', x: { s: 'a', c: '1', f: 1 } }),
      why: /c and f/,
    },
    {
      name: 'fw.pull without topic',
      bytes: header({ t: 'fw.pull', k: 'j', x: { credits: 1 } }),
      why: /topic must be a string/,
    },
    {
      name: 'fw.pull with negative credits',
      bytes: header({ t: 'fw.pull', k: 'j', x: { topic: 'a', credits: -1 } }),
      why: /credits/,
    },
    {
      name: 'fw.pull with credits null (Infinity written as JSON)',
      bytes: header({ t: 'fw.pull', k: 'j', x: { topic: 'a', credits: 1e308 * 10 } }),
      why: /credits/,
    },
    { name: 'fw.push without topic', bytes: header({ t: 'fw.push', k: 'j', id: 1, x: {} }), why: /fw\.push: topic/ },
    { name: 'fw.push without id', bytes: header({ t: 'fw.push', k: 'j', x: { topic: 'a' } }), why: /id is missing/ },
    { name: 'fw.ack without re', bytes: header({ t: 'fw.ack', k: 'j' }), why: /re is missing/ },
    { name: 'fw.ack with err a string', bytes: header({ t: 'fw.ack', k: 'j', re: 1, err: 'no' }), why: /err must be/ },
    {
      name: 'a reply with err lacking message',
      bytes: header({ t: 'sum', k: 'j', re: 1, err: { code: 'X' } }),
      why: /err must be/,
    },
    {
      name: 'a request with a fractional id',
      bytes: header({ t: 'sum', k: 'j', id: 1.5 }),
      why: /id must be an integer/,
    },
    { name: 'a reply with re a string', bytes: header({ t: 'sum', k: 'j', re: '1' }), why: /re must be an integer/ },
  ];
  for (const { name, bytes, why } of hostile) {
    it(name, () => {
      assert.throws(() => parsePeerMessage(bytes), {
        name: 'FramewireError',
        code: 'FW_ERR_BAD_MESSAGE',
        message: why,
      });
    });
  }
});

describe('payloads and wire errors', () => {
  it('bytes travel as bytes (any view, copied out), everything else as JSON', () => {
    const view = new DataView(Uint8Array.from([0, 1, 2, 3]).buffer, 1, 2);
    assert.deepEqual(toPayload(view), { kind: 'b', body: Uint8Array.from([1, 2]) });
    assert.deepEqual(toPayload(Uint8Array.from([5]).buffer), { kind: 'b', body: Uint8Array.from([5]) });
    const body = Uint8Array.from([4, 5]);
    const copy = fromPayload({ kind: 'b', body });
    assert.deepEqual(copy, body);
    assert.notEqual(copy, body);
    for (const value of [undefined, 0, 'text', [1, { a: null }]])
      assert.deepEqual(fromPayload(toPayload(value)), value);
  });

  it('a JSON body that does not parse is FW_ERR_BAD_MESSAGE', () => {
    assert.throws(() => fromPayload({ kind: 'j', body: new TextEncoder().encode('{"a":') }), {
      name: 'FramewireError',
      code: 'FW_ERR_BAD_MESSAGE',
    });
  });

  it('a handler failure keeps its framewire code; any other becomes FW_ERR_PROCESS_FAILED, and back', () => {
    assert.deepEqual(toWireError(new FramewireError('FW_ERR_TIMEOUT', 'late')), {
      code: 'FW_ERR_TIMEOUT',
      message: 'late',
    });
    assert.deepEqual(toWireError(new Error('boom')), { code: 'FW_ERR_PROCESS_FAILED', message: 'boom' });
    assert.deepEqual(toWireError('text'), { code: 'FW_ERR_PROCESS_FAILED', message: 'text' });
    const known = fromWireError({ code: 'FW_ERR_FORBIDDEN', message: 'no' });
    assert.equal(known.code, 'FW_ERR_FORBIDDEN');
    assert.equal(known.stage, 'reply');
    assert.equal(fromWireError({ code: 'SOMETHING_ELSE', message: 'x' }).code, 'FW_ERR_PROCESS_FAILED');
  });
});
