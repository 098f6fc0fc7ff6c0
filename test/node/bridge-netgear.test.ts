import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import {
  BridgeServer,
  NetGearOutput,
  NetGearSource,
  createTestPatternSource,
  jpegSize,
  netGearMultiServerSources,
  netGearReplyParts,
  netGearSourcesFromSpec,
  parseNetGearReply,
  type FramewireError,
  type NetGearSourceOptions,
  type SourceFrame,
} from '@framewire/node-bridge';
import { WsViewer, writeH264 } from '../helpers/bridge.js';
import { ffprobe, meanOfChannel, startCli, tempDir, waitUntil } from '../helpers/node.js';
import { freePort, runPeer, startPeer } from '../helpers/python.js';

/** Decodes an image file to packed BGR24 bytes with ffmpeg (an independent reader). */
async function decodeBgr(file: string): Promise<Buffer> {
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

/** A 32×24 solid red JPEG made by ffmpeg. */
async function redJpeg(): Promise<Buffer> {
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=32x24',
      '-frames:v',
      '1',
      '-f',
      'image2pipe',
      '-c:v',
      'mjpeg',
      '-',
    ],
    { encoding: 'buffer' },
  );
  return stdout;
}

/** A red JPEG padded with a comment segment to exactly `bytes` bytes (over a size limit, still a valid JPEG). */
async function redJpegOfSize(bytes: number): Promise<Buffer> {
  const jpeg = await redJpeg();
  const pad = bytes - jpeg.length - 4;
  assert.ok(pad > 0 && pad < 65_000, `pad ${pad}`);
  const comment = Buffer.alloc(4 + pad);
  comment.writeUInt16BE(0xfffe, 0);
  comment.writeUInt16BE(pad + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), comment, jpeg.subarray(2)]);
}

/** Starts a NetGear receiver on a free port and collects its frames and errors. */
async function receiver(options: NetGearSourceOptions = {}): Promise<{
  source: NetGearSource;
  port: number;
  frames: SourceFrame[];
  errors: FramewireError[];
}> {
  const port = options.port ?? (await freePort());
  const source = new NetGearSource({ port, ...options });
  const frames: SourceFrame[] = [];
  const errors: FramewireError[] = [];
  source.on('frame', ({ frame }) => frames.push(frame));
  source.on('error', ({ error }) => errors.push(error));
  await source.start();
  return { source, port, frames, errors };
}

