import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Pair, Push, Request, curveKeyPair } from 'zeromq';
import {
  BridgeServer,
  FfmpegTranscoder,
  FramePool,
  NetGearSource,
  netGearSourcesFromSpec,
  type FramewireError,
  type NetGearSourceOptions,
  type RawFrame,
} from '@framewire/node-bridge';
import { meanOfChannel, waitUntil } from '../helpers/node.js';
import { freePort, runPeer } from '../helpers/python.js';

/** Decodes a JPEG to packed BGR24 bytes with ffmpeg (an independent reader). */
async function decodeBgr(jpeg: Buffer): Promise<Buffer> {
  const child = execFile('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  child.stdin?.end(jpeg);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => child.on('close', resolve));
  return Buffer.concat(chunks);
}

/** `size` bytes of pure red, packed BGR24. */
function redBgr(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 2; i < size; i += 3) bytes[i] = 255;
  return bytes;
}

/** Starts a NetGear receiver on a free port and collects its raw frames and errors. */
async function receiver(options: NetGearSourceOptions = {}): Promise<{
  source: NetGearSource;
  port: number;
  frames: RawFrame[];
  errors: FramewireError[];
}> {
  const port = await freePort();
  const source = new NetGearSource({ port, ...options });
  const frames: RawFrame[] = [];
  const errors: FramewireError[] = [];
  source.on('frame', ({ frame }) => {
    if ('format' in frame) frames.push(frame);
  });
  source.on('error', ({ error }) => errors.push(error));
  await source.start();
  return { source, port, frames, errors };
}

/** The Python vidgear-format sender: `frames` frames of `size` on `pattern`. */
function pythonSender(
  port: number,
  pattern: number,
  frames: number,
  size = '64x48',
): Promise<Record<string, unknown>[]> {
  return runPeer([
    'sender',
    '--port',
    String(port),
    '--pattern',
    String(pattern),
    '--frames',
    String(frames),
    '--size',
    size,
  ]);
}

/** A ZMTP 3.0 greeting written by hand (signature, version 3.0, mechanism, as-server, filler). */
function greeting(mechanism = 'NULL'): Buffer {
  const bytes = Buffer.alloc(64);
  bytes[0] = 0xff;
  bytes[9] = 0x7f;
  bytes[10] = 3;
  bytes.write(mechanism, 12, 'latin1');
  return bytes;
}

