// The signaling protocol's validators (packages/signaling/src/protocol.ts): every client message the server may
// accept or must refuse, the server messages the SDK relies on, and the close-code mapping.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLOSE_CODES,
  errorCodeForClose,
  parseClientMessage,
  parseServerMessage,
} from '../../packages/signaling/src/protocol.js';

const PEER = '0b8f6c3e-1d2a-4f5b-9c7d-112233445566';
const j = (value: unknown): string => JSON.stringify(value);

describe('parseClientMessage', () => {
  const accepted: { name: string; message: Record<string, unknown> }[] = [
    { name: 'join', message: { type: 'join', room: 'garage-cam' } },
    {
      name: 'join with meta and resume',
      message: { type: 'join', room: 'a.b:c_d-1', meta: { n: 'x' }, resume: { peerId: PEER, resumeKey: 'k' } },
    },
    {
      name: 'signal offer',
      message: {
        type: 'signal',
        to: PEER,
        payload: { kind: 'description', description: { type: 'offer', sdp: 'v=0' } },
      },
    },
    {
      name: 'signal candidate',
      message: {
        type: 'signal',
        to: PEER,
        payload: { kind: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } },
      },
    },
    {
      name: 'signal candidate with null mid and index',
      message: {
        type: 'signal',
        to: PEER,
        payload: { kind: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } },
      },
    },
    { name: 'signal bye', message: { type: 'signal', to: PEER, payload: { kind: 'bye' } } },
    { name: 'relay with null data', message: { type: 'relay', to: PEER, data: null } },
    { name: 'ping', message: { type: 'ping', id: 12 } },
    { name: 'ice-request', message: { type: 'ice-request' } },
    { name: 'leave', message: { type: 'leave' } },
    { name: 'kick', message: { type: 'kick', peerId: PEER } },
  ];
  for (const { name, message } of accepted) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(parseClientMessage(j(message)), { ok: true, message });
    });
  }

  const refused: { name: string; text: string; reason: RegExp; type?: string }[] = [
    { name: 'text that is not JSON', text: '{', reason: /not JSON/ },
    { name: 'an array', text: '[]', reason: /JSON object/ },
    { name: 'null', text: 'null', reason: /JSON object/ },
    { name: 'a numeric type', text: j({ type: 1 }), reason: /type must be a string/ },
    { name: 'an unknown type', text: j({ type: 'hack' }), reason: /unknown type "hack"/, type: 'hack' },
    { name: 'join without a room', text: j({ type: 'join' }), reason: /room/, type: 'join' },
    { name: 'join to a room with a slash', text: j({ type: 'join', room: 'a/b' }), reason: /room/, type: 'join' },
    {
      name: 'join to a 129-character room',
      text: j({ type: 'join', room: 'r'.repeat(129) }),
      reason: /room/,
      type: 'join',
    },
    {
      name: 'join with array meta',
      text: j({ type: 'join', room: 'r', meta: [1] }),
      reason: /meta must be an object/,
      type: 'join',
    },
    {
      name: 'join with meta over 1 KiB',
      text: j({ type: 'join', room: 'r', meta: { s: 'x'.repeat(1100) } }),
      reason: /at most 1024/,
      type: 'join',
    },
    {
      name: 'join with a malformed resume',
      text: j({ type: 'join', room: 'r', resume: { peerId: 'nope', resumeKey: 'k' } }),
      reason: /resume/,
      type: 'join',
    },
    {
      name: 'signal to a non-UUID',
      text: j({ type: 'signal', to: 'bob', payload: { kind: 'bye' } }),
      reason: /to must be a peer id/,
      type: 'signal',
    },
    {
      name: 'signal without payload',
      text: j({ type: 'signal', to: PEER }),
      reason: /payload must be an object/,
      type: 'signal',
    },
    {
      name: 'signal with an unknown kind',
      text: j({ type: 'signal', to: PEER, payload: { kind: 'x' } }),
      reason: /payload.kind/,
      type: 'signal',
    },
    {
      name: 'a description of an unknown type',
      text: j({ type: 'signal', to: PEER, payload: { kind: 'description', description: { type: 'hello', sdp: '' } } }),
      reason: /description.type/,
      type: 'signal',
    },
    {
      name: 'an SDP over 32768 characters',
      text: j({
        type: 'signal',
        to: PEER,
        payload: { kind: 'description', description: { type: 'offer', sdp: 'a'.repeat(32_769) } },
      }),
      reason: /sdp must be a string of at most 32768/,
      type: 'signal',
    },
    {
      name: 'a candidate that is not a string',
      text: j({ type: 'signal', to: PEER, payload: { kind: 'candidate', candidate: { candidate: 5 } } }),
      reason: /candidate.candidate/,
      type: 'signal',
    },
    {
      name: 'a negative sdpMLineIndex',
      text: j({
        type: 'signal',
        to: PEER,
        payload: { kind: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: -1 } },
      }),
      reason: /sdpMLineIndex/,
      type: 'signal',
    },
    {
      name: 'a numeric sdpMid',
      text: j({ type: 'signal', to: PEER, payload: { kind: 'candidate', candidate: { candidate: 'c', sdpMid: 0 } } }),
      reason: /sdpMid/,
      type: 'signal',
    },
    { name: 'relay without data', text: j({ type: 'relay', to: PEER }), reason: /data is missing/, type: 'relay' },
    {
      name: 'ping with a fractional id',
      text: j({ type: 'ping', id: 1.5 }),
      reason: /id must be an integer/,
      type: 'ping',
    },
    { name: 'kick without a peer id', text: j({ type: 'kick' }), reason: /peerId/, type: 'kick' },
  ];
  for (const { name, text, reason, type } of refused) {
    it(`refuses ${name}`, () => {
      const parsed = parseClientMessage(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.reason, reason);
      assert.equal(parsed.type, type);
    });
  }

  it('an unknown type is quoted in the reason, cut to 32 characters', () => {
    const parsed = parseClientMessage(j({ type: 'x'.repeat(100) }));
    assert.equal(parsed.ok ? '' : parsed.reason, `unknown type "${'x'.repeat(32)}"`);
  });
});