describe('NetGear receiver (Python sender written to the vidgear wire format)', () => {
  for (const pattern of [0, 1, 2] as const) {
    it(`NetGearSource, pattern ${pattern}: raw BGR frames arrive with their shape and pixels`, async () => {
      const { source, port, frames } = await receiver({ pattern });
      try {
        const events = await runPeer([
          'sender',
          '--port',
          String(port),
          '--pattern',
          String(pattern),
          '--frames',
          '8',
          '--fps',
          '30',
        ]);
        assert.equal(events.at(-1)?.['event'], 'done');
        await waitUntil(() => (pattern === 2 ? frames.length >= 1 : frames.length === 8), 'frames');
        const frame = frames[0]!;
        assert.ok('format' in frame);
        assert.deepEqual([frame.format, frame.width, frame.height, frame.data.length], ['BGR24', 64, 48, 64 * 48 * 3]);
        // make_frame(): B = frame index, G = column, R = 200
        assert.deepEqual([...frame.data.subarray(3 * 5, 3 * 6)], [frames.length === 8 ? 0 : frame.data[15]!, 5, 200]);
        if (pattern !== 2)
          assert.deepEqual(
            frames.map((f) => f.data[0]),
            [0, 1, 2, 3, 4, 5, 6, 7],
          );
        assert.equal(source.health.state, 'starting', 'the sender terminated; waiting for the next one');
      } finally {
        await source.close();
      }
    });
  }

  it('NetGearSource, JPEG compression and bidirectional replies (REQ/REP), served by the bridge as MJPEG', async () => {
    const port = await freePort();
    const source = new NetGearSource({
      port,
      pattern: 1,
      bidirectional: true,
      returnData: (message) => ({ echo: message }),
    });
    const bridge = await BridgeServer.start({ port: 0, sources: [source], websocket: false });
    try {
      const peer = startPeer([
        'sender',
        '--port',
        String(port),
        '--pattern',
        '1',
        '--jpeg',
        '--bidirectional',
        '--frames',
        '60',
        '--fps',
        '20',
      ]);
      await waitUntil(() => source.latest, 'a frame');
      const snapshot = Buffer.from(await (await fetch(`http://127.0.0.1:${bridge.port}/snapshot.jpg`)).arrayBuffer());
      assert.deepEqual(jpegSize(snapshot), { width: 64, height: 48 });
      assert.equal(await peer.exited, 0, peer.stderr());
      const replies = peer.events.filter((e) => e['event'] === 'reply');
      assert.equal(replies.length, 60);
      assert.deepEqual(replies[3]!['reply'], { return_type: 'dict', data: { echo: { n: 3 } } });
      assert.deepEqual(source.lastMessage, { n: 59 });
    } finally {
      await bridge.close();
    }
  });

  for (const pattern of [0, 1, 3] as const) {
    it(`NetGearSource, NetGear_Async msgpack format, pattern ${pattern}${pattern === 1 ? ', bidirectional' : ''}`, async () => {
      const bidirectional = pattern === 1;
      const { source, port, frames } = await receiver({
        pattern,
        async: true,
        bidirectional,
        returnData: () => 'thanks',
      });
      try {
        const args = [
          'sender',
          '--async',
          '--port',
          String(port),
          '--pattern',
          String(pattern),
          '--frames',
          '6',
          '--fps',
          '30',
        ];
        const events = await runPeer(bidirectional ? [...args, '--bidirectional'] : args);
        await waitUntil(() => frames.length === 6, 'six frames');
        assert.deepEqual(
          frames.map((f) => f.data[0]),
          [0, 1, 2, 3, 4, 5],
        );
        if (bidirectional) assert.deepEqual(events[0]!['reply'], { return_type: 'str', return_data: 'thanks' });
      } finally {
        await source.close();
      }
    });
  }

  it("netGearMultiServerSources, PUB/SUB: each sender port is its own source and gets only its sender's frames", async () => {
    const ports = [await freePort(), await freePort()];
    const sources = netGearMultiServerSources(ports, { pattern: 2, id: 'pub' });
    const frames = new Map(sources.map((s) => [s.id, [] as SourceFrame[]]));
    for (const s of sources) s.on('frame', ({ frame }) => frames.get(s.id)?.push(frame));
    await Promise.all(sources.map(async (s) => s.start()));
    try {
      const reds = [40, 160];
      await Promise.all(
        ports.map(async (port, i) =>
          runPeer([
            'sender',
            '--multiserver',
            '--port',
            String(port),
            '--pattern',
            '2',
            '--red',
            String(reds[i]),
            '--frames',
            '20',
            '--fps',
            '20',
          ]),
        ),
      );
      assert.deepEqual(
        sources.map((s) => s.id),
        ports.map((p) => `pub-${p}`),
      );
      for (const [i, s] of sources.entries()) {
        const got = frames.get(s.id) ?? [];
        assert.ok(got.length > 0, `${s.id} got frames`);
        // make_frame(): R = the sender's --red in every pixel
        assert.ok(
          got.every((f) => f.data[2] === reds[i]),
          `${s.id}: only its own sender's frames`,
        );
        assert.equal(s.health.frames, got.length);
      }
    } finally {
      await Promise.all(sources.map(async (s) => s.close()));
    }
  });

  it('NetGearSource, multi-server mode: a message whose header lacks or misstates its port is dropped as a protocol violation', async () => {
    const { source, port, frames, errors } = await receiver({ pattern: 1, multiServer: true });
    try {
      const common = ['sender', '--port', String(port), '--pattern', '1', '--frames', '2'];
      const wrong = await runPeer([...common, '--multiserver', '--claim-port', String(port + 1)]);
      assert.equal(wrong.at(-1)?.['replies'], 2, 'the sender still got its replies');
      await runPeer(common);
      assert.equal(frames.length, 0);
      assert.equal(source.health.dropped, 6, 'two frames and the termination of each sender');
      assert.ok(errors.every((e) => e.code === 'FW_ERR_PROTOCOL_VIOLATION'));
      assert.match(errors[0]!.message, new RegExp(`message on port ${port} claims port "${port + 1}"`));
      await runPeer([...common, '--multiserver']);
      await waitUntil(() => frames.length === 2, 'the right port gets through');
      await waitUntil(() => source.health.state === 'starting', 'the termination (with its port) was taken');
    } finally {
      await source.close();
    }
  });

  it('NetGearSource, bidirectional array replies: raw frames, ndarray-likes and JPEGs reach a Python sender as numpy arrays', async () => {
    const jpeg = await redJpeg();
    const gray = Buffer.alloc(24 * 32, 77);
    const replies: unknown[] = [
      { width: 32, height: 24, format: 'BGR24', data: Buffer.alloc(32 * 24 * 3, 9) },
      { shape: [24, 32], dtype: 'uint8', data: gray },
      { codec: 'jpeg', data: jpeg },
      { width: 32, height: 24, format: 'RGBA', data: Buffer.alloc(32 * 24 * 4) },
      { shape: [24, 32, 3], data: gray },
    ];
    const { source, port, frames, errors } = await receiver({
      pattern: 1,
      bidirectional: true,
      returnData: (message) => replies[(message as { n: number }).n % replies.length],
    });
    try {
      const events = await runPeer([
        'sender',
        '--port',
        String(port),
        '--pattern',
        '1',
        '--bidirectional',
        '--frames',
        '5',
      ]);
      const got = events.filter((e) => e['event'] === 'reply').map((e) => e['reply'] as Record<string, unknown>);
      assert.equal(got.length, 5);
      assert.deepEqual(got[0], {
        return_type: 'ndarray',
        compression: false,
        array_dtype: 'uint8',
        array_shape: [24, 32, 3],
        data: { shape: [24, 32, 3], dtype: 'uint8', first: [9, 9, 9], mean: 9 },
      });
      assert.deepEqual((got[1]!['data'] as Record<string, unknown>)['shape'], [24, 32]);
      assert.equal((got[1]!['data'] as Record<string, unknown>)['mean'], 77);
      // cv2.imdecode of the JPEG: BGR, so red is the third channel.
      const decoded = got[2]!['data'] as { shape: number[]; first: number[] };
      assert.deepEqual(decoded.shape, [24, 32, 3]);
      assert.ok(decoded.first[2]! > 200 && decoded.first[0]! < 40, `red: ${JSON.stringify(decoded.first)}`);
      // Invalid array-likes from returnData: the sender still gets its reply (None); the bridge reports the mistake.
      assert.deepEqual(
        [got[3], got[4]],
        [
          { return_type: 'NoneType', data: null },
          { return_type: 'NoneType', data: null },
        ],
      );
      assert.deepEqual(
        errors.map((e) => e.code),
        ['FW_ERR_INVALID_OPTION', 'FW_ERR_INVALID_OPTION'],
      );
      assert.equal(frames.length, 5);
    } finally {
      await source.close();
    }
  });

  it('NetGearSource, NetGear_Async bidirectional array replies travel as msgpack-numpy; a JPEG is refused there', async () => {
    const jpeg = await redJpeg();
    const replies: unknown[] = [
      { shape: [24, 32], data: Buffer.alloc(24 * 32, 5) },
      { codec: 'jpeg', data: jpeg },
      { width: 32, height: 24, format: 'BGR24', data: Buffer.alloc(32 * 24 * 3, 6) },
    ];
    const { source, port, errors } = await receiver({
      pattern: 1,
      async: true,
      bidirectional: true,
      returnData: (message) => replies[(message as { n: number }).n % replies.length],
    });
    try {
      const events = await runPeer([
        'sender',
        '--async',
        '--port',
        String(port),
        '--pattern',
        '1',
        '--bidirectional',
        '--frames',
        '3',
      ]);
      const got = events.filter((e) => e['event'] === 'reply').map((e) => e['reply']);
      assert.deepEqual(got, [
        { return_type: 'ndarray', return_data: { shape: [24, 32], dtype: 'uint8', first: [5, 5, 5], mean: 5 } },
        { return_type: 'NoneType', return_data: null },
        { return_type: 'ndarray', return_data: { shape: [24, 32, 3], dtype: 'uint8', first: [6, 6, 6], mean: 6 } },
      ]);
      assert.deepEqual(
        errors.map((e) => [e.code, e.message.includes('not JPEGs')]),
        [['FW_ERR_INVALID_OPTION', true]],
      );
    } finally {
      await source.close();
    }
  });

  it('NetGearSource, CURVE StoneHouse and IronHouse: authorised clients stream, a foreign key is refused', async () => {
    const keys = await tempDir();
    const foreign = await tempDir();
    try {
      await runPeer(['keys', keys.path]);
      await runPeer(['keys', foreign.path]);
      for (const secureMode of [1, 2] as const) {
        const { source, port, frames } = await receiver({ pattern: 1, secureMode, keysDir: keys.path });
        try {
          await runPeer([
            'sender',
            '--port',
            String(port),
            '--pattern',
            '1',
            '--secure',
            String(secureMode),
            '--keys',
            keys.path,
            '--frames',
            '4',
          ]);
          await waitUntil(() => frames.length === 4, `secure mode ${secureMode} frames`);
        } finally {
          await source.close();
        }
      }
      // IronHouse with a client key that is not in public_keys/: the handshake fails, nothing arrives.
      const { source, port, frames } = await receiver({ pattern: 1, secureMode: 2, keysDir: keys.path });
      try {
        // The foreign client knows the real server key (so only client authorisation can stop it).
        const { cp } = await import('node:fs/promises');
        await cp(join(keys.path, 'public_keys', 'server.key'), join(foreign.path, 'public_keys', 'server.key'));
        const peer = startPeer([
          'sender',
          '--port',
          String(port),
          '--pattern',
          '1',
          '--secure',
          '2',
          '--keys',
          foreign.path,
          '--frames',
          '2',
        ]);
        assert.equal(await peer.exited, 1, 'the sender times out');
        assert.equal(peer.events[0]?.['event'], 'timeout');
        assert.equal(frames.length, 0);
      } finally {
        await source.close();
      }
    } finally {
      await keys.remove();
      await foreign.remove();
    }
  });

  it('NetGearSource, malformed headers, wrong dtype or shape and huge frames are rejected; REQ senders still get replies', async () => {
    const { source, port, frames, errors } = await receiver({ pattern: 1, maxFrameBytes: 1024 * 1024 });
    try {
      for (const bad of ['json', 'dtype', 'shape', 'huge', 'object']) {
        const events = await runPeer([
          'sender',
          '--port',
          String(port),
          '--pattern',
          '1',
          '--frames',
          '2',
          '--bad',
          bad,
        ]);
        assert.equal(events.at(-1)?.['replies'], 2, `${bad}: every frame was answered`);
      }
      assert.equal(frames.length, 0);
      assert.deepEqual([...new Set(errors.map((e) => e.code))].sort(), [
        'FW_ERR_FRAME_TOO_LARGE',
        'FW_ERR_PROTOCOL_VIOLATION',
      ]);
      assert.match(
        errors.map((e) => e.message).join('\n'),
        /header is not JSON[\s\S]*dtype must be uint8[\s\S]*needs \d+ bytes/,
      );
      assert.equal(source.health.dropped, 10);
      await runPeer(['sender', '--port', String(port), '--pattern', '1', '--frames', '3']);
      await waitUntil(() => frames.length === 3, 'a good sender still gets through');
    } finally {
      await source.close();
    }
  });
});