/** A READY command for `socketType`, written by hand. */
function ready(socketType: string): Buffer {
  const name = Buffer.from('Socket-Type');
  const value = Buffer.from(socketType);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  const body = Buffer.concat([Buffer.from([5]), Buffer.from('READY'), Buffer.from([name.length]), name, length, value]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

/** A message part with a long (8-byte) size field declaring `size` bytes; `more` sets the MORE flag. */
function longPartHeader(size: number, more = false): Buffer {
  const header = Buffer.alloc(9);
  header[0] = 0x02 | (more ? 0x01 : 0);
  header.writeBigUInt64BE(BigInt(size), 1);
  return header;
}

/** A short message part. */
function shortPart(body: Buffer, more = false): Buffer {
  return Buffer.concat([Buffer.from([more ? 0x01 : 0, body.length]), body]);
}

/** Connects a raw TCP client and resolves once it is connected. */
async function rawClient(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.resume(); // read (and drop) what the receiver sends, so that its end is seen
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

const closed = (socket: Socket): Promise<void> => new Promise((resolve) => socket.once('close', () => resolve()));

const HEADER_720P = JSON.stringify({
  terminate_flag: false,
  compression: false,
  message: null,
  pattern: '0',
  dtype: 'uint8',
  shape: [720, 1280, 3],
});

describe('NetGear over the built-in ZMTP receiver', () => {
  it('is the engine for TCP without CURVE; zeromq.js serves secure modes and ipc; zmtp with CURVE is refused', () => {
    assert.equal(new NetGearSource({ port: 5555 }).engine, 'zmtp');
    assert.equal(new NetGearSource({ port: 5555, engine: 'zeromq' }).engine, 'zeromq');
    assert.equal(new NetGearSource({ port: 5555, secureMode: 1, keysDir: '/nonexistent' }).engine, 'zeromq');
    assert.equal(new NetGearSource({ protocol: 'ipc', address: '/tmp/fw-ng.sock' }).engine, 'zeromq');
    assert.throws(
      () => new NetGearSource({ port: 5555, engine: 'zmtp', secureMode: 2, keysDir: '/nonexistent' }),
      (error: FramewireError) =>
        error.code === 'FW_ERR_INVALID_OPTION' && error.message.includes('zmtp speaks TCP without'),
    );
    const [fromSpec] = netGearSourcesFromSpec('netgear://127.0.0.1:5555?pattern=1&engine=zeromq');
    assert.equal(fromSpec?.engine, 'zeromq');
  });

  for (const engine of ['zmtp', 'zeromq'] as const)
    it(`engine ${engine}: 1280×720 frames from the Python sender arrive whole, patterns 0 and 1`, async () => {
      for (const pattern of [0, 1] as const) {
        const { source, port, frames } = await receiver({ pattern, engine });
        const seen: number[][] = [];
        source.on('frame', ({ frame }) => seen.push([frame.data[0]!, frame.data[3 * 700 + 1]!, frame.data.at(-1)!]));
        try {
          await pythonSender(port, pattern, 5, '1280x720');
          await waitUntil(() => frames.length === 5, `${engine} pattern ${pattern}: 5 frames`);
          assert.equal(frames[0]?.data.length, 1280 * 720 * 3);
          // make_frame(i): B = i, G = column % 256, R = 200.
          assert.deepEqual(
            seen,
            [0, 1, 2, 3, 4].map((i) => [i, 700 % 256, 200]),
          );
        } finally {
          await source.close();
        }
      }
    });

  it('reuseBuffers: frames share a few buffers; a retained frame keeps its pixels until it is released', async () => {
    const { source, port } = await receiver({ pattern: 1, reuseBuffers: true });
    const buffers = new Set<ArrayBufferLike>();
    let held: RawFrame | undefined;
    let release: (() => void) | undefined;
    let count = 0;
    let heldBufferReused = false;
    source.on('frame', ({ frame }) => {
      assert.ok('format' in frame && frame.retain, 'a pooled raw frame carries retain()');
      if (held?.data.buffer === frame.data.buffer) heldBufferReused = true;
      buffers.add(frame.data.buffer);
      if (count++ === 0) {
        held = frame;
        release = frame.retain();
      }
    });
    try {
      await pythonSender(port, 1, 30, '640x480');
      await waitUntil(() => count === 30, '30 frames');
      assert.equal(heldBufferReused, false, 'the retained buffer was not lent again');
      assert.equal(held?.data[0], 0, 'the retained frame still holds frame 0 (B = index)');
      assert.ok(buffers.size <= 4, `30 frames used ${buffers.size} buffers`);
      release?.();
    } finally {
      await source.close();
    }
  });

  it('FramePool: a buffer comes back only after its last holder lets go; a new size starts over', () => {
    const pool = new FramePool(2);
    const first = pool.acquire(1000);
    const hold = first.retain();
    first.release();
    first.release(); // twice does nothing
    const second = pool.acquire(1000);
    assert.notEqual(second.data.buffer, first.data.buffer, 'still held: a new buffer');
    hold();
    second.release();
    const third = pool.acquire(1000);
    assert.ok([first.data.buffer, second.data.buffer].includes(third.data.buffer), 'a released buffer is reused');
    assert.equal(pool.allocated, 2);
    assert.equal(pool.acquire(2000).data.length, 2000);
    assert.equal(pool.allocated, 3);
  });

  it('FfmpegTranscoder holds a pooled frame until its pipe took the bytes, and encodes the pixels sent', async () => {
    const pool = new FramePool(4);
    const size = 320 * 240 * 3;
    const transcoder = new FfmpegTranscoder({ name: 'pooled test', output: 'jpeg' });
    const jpegs: Buffer[] = [];
    transcoder.on('frame', ({ frame }) => jpegs.push(frame.data));
    try {
      const lease = pool.acquire(size);
      redBgr(size).copy(lease.data);
      const frame: RawFrame = {
        width: 320,
        height: 240,
        format: 'BGR24',
        data: lease.data,
        captureTimeMs: Date.now(),
        retain: lease.retain,
      };
      assert.equal(transcoder.push(frame), true);
      lease.release();
      const during = pool.acquire(size);
      assert.notEqual(during.data.buffer, lease.data.buffer, 'the pipe still holds the first buffer');
      during.data.fill(0); // would paint the frame black if the pipe shared it
      during.release();
      // ffmpeg may hold its first output until more input arrives: later frames, fed like a live source (5 a
      // second) until the first JPEG is out, are ordinary red buffers.
      const feeder = setInterval(() => transcoder.push({ ...frame, data: redBgr(size), retain: undefined }), 200);
      try {
        await waitUntil(() => jpegs.length >= 1, 'the JPEG', 60_000);
      } finally {
        clearInterval(feeder);
      }
      const bgr = await decodeBgr(jpegs[0]!);
      assert.ok(meanOfChannel(bgr, 2) > 230 && meanOfChannel(bgr, 0) < 25, 'the JPEG is red');
      const buffers = new Set([pool.acquire(size).data.buffer, pool.acquire(size).data.buffer]);
      assert.ok(buffers.has(lease.data.buffer), 'once written, the first buffer is lent again');
    } finally {
      await transcoder.close();
    }
  });

  it('a netgear:// source (reused buffers) feeds MJPEG through the bridge with the sent colours', async () => {
    const port = await freePort();
    const [source] = netGearSourcesFromSpec(`netgear://127.0.0.1:${port}?pattern=1`);
    assert.ok(source);
    const bridge = await BridgeServer.start({ port: 0, sources: [source] });
    try {
      const sender = runPeer([
        'sender',
        '--port',
        String(port),
        '--pattern',
        '1',
        '--frames',
        '120',
        '--fps',
        '30',
        '--size',
        '640x480',
      ]);
      await waitUntil(() => source.health.frames >= 5, 'frames', 60_000);
      // 503 until the first snapshot is encoded.
      const response = await waitUntil(
        async () => {
          const answer = await fetch(`http://127.0.0.1:${bridge.port}/snapshot.jpg`);
          if (answer.status !== 503) return answer;
          await answer.body?.cancel();
          return undefined;
        },
        'a snapshot',
        60_000,
      );
      assert.equal(response.status, 200);
      const bgr = await decodeBgr(Buffer.from(await response.arrayBuffer()));
      // make_frame(): R = 200 everywhere, G = column % 256 (mean 114.7 over 640 columns).
      assert.ok(Math.abs(meanOfChannel(bgr, 2) - 200) < 8, `red ${meanOfChannel(bgr, 2)}`);
      assert.ok(Math.abs(meanOfChannel(bgr, 1) - 114.7) < 8, `green ${meanOfChannel(bgr, 1)}`);
      await sender;
    } finally {
      await bridge.close();
    }
  });
});

describe('NetGear ZMTP receiver: hostile and broken peers', () => {
  it('a peer that does not speak ZMTP, a wrong socket type and a CURVE peer are refused; good senders still get in', async () => {
    const { source, port, frames, errors } = await receiver({ pattern: 0 });
    try {
      const garbage = await rawClient(port);
      garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.padEnd(80, ' '));
      await closed(garbage);
      const push = new Push({ linger: 0 });
      push.connect(`tcp://127.0.0.1:${port}`);
      // ZeroMQ reconnects a refused peer (every 100 ms) until it is closed: wait for each refusal by its message,
      // not by the number of errors, which a busy machine lets one peer's retries inflate.
      const refused = (pattern: RegExp) => () => errors.some((error) => pattern.test(error.message));
      await waitUntil(refused(/does not speak ZMTP/), 'the peer that does not speak ZMTP is refused');
      await waitUntil(refused(/a PUSH socket cannot talk to a PAIR socket/), 'the PUSH peer is refused');
      push.close();
      const keys = curveKeyPair();
      const curve = new Pair({ linger: 0 });
      curve.curveServerKey = curveKeyPair().publicKey;
      curve.curvePublicKey = keys.publicKey;
      curve.curveSecretKey = keys.secretKey;
      curve.connect(`tcp://127.0.0.1:${port}`);
      await waitUntil(
        refused(/asks for CURVE security|hung up during the greeting \(does it use a secure mode, CURVE\?\)/),
        'the CURVE peer is refused',
      );
      curve.close();
      const messages = errors.map((error) => error.message).join('\n');
      assert.ok(errors.every((error) => error.code === 'FW_ERR_PROTOCOL_VIOLATION'));
      assert.ok(errors.length >= 3, messages);
      await pythonSender(port, 0, 3);
      await waitUntil(() => frames.length === 3, 'a good sender streams afterwards');
    } finally {
      await source.close();
    }
  });

  it('an oversize part and a message of too many parts are dropped with typed errors; the REQ sender gets its replies', async () => {
    const { source, port, frames, errors } = await receiver({ pattern: 1, maxFrameBytes: 1024 * 1024 });
    // The receive timeout only bounds a hang.
    const request = new Request({ linger: 0, receiveTimeout: 60_000 });
    request.connect(`tcp://127.0.0.1:${port}`);
    try {
      await request.send([HEADER_720P, Buffer.alloc(4 * 1024 * 1024)]);
      const [reply] = await request.receive();
      assert.match(String(reply), /Data received on device/);
      await request.send(Array.from({ length: 20 }, (_, i) => String(i)));
      assert.match(String((await request.receive())[0]), /Data received on device/);
      assert.deepEqual(
        errors.map((error) => error.code),
        ['FW_ERR_FRAME_TOO_LARGE', 'FW_ERR_PROTOCOL_VIOLATION'],
      );
      assert.match(errors[0]!.message, /4194304 byte message part is over the 1048576 byte limit/);
      assert.match(errors[1]!.message, /a message of 21 parts/ /* 20 and the REQ envelope's delimiter */);
      assert.equal(frames.length, 0);
      assert.equal(source.health.dropped, 2);
      await pythonSender(port, 1, 2);
      await waitUntil(() => frames.length === 2, 'a good sender still gets through');
    } finally {
      request.close();
      await source.close();
    }
  });

  it('a stream cut mid-frame and a command that claims a gigabyte lose nothing and crash nothing', async () => {
    const { source, port, frames, errors } = await receiver({ pattern: 0, reuseBuffers: true });
    try {
      const cut = await rawClient(port);
      cut.write(Buffer.concat([greeting(), ready('PAIR'), shortPart(Buffer.from(HEADER_720P.slice(0, 200)), true)]));
      cut.write(Buffer.concat([longPartHeader(1280 * 720 * 3), Buffer.alloc(100_000, 7)]));
      // Cut: closed once the receiver has read everything up to the end and closed its side too.
      cut.end();
      await closed(cut);
      const hostile = await rawClient(port);
      const command = Buffer.alloc(9);
      command[0] = 0x06;
      command.writeBigUInt64BE(1n << 30n, 1);
      hostile.write(Buffer.concat([greeting(), ready('PAIR'), command]));
      await closed(hostile);
      await waitUntil(() => errors.length === 1, 'the hostile peer is refused');
      assert.equal(errors[0]?.code, 'FW_ERR_PROTOCOL_VIOLATION');
      assert.match(errors[0].message, /a 1073741824 byte command/);
      assert.equal(frames.length, 0, 'the cut frame was never published');
      await pythonSender(port, 0, 3, '1280x720');
      await waitUntil(() => frames.length === 3, 'the next sender streams');
      assert.equal(source.health.state, 'starting');
    } finally {
      await source.close();
    }
  });
});
