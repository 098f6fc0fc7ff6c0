// ZMTP 3.0 framing (packages/node-bridge/src/netgear/zmtp-wire.ts): greetings, frames, commands and READY metadata,
// checked byte by byte against the layout of https://rfc.zeromq.org/spec/23/.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FLAG_COMMAND,
  FLAG_LONG,
  FLAG_MORE,
  GREETING_BYTES,
  parseZmtpCommand,
  parseZmtpGreeting,
  parseZmtpProperties,
  zmtpCommand,
  zmtpError,
  zmtpFrame,
  zmtpGreeting,
  zmtpMessage,
  zmtpReady,
} from '../../packages/node-bridge/src/netgear/zmtp-wire.js';

/** A peer greeting: signature, version, mechanism, as-server flag. */
function greeting(major: number, mechanism: string, signature = true): Buffer {
  const g = Buffer.alloc(GREETING_BYTES);
  if (signature) {
    g[0] = 0xff;
    g[9] = 0x7f;
  }
  g[10] = major;
  g[11] = 1;
  g.write(mechanism, 12, 'latin1');
  return g;
}

describe('greetings', () => {
  it('ours: signature, version 3.0, NULL mechanism, not a server, zero filler', () => {
    const g = zmtpGreeting();
    assert.equal(g.length, 64);
    assert.deepEqual([...g.subarray(0, 12)], [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0]);
    assert.equal(g.subarray(12, 32).toString('latin1').replace(/\0+$/, ''), 'NULL');
    assert.equal(g[32], 0, 'as-server is 0');
    assert.ok(g.subarray(33).every((b) => b === 0));
    assert.deepEqual(parseZmtpGreeting(g), { ok: true, mechanism: 'NULL' });
  });

  const peers: { name: string; greeting: Buffer; result: RegExp | 'NULL' }[] = [
    { name: 'a ZMTP 3.1 NULL peer', greeting: greeting(3, 'NULL'), result: 'NULL' },
    { name: 'a ZMTP 4 NULL peer', greeting: greeting(4, 'NULL'), result: 'NULL' },
    { name: 'a peer without the signature', greeting: greeting(3, 'NULL', false), result: /bad signature/ },
    { name: 'a ZMTP 2 peer', greeting: greeting(2, 'NULL'), result: /ZMTP 2, older than 3.0/ },
    { name: 'a CURVE peer', greeting: greeting(3, 'CURVE'), result: /asks for CURVE security/ },
    { name: 'a PLAIN peer', greeting: greeting(3, 'PLAIN'), result: /asks for PLAIN security/ },
  ];
  for (const { name, greeting: g, result } of peers) {
    it(`parseZmtpGreeting: ${name}`, () => {
      const parsed = parseZmtpGreeting(g);
      if (result === 'NULL') assert.deepEqual(parsed, { ok: true, mechanism: 'NULL' });
      else {
        assert.equal(parsed.ok, false);
        assert.match(parsed.reason, result);
      }
    });
  }
});

describe('frames and messages', () => {
  const frames: { name: string; size: number; flags: number; head: number[] }[] = [
    { name: 'an empty part', size: 0, flags: 0, head: [0x00, 0] },
    { name: 'a short part with MORE', size: 5, flags: FLAG_MORE, head: [0x01, 5] },
    { name: 'the largest short part', size: 255, flags: 0, head: [0x00, 255] },
    { name: 'the smallest long part', size: 256, flags: 0, head: [0x02, 0, 0, 0, 0, 0, 0, 1, 0] },
    { name: 'a long part with MORE', size: 70_000, flags: FLAG_MORE, head: [0x03, 0, 0, 0, 0, 0, 1, 0x11, 0x70] },
    { name: 'a short command', size: 3, flags: FLAG_COMMAND, head: [0x04, 3] },
  ];
  for (const { name, size, flags, head } of frames) {
    it(`zmtpFrame: ${name}`, () => {
      const body = Buffer.alloc(size, 0xab);
      const frame = zmtpFrame(body, flags);
      assert.deepEqual([...frame.subarray(0, head.length)], head);
      assert.equal(frame.length, head.length + size);
      assert.ok(frame.subarray(head.length).equals(body));
      assert.equal((frame[0] ?? 0) & FLAG_LONG ? 'long' : 'short', size > 255 ? 'long' : 'short');
    });
  }

  it('zmtpMessage: MORE on every part but the last', () => {
    const message = zmtpMessage([Buffer.from('a'), Buffer.from('bc'), Buffer.alloc(300, 1)]);
    assert.deepEqual([...message.subarray(0, 7)], [0x01, 1, 0x61, 0x01, 2, 0x62, 0x63]);
    assert.deepEqual([...message.subarray(7, 16)], [0x02, 0, 0, 0, 0, 0, 0, 1, 0x2c]);
    assert.equal(message.length, 7 + 9 + 300);
  });
});

