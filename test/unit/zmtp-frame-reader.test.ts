// ZmtpFrameReader (packages/node-bridge/src/netgear/zmtp-frame-reader.ts): a ZMTP byte stream split into greeting,
// commands and parts, whatever the read sizes, with large parts read into lent buffers and oversized ones skipped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramePool } from '../../packages/node-bridge/src/media/frame-pool.js';
import { ZmtpFrameReader, type ZmtpFrameHandler } from '../../packages/node-bridge/src/netgear/zmtp-frame-reader.js';
import {
  FLAG_COMMAND,
  FLAG_LONG,
  zmtpCommand,
  zmtpFrame,
  zmtpGreeting,
  zmtpMessage,
  zmtpReady,
} from '../../packages/node-bridge/src/netgear/zmtp-wire.js';

type Event =
  | { kind: 'greeting'; bytes: number }
  | { kind: 'command'; hex: string }
  | { kind: 'part'; bytes: number; sum: number; more: boolean; leased: boolean }
  | { kind: 'oversize'; size: number; more: boolean }
  | { kind: 'violation'; reason: string };

const checksum = (data: Buffer): number => data.reduce((sum, byte, i) => (sum + byte * ((i % 13) + 1)) % 1_000_003, 0);
const filled = (length: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => (i * seed + 7) % 256));

/** A reader that records what it hands over; large parts come from a FramePool. */
function recorder(maxPartBytes: number): { reader: ZmtpFrameReader; events: Event[]; pool: FramePool } {
  const events: Event[] = [];
  const pool = new FramePool();
  const handler: ZmtpFrameHandler = {
    greeting: (g) => events.push({ kind: 'greeting', bytes: g.length }),
    command: (body) => events.push({ kind: 'command', hex: body.toString('hex') }),
    part: (data, more, lease) => {
      events.push({ kind: 'part', bytes: data.length, sum: checksum(data), more, leased: lease !== undefined });
      lease?.release();
    },
    oversizePart: (size, more) => events.push({ kind: 'oversize', size, more }),
    violation: (reason) => events.push({ kind: 'violation', reason }),
  };
  return { reader: new ZmtpFrameReader(handler, (size) => pool.acquire(size), maxPartBytes), events, pool };
}

const SMALL = filled(100, 3);
const EDGE = filled(16 * 1024, 5); // the largest part still copied out of the control buffer
const LARGE = filled(300_000, 11); // read into a lent buffer, across several reads
const OVERSIZE = filled(600_000, 13);
const stream = Buffer.concat([
  zmtpGreeting(),
  zmtpReady('SUB'),
  zmtpMessage([SMALL, EDGE]),
  zmtpMessage([Buffer.from('{"terminate_flag":false}'), LARGE]),
  zmtpMessage([Buffer.alloc(0), OVERSIZE, SMALL]),
  zmtpCommand('PING', Buffer.from([0, 10])),
]);
const readyBody = zmtpReady('SUB').subarray(2).toString('hex');
const expected: Event[] = [
  { kind: 'greeting', bytes: 64 },
  { kind: 'command', hex: readyBody },
  { kind: 'part', bytes: 100, sum: checksum(SMALL), more: true, leased: false },
  { kind: 'part', bytes: EDGE.length, sum: checksum(EDGE), more: false, leased: false },
  { kind: 'part', bytes: 24, sum: checksum(Buffer.from('{"terminate_flag":false}')), more: true, leased: false },
  { kind: 'part', bytes: LARGE.length, sum: checksum(LARGE), more: false, leased: true },
  { kind: 'part', bytes: 0, sum: 0, more: true, leased: false },
  { kind: 'oversize', size: OVERSIZE.length, more: true },
  { kind: 'part', bytes: 100, sum: checksum(SMALL), more: false, leased: false },
  {
    kind: 'command',
    hex: Buffer.concat([Buffer.from([4]), Buffer.from('PING'), Buffer.from([0, 10])]).toString('hex'),
  },
];

describe('ZmtpFrameReader', () => {
  for (const size of [stream.length, 1, 7, 64, 1000, 65_536, 300_001]) {
    it(`feed() in pieces of ${size} bytes gives the same events`, () => {
      const { reader, events } = recorder(500_000);
      for (let i = 0; i < stream.length; i += size) reader.feed(stream.subarray(i, i + size));
      assert.deepEqual(events, expected);
      assert.equal(reader.midGreeting, false);
    });
  }

  it('target()/advance() with short reads (a socket that fills less than offered)', () => {
    const { reader, events } = recorder(500_000);
    let offset = 0;
    let read = 0;
    while (offset < stream.length) {
      const target = reader.target();
      assert.ok(target.length > 0, 'the target is never empty');
      const count = Math.min(target.length, stream.length - offset, [1, 333, 4096, 70_000][read++ % 4]!);
      stream.copy(target, 0, offset, offset + count);
      offset += count;
      reader.advance(count);
    }
    assert.deepEqual(events, expected);
  });

  it('large parts reuse the pool: a second message of the same size allocates nothing new', () => {
    const { reader, events, pool } = recorder(500_000);
    reader.feed(Buffer.concat([zmtpGreeting(), zmtpMessage([LARGE]), zmtpMessage([LARGE])]));
    assert.equal(events.filter((e) => e.kind === 'part' && e.leased).length, 2);
    assert.equal(pool.allocated, 1);
  });

  it('midGreeting is true only while a greeting is incomplete', () => {
    const { reader } = recorder(1000);
    assert.equal(reader.midGreeting, false);
    reader.feed(zmtpGreeting().subarray(0, 10));
    assert.equal(reader.midGreeting, true);
    reader.feed(zmtpGreeting().subarray(10));
    assert.equal(reader.midGreeting, false);
  });

  const longHead = (flags: number, size: bigint): Buffer => {
    const head = Buffer.alloc(9);
    head[0] = flags | FLAG_LONG;
    head.writeBigUInt64BE(size, 1);
    return head;
  };
  const hostile: { name: string; bytes: Buffer; reason: RegExp }[] = [
    { name: 'a command over 64 KiB', bytes: longHead(FLAG_COMMAND, 65_537n), reason: /65537 byte command/ },
    { name: 'a part larger than any buffer', bytes: longHead(0, 2n ** 60n), reason: /byte part/ },
  ];
  for (const { name, bytes, reason } of hostile) {
    it(`${name} is a violation, and nothing more is handed over`, () => {
      const { reader, events } = recorder(1000);
      reader.feed(Buffer.concat([zmtpGreeting(), bytes, zmtpFrame(SMALL, 0)]));
      assert.equal(events.length, 2);
      assert.deepEqual(events[0], { kind: 'greeting', bytes: 64 });
      assert.equal(events[1]?.kind, 'violation');
      assert.match(events[1].reason, reason);
      reader.feed(zmtpFrame(SMALL, 0));
      assert.equal(events.length, 2);
    });
  }

  it('stop() ends parsing: later bytes are ignored', () => {
    const { reader, events } = recorder(1000);
    reader.feed(zmtpGreeting());
    reader.stop();
    reader.feed(zmtpFrame(SMALL, 0));
    assert.deepEqual(events, [{ kind: 'greeting', bytes: 64 }]);
  });
});
