// The trickle-ice-sdpfrag bodies of WHIP/WHEP PATCH requests (packages/node-bridge/src/webrtc/trickle-ice-sdpfrag.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  candidateAddress,
  formatSdpFrag,
  parseSdpFrag,
  type SdpFrag,
} from '../../packages/node-bridge/src/webrtc/trickle-ice-sdpfrag.js';

const HOST = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host';
const OTHER = 'candidate:2 1 udp 2122194687 10.0.0.7 50001 typ host generation 0';

describe('parseSdpFrag', () => {
  const cases: { name: string; body: string; expected: SdpFrag }[] = [
    {
      name: 'an empty body',
      body: '',
      expected: { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false },
    },
    {
      name: 'a trickled candidate with its mid (RFC 8840, CRLF)',
      body: `a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:1\r\na=${HOST}\r\n`,
      expected: {
        ufrag: 'EsAw',
        pwd: 'P2uYro0UCOQ4zxjKXaWCBui1',
        candidates: [{ candidate: HOST, sdpMid: '1' }],
        endOfCandidates: false,
      },
    },
    {
      name: 'candidates without a mid belong to mid 0; LF line ends; end-of-candidates',
      body: `a=${HOST}\na=mid:v\na=${OTHER}\na=end-of-candidates\n`,
      expected: {
        ufrag: undefined,
        pwd: undefined,
        candidates: [
          { candidate: HOST, sdpMid: '0' },
          { candidate: OTHER, sdpMid: 'v' },
        ],
        endOfCandidates: true,
      },
    },
    {
      name: 'unknown lines are ignored',
      body: 'v=0\r\na=group:BUNDLE 0\r\na=whatever:1\r\n',
      expected: { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false },
    },
  ];
  for (const { name, body, expected } of cases)
    it(name, () => {
      assert.deepEqual(parseSdpFrag(body), expected);
    });
});

describe('candidateAddress', () => {
  const cases: [string, string][] = [
    [HOST, '127.0.0.1'],
    [`a=${OTHER}`, '10.0.0.7'],
    ['candidate:3 1 udp 1 abcd-ef.local 9 typ host', 'abcd-ef.local'],
    ['candidate:broken', ''],
  ];
  for (const [line, address] of cases)
    it(`${line} → ${address || '(none)'}`, () => {
      assert.equal(candidateAddress(line), address);
    });
});

describe('formatSdpFrag', () => {
  it('writes credentials, mid, candidates and end-of-candidates, and reads back the same', () => {
    const text = formatSdpFrag('u1', 'p'.repeat(22), [HOST, `a=${OTHER}`], '0');
    assert.equal(
      text,
      `a=ice-ufrag:u1\r\na=ice-pwd:${'p'.repeat(22)}\r\na=mid:0\r\na=${HOST}\r\na=${OTHER}\r\na=end-of-candidates\r\n`,
    );
    assert.deepEqual(parseSdpFrag(text), {
      ufrag: 'u1',
      pwd: 'p'.repeat(22),
      candidates: [
        { candidate: HOST, sdpMid: '0' },
        { candidate: OTHER, sdpMid: '0' },
      ],
      endOfCandidates: true,
    });
  });
});