describe('commands', () => {
  it('zmtpReady: a command frame with the Socket-Type property', () => {
    const ready = zmtpReady('SUB');
    assert.equal(ready[0], FLAG_COMMAND);
    assert.equal(ready[1], ready.length - 2);
    const command = parseZmtpCommand(ready.subarray(2));
    assert.equal(command?.name, 'READY');
    assert.deepEqual(parseZmtpProperties(command.body), new Map([['socket-type', 'SUB']]));
  });

  it('zmtpError: the reason, cut to 255 bytes', () => {
    for (const [reason, expected] of [
      ['no', 'no'],
      ['x'.repeat(300), 'x'.repeat(255)],
    ]) {
      const frame = zmtpError(reason!);
      const command = parseZmtpCommand(frame.subarray(frame[0]! & FLAG_LONG ? 9 : 2));
      assert.equal(command?.name, 'ERROR');
      assert.equal(command.body[0], expected!.length);
      assert.equal(command.body.subarray(1).toString('latin1'), expected);
    }
  });

  it('zmtpCommand with a long body switches to the 8-byte size', () => {
    const frame = zmtpCommand('PING', Buffer.alloc(300));
    assert.equal(frame[0], FLAG_COMMAND | FLAG_LONG);
    assert.equal(frame.readBigUInt64BE(1), 1n + 4n + 300n);
  });

  const commands: { name: string; frame: Buffer; expected: { name: string; body: number[] } | undefined }[] = [
    {
      name: 'a name and a body',
      frame: Buffer.from([4, ...Buffer.from('PING'), 1, 2]),
      expected: { name: 'PING', body: [1, 2] },
    },
    { name: 'a name and no body', frame: Buffer.from([3, ...Buffer.from('SUB')]), expected: { name: 'SUB', body: [] } },
    { name: 'nothing at all', frame: Buffer.alloc(0), expected: undefined },
    { name: 'a name length past the end', frame: Buffer.from([9, 0x41, 0x42]), expected: undefined },
  ];
  for (const { name, frame, expected } of commands) {
    it(`parseZmtpCommand: ${name}`, () => {
      const parsed = parseZmtpCommand(frame);
      assert.deepEqual(parsed && { name: parsed.name, body: [...parsed.body] }, expected);
    });
  }

  const property = (name: string, value: string): number[] => [
    name.length,
    ...Buffer.from(name),
    0,
    0,
    0,
    value.length,
    ...Buffer.from(value),
  ];
  const properties: { name: string; body: number[]; expected: [string, string][] | undefined }[] = [
    { name: 'none', body: [], expected: [] },
    {
      name: 'two, names in lower case',
      body: [...property('Socket-Type', 'PUB'), ...property('Identity', '')],
      expected: [
        ['socket-type', 'PUB'],
        ['identity', ''],
      ],
    },
    {
      name: 'a value length past the end',
      body: [...property('Socket-Type', 'PUB').slice(0, -1)],
      expected: undefined,
    },
    { name: 'a name past the end', body: [20, 0x41], expected: undefined },
    { name: 'a value length field cut short', body: [1, 0x41, 0, 0], expected: undefined },
  ];
  for (const { name, body, expected } of properties) {
    it(`parseZmtpProperties: ${name}`, () => {
      const parsed = parseZmtpProperties(Buffer.from(body));
      assert.deepEqual(parsed && [...parsed], expected);
    });
  }
});
