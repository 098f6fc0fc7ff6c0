import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BridgeServer,
  NetGearOutput,
  NetGearSource,
  createTestPatternSource,
  jpegSize,
  type FramewireError,
  type NetGearSourceOptions,
  type SourceFrame,
} from '@framewire/node-bridge';
import { tempDir, waitUntil } from '../helpers/node.js';
import { freePort, runPeer, startPeer } from '../helpers/python.js';

/** Starts a NetGear receiver on a free port and collects its frames and errors. */
async function receiver(options: NetGearSourceOptions = {}): Promise<{
  source: NetGearSource;
  port: number;
  frames: SourceFrame[];
  errors: FramewireError[];
}> {
  const port = options.ports?.[0] ?? (await freePort());
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

  it('NetGearSource, multi-server mode binds a port per sender and takes frames from both', async () => {
    const ports = [await freePort(), await freePort()];
    const { source, frames } = await receiver({ ports, pattern: 1 });
    try {
      await Promise.all(
        ports.map((port) =>
          runPeer([
            'sender',
            '--multiserver',
            '--port',
            String(port),
            '--pattern',
            '1',
            '--frames',
            '5',
            '--fps',
            '30',
          ]),
        ),
      );
      await waitUntil(() => frames.length === 10, 'ten frames');
      assert.deepEqual(
        source.endpoints,
        ports.map((p) => `tcp://127.0.0.1:${p}`),
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
    const { startCli } = await import('../helpers/node.js');
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