describe('parseServerMessage', () => {
  const accepted: Record<string, unknown>[] = [
    { type: 'welcome', peerId: PEER, peers: [], iceServers: [] },
    { type: 'peer-joined', peer: { peerId: PEER, role: 'viewer' } },
    { type: 'peer-left', peerId: PEER, reason: 'left' },
    { type: 'signal', from: PEER, payload: { kind: 'bye' } },
    { type: 'relay', from: PEER, data: 1 },
    { type: 'pong', id: 1, serverTimeMs: 2 },
    { type: 'ice-servers', iceServers: [] },
    { type: 'error', code: 'FW_ERR_FORBIDDEN', message: 'no', fatal: true },
    { type: 'shutdown', reconnectAfterMs: 100 },
  ];
  for (const message of accepted) {
    it(`accepts ${String(message['type'])}`, () => {
      assert.deepEqual(parseServerMessage(j(message)), { ok: true, message });
    });
  }

  const refused: { name: string; text: string; reason: RegExp }[] = [
    { name: 'not JSON', text: 'x', reason: /not JSON/ },
    { name: 'a client message type', text: j({ type: 'join', room: 'r' }), reason: /not a server message/ },
    {
      name: 'welcome without iceServers',
      text: j({ type: 'welcome', peerId: PEER, peers: [] }),
      reason: /welcome lacks/,
    },
    {
      name: 'welcome with a bad peer id',
      text: j({ type: 'welcome', peerId: 'me', peers: [], iceServers: [] }),
      reason: /welcome lacks/,
    },
    { name: 'peer-joined without a peer', text: j({ type: 'peer-joined' }), reason: /lacks a peer/ },
    { name: 'peer-left without an id', text: j({ type: 'peer-left' }), reason: /lacks peerId/ },
    {
      name: 'signal with a bad payload',
      text: j({ type: 'signal', from: PEER, payload: { kind: 'description' } }),
      reason: /payload.description/,
    },
    { name: 'relay without from', text: j({ type: 'relay', data: 1 }), reason: /relay lacks from/ },
    { name: 'error without a code', text: j({ type: 'error', message: 'm' }), reason: /error lacks code/ },
  ];
  for (const { name, text, reason } of refused) {
    it(`refuses ${name}`, () => {
      const parsed = parseServerMessage(text);
      assert.match(parsed.ok ? 'accepted' : parsed.reason, reason);
    });
  }
});

describe('errorCodeForClose', () => {
  const cases: [number, string | undefined][] = [
    [CLOSE_CODES.normal, undefined],
    [CLOSE_CODES.serviceRestart, undefined],
    [CLOSE_CODES.tooLarge, 'FW_ERR_MESSAGE_TOO_LARGE'],
    [CLOSE_CODES.unauthorized, 'FW_ERR_UNAUTHORIZED'],
    [CLOSE_CODES.forbidden, 'FW_ERR_FORBIDDEN'],
    [CLOSE_CODES.kicked, 'FW_ERR_FORBIDDEN'],
    [CLOSE_CODES.timeout, 'FW_ERR_TIMEOUT'],
    [CLOSE_CODES.badMessage, 'FW_ERR_BAD_MESSAGE'],
    [CLOSE_CODES.rateLimited, 'FW_ERR_RATE_LIMITED'],
    [CLOSE_CODES.roomFull, 'FW_ERR_ROOM_FULL'],
    [CLOSE_CODES.replaced, undefined],
    [1006, undefined],
  ];
  for (const [code, expected] of cases) {
    it(`${code} → ${expected ?? 'undefined'}`, () => assert.equal(errorCodeForClose(code), expected));
  }
});