describe('NetGear from the CLI', () => {
  it('framewire-bridge --source netgear://127.0.0.1:<port>?pattern=1 receives a Python sender and serves it', async () => {
    const port = await freePort();
    const bridge = await startCli(
      'packages/node-bridge/bin/framewire-bridge.js',
      ['--port', '0', '--source', `netgear://127.0.0.1:${port}?pattern=1#id=py`],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    try {
      await runPeer(['sender', '--port', String(port), '--pattern', '1', '--frames', '20', '--fps', '20']);
      const health = (await (await fetch(`http://127.0.0.1:${bridge.match[1]}/health`)).json()) as {
        sources: { id: string; kind: string; frames: number }[];
      };
      assert.deepEqual(
        [health.sources[0]?.id, health.sources[0]?.kind, health.sources[0]?.frames],
        ['py', 'netgear', 20],
      );
    } finally {
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });
});

describe('NetGear multi-server mode from the CLI', () => {
  it('netgear://…:<p1>,<p2>?multiserver=1 makes one bridge source per sender port, each with its own frames, health, MJPEG and WebSocket', async () => {
    const ports = [await freePort(), await freePort()];
    const bridge = await startCli(
      'packages/node-bridge/bin/framewire-bridge.js',
      ['--port', '0', '--source', `netgear://127.0.0.1:${ports.join(',')}?pattern=1&multiserver=1#id=cams`],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    const base = `http://127.0.0.1:${bridge.match[1]}`;
    const ids = ports.map((p) => `cams-${p}`);
    // Two senders, each on its own port, each painting its own red value.
    const reds = [30, 220];
    const peers = ports.map((port, i) =>
      startPeer([
        'sender',
        '--multiserver',
        '--port',
        String(port),
        '--pattern',
        '1',
        '--red',
        String(reds[i]),
        '--size',
        '160x120',
        '--frames',
        '100000',
        '--fps',
        '15',
      ]),
    );
    const dir = await tempDir();
    try {
      type Health = { sources: { id: string; kind: string; frames: number; state: string }[] };
      const health = await waitUntil(async () => {
        const h = (await (await fetch(`${base}/health`)).json()) as Health;
        return h.sources.every((s) => s.frames > 0) ? h : undefined;
      }, 'frames on both sources');
      assert.deepEqual(
        health.sources.map((s) => [s.id, s.kind, s.state]),
        ids.map((id) => [id, 'netgear', 'running']),
      );
      for (const [i, id] of ids.entries()) {
        // MJPEG snapshot: ffprobe reads it, and ffmpeg decodes the sender's own colour from it.
        const response = await fetch(`${base}/sources/${id}/snapshot.jpg`);
        assert.equal(response.status, 200);
        const file = join(dir.path, `${id}.jpg`);
        await writeFile(file, Buffer.from(await response.arrayBuffer()));
        const probe = await ffprobe(file);
        assert.deepEqual(
          [probe.streams[0]?.codec_name, probe.streams[0]?.width, probe.streams[0]?.height],
          ['mjpeg', 160, 120],
        );
        const pixels = await decodeBgr(file);
        const redMean = meanOfChannel(pixels, 2);
        assert.ok(Math.abs(redMean - reds[i]!) < 12, `${id}: red ${redMean} is its sender's ${reds[i]}`);
        // WebSocket (H.264): each source streams on its own; ffprobe reads what arrived.
        const viewer = new WsViewer(`${base.replace('http', 'ws')}/sources/${id}/ws`);
        try {
          await viewer.opened;
          const received = await viewer.waitForFrames(5, 60_000);
          const h264 = await writeH264(join(dir.path, `${id}.h264`), received);
          const video = await ffprobe(h264, ['-count_frames']);
          assert.deepEqual([video.streams[0]?.codec_name, video.streams[0]?.width], ['h264', 160]);
        } finally {
          viewer.close();
        }
      }
    } finally {
      for (const peer of peers) peer.kill();
      await dir.remove();
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('netgear:// specs: a port list without multiserver=1, repeated ports and multi-server with PAIR or async are refused', () => {
    for (const spec of [
      'netgear://*:5555,5556?pattern=1',
      'netgear://*:5555,5555?pattern=1&multiserver=1',
      'netgear://*:5555,5556?pattern=0&multiserver=1',
      'netgear://*:5555,5556?pattern=1&multiserver=1&async=1',
      'netgear://*?pattern=1&multiserver=1',
      'netgear://*:5555,?pattern=1&multiserver=1',
    ])
      assert.throws(
        () => netGearSourcesFromSpec(spec),
        (error: FramewireError) => error.code === 'FW_ERR_INVALID_OPTION',
        spec,
      );
    assert.deepEqual(
      netGearSourcesFromSpec('netgear://*:5555,5556?pattern=2&multiserver=1').map((s) => [s.id, s.port]),
      [
        ['netgear-5555', 5555],
        ['netgear-5556', 5556],
      ],
    );
    assert.deepEqual(
      netGearSourcesFromSpec('netgear://*:5557?pattern=1', 'one').map((s) => [s.id, s.endpoints]),
      [['one', ['tcp://*:5557']]],
    );
  });
});

describe('NetGear array replies (wire format)', () => {
  it('parseNetGearReply refuses oversized arrays and JPEGs; netGearReplyParts refuses a JPEG that is not one', async () => {
    const limits = { maxFrameBytes: 1000, maxDimension: 8192 };
    const raw = JSON.stringify({
      return_type: 'ndarray',
      compression: false,
      array_dtype: 'uint8',
      array_shape: [24, 32, 3],
      data: null,
    });
    const jpegHeader = JSON.stringify({
      return_type: 'ndarray',
      compression: { dct: false, ups: false, colorspace: 'BGR' },
      data: null,
    });
    for (const parts of [
      [Buffer.from(raw), Buffer.alloc(24 * 32 * 3)],
      [Buffer.from(jpegHeader), await redJpegOfSize(1001)],
    ])
      assert.throws(
        () => parseNetGearReply(parts, limits),
        (error: FramewireError) => error.code === 'FW_ERR_FRAME_TOO_LARGE',
      );
    assert.deepEqual(parseNetGearReply([Buffer.from('{"return_type":"str","data":"ok"}')], limits), {
      returnType: 'str',
      data: 'ok',
    });
    assert.throws(
      () => netGearReplyParts({ codec: 'jpeg', data: Buffer.from('not a jpeg') }),
      (error: FramewireError) => error.code === 'FW_ERR_INVALID_OPTION',
    );
  });

  it('multi-server sources need ports that differ, at least one, and TCP', () => {
    for (const make of [
      () => netGearMultiServerSources([]),
      () => netGearMultiServerSources([5555, 5555]),
      () => netGearMultiServerSources([5555], { protocol: 'ipc', address: '/tmp/framewire-netgear' }),
    ])
      assert.throws(make, (error: FramewireError) => error.code === 'FW_ERR_INVALID_OPTION');
  });
});

describe('NetGear sender (Python receiver written to the vidgear wire format)', () => {
  for (const [pattern, format] of [
    [0, 'BGR24'],
    [1, 'jpeg'],
  ] as const) {
    it(`NetGearOutput, pattern ${pattern}, ${format}: the bridge's test pattern reaches a Python receiver`, async () => {
      const port = await freePort();
      const peer = startPeer([
        'receiver',
        '--port',
        String(port),
        '--pattern',
        String(pattern),
        '--frames',
        '5',
        ...(pattern === 1 ? ['--bidirectional'] : []),
      ]);
      await waitUntil(() => peer.events.length > 0, 'the receiver listening');
      const bridge = await BridgeServer.start({
        port: 0,
        sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
        websocket: false,
        mjpeg: false,
      });
      const output = new NetGearOutput(bridge.feed('testpattern', format), {
        port,
        pattern,
        bidirectional: pattern === 1,
      });
      const replies: unknown[] = [];
      output.on('reply', ({ data }) => replies.push(data));
      output.setMessage({ from: 'framewire' });
      bridge.attach(output);
      try {
        await output.start();
        assert.equal(await peer.exited, 0, peer.stderr());
        const received = peer.events.filter((e) => e['event'] === 'frame');
        assert.equal(received.length, 5);
        assert.deepEqual(
          [received[0]!['shape'], received[0]!['dtype'], received[0]!['message']],
          [[120, 160, 3], 'uint8', { from: 'framewire' }],
        );
        assert.ok((received[0]!['mean'] as number) > 20, 'a picture, not a blank frame');
        if (pattern === 1) assert.ok(replies.includes('ack 0'));
        assert.match(bridge.metrics, /framewire_output_frames_total\{source="testpattern",output="netgear"\} [5-9]/);
      } finally {
        await bridge.close();
      }
    });
  }

  for (const pattern of [1, 2] as const) {
    it(`NetGearOutput, multi-client mode, pattern ${pattern}: three Python receivers (each binds its port) all get frames from one socket`, async () => {
      const ports = [await freePort(), await freePort(), await freePort()];
      // The receivers run until the output's termination message: one that left after a fixed count would leave
      // REQ's next request to it unanswered (its turn comes round) until the output's timeout.
      const peers = ports.map((port) =>
        startPeer([
          ...['receiver', '--port', String(port), '--pattern', String(pattern), '--frames', '100000'],
          ...(pattern === 1 ? ['--multiclient'] : []),
        ]),
      );
      const framesOf = (peer: (typeof peers)[number]) => peer.events.filter((e) => e['event'] === 'frame');
      await waitUntil(() => peers.every((peer) => peer.events.length > 0), 'the receivers listening');
      const bridge = await BridgeServer.start({
        port: 0,
        sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
        websocket: false,
        mjpeg: false,
      });
      const output = new NetGearOutput(bridge.feed('testpattern', 'jpeg'), {
        multiclientPorts: ports,
        pattern,
        bidirectional: pattern === 1,
      });
      const replies: unknown[] = [];
      output.on('reply', ({ data }) => replies.push(data));
      bridge.attach(output);
      try {
        await output.start();
        assert.equal(output.stats.clients, 3);
        await waitUntil(
          () => peers.every((peer) => framesOf(peer).length >= 4),
          'four frames at every receiver',
          60_000,
        );
        for (const peer of peers) assert.deepEqual(framesOf(peer)[0]!['shape'], [120, 160, 3]);
        // REQ deals the frames out in turn: each receiver acknowledged its own; with PUB every receiver saw each one.
        if (pattern === 1) {
          assert.ok(output.stats.framesSent >= 12, String(output.stats.framesSent));
          assert.ok(replies.includes('ack 3'), JSON.stringify(replies));
        }
        // Closing sends the termination message to every receiver. REQ hands one to each in turn and waits for its
        // answer: they all exit cleanly. PUB's one message is best effort (a subscriber whose one-frame queue is
        // full drops it, as with vidgear), so those receivers are stopped by the test.
        await bridge.close();
        if (pattern === 1) for (const peer of peers) assert.equal(await peer.exited, 0, peer.stderr());
      } finally {
        await bridge.close();
        for (const peer of peers) peer.kill();
      }
    });
  }

  it('NetGearOutput, multi-client mode refuses pattern 0, an empty port list, a port twice and a bad port with FW_ERR_INVALID_OPTION', async () => {
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
      websocket: false,
      mjpeg: false,
    });
    try {
      for (const options of [
        { multiclientPorts: [5555, 5556], pattern: 0 as const },
        { multiclientPorts: [], pattern: 1 as const },
        { multiclientPorts: [5555, 5555], pattern: 2 as const },
        { multiclientPorts: [5555, 70000], pattern: 2 as const },
      ])
        assert.throws(
          () => new NetGearOutput(bridge.feed('testpattern', 'jpeg'), options),
          (error: FramewireError) => error.code === 'FW_ERR_INVALID_OPTION',
          JSON.stringify(options),
        );
    } finally {
      await bridge.close();
    }
  });

  it('NetGearOutput, bidirectional array replies from a Python receiver become frames; malformed ones are protocol violations', async () => {
    const port = await freePort();
    const kinds = ['raw', 'jpeg', 'bad-shape', 'bad-dtype', 'bad-jpeg', 'missing-part', 'bad-json'];
    const peer = startPeer([
      'receiver',
      '--port',
      String(port),
      '--pattern',
      '1',
      '--frames',
      String(kinds.length),
      '--bidirectional',
      '--return-array',
      kinds.join(','),
    ]);
    await waitUntil(() => peer.events.length > 0, 'the receiver listening');
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
      websocket: false,
      mjpeg: false,
    });
    assert.throws(
      () => new NetGearOutput(bridge.feed('testpattern', 'BGR24'), { maxReplyBytes: 0 }),
      (error: FramewireError) => error.code === 'FW_ERR_INVALID_OPTION',
    );
    const output = new NetGearOutput(bridge.feed('testpattern', 'BGR24'), { port, pattern: 1, bidirectional: true });
    const replies: { returnType: string; data: unknown }[] = [];
    const errors: { error: FramewireError; fatal: boolean }[] = [];
    output.on('reply', (reply) => replies.push(reply));
    output.on('error', (payload) => errors.push(payload));
    bridge.attach(output);
    try {
      await output.start();
      assert.equal(await peer.exited, 0, peer.stderr());
      await waitUntil(() => replies.length + errors.length >= kinds.length, 'every reply handled');
      assert.deepEqual(
        replies.slice(0, 2).map((r) => r.returnType),
        ['ndarray', 'ndarray'],
      );
      const raw = replies[0]!.data as SourceFrame;
      assert.ok('format' in raw);
      assert.deepEqual(
        [raw.format, raw.width, raw.height, [...raw.data.subarray(0, 3)]],
        ['BGR24', 32, 24, [0, 100, 50]],
      );
      const compressed = replies[1]!.data as SourceFrame;
      assert.ok('codec' in compressed && compressed.codec === 'jpeg');
      assert.deepEqual(jpegSize(compressed.data), { width: 32, height: 24 });
      // Once the receiver has exited, a later frame may time out (FW_ERR_CONNECTION_FAILED): not a reply problem.
      const replyErrors = errors.filter((e) => e.error.code !== 'FW_ERR_CONNECTION_FAILED');
      assert.deepEqual(
        replyErrors.map((e) => [e.error.code, e.fatal]),
        kinds.slice(2).map(() => ['FW_ERR_PROTOCOL_VIOLATION', false]),
      );
      assert.match(
        replyErrors.map((e) => e.error.message).join('\n'),
        /needs 2376 bytes[\s\S]*dtype must be uint8[\s\S]*not a JPEG[\s\S]*lacks its array part[\s\S]*not JSON/,
      );
    } finally {
      await bridge.close();
    }
  });

  it('NetGearOutput, without a receiver: drops the frame, reconnects, and gives up after maxRetries with a fatal error', async () => {
    const port = await freePort();
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ width: 160, height: 120, frameRate: 10 })],
      websocket: false,
      mjpeg: false,
    });
    const output = new NetGearOutput(bridge.feed('testpattern', 'jpeg'), {
      port,
      pattern: 1,
      requestTimeoutMs: 200,
      maxRetries: 2,
    });
    const errors: { error: FramewireError; fatal: boolean }[] = [];
    output.on('error', (payload) => errors.push(payload));
    bridge.attach(output);
    try {
      await output.start();
      await waitUntil(() => errors.some((e) => e.fatal), 'the fatal error');
      assert.deepEqual(
        errors.map((e) => [e.error.code, e.fatal]),
        [
          ['FW_ERR_CONNECTION_FAILED', false],
          ['FW_ERR_CONNECTION_FAILED', false],
          ['FW_ERR_CONNECTION_FAILED', true],
        ],
      );
    } finally {
      await bridge.close();
    }
  });
});
