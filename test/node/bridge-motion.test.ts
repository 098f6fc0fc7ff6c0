// Motion detection on the bridge, end to end through the CLI: a clip made here with ffmpeg that is still, then moves
// (only its left half), then is still again, served as a file: source. The events must arrive on GET /events
// (Server-Sent Events, behind the token), on a webhook server on 127.0.0.1 and on a real mosquitto; a mask over the
// moving half must suppress them; a dead webhook must show as FW_ERR_WEBHOOK_FAILED in /health while the stream
// goes on; bad motion options must exit with FW_ERR_INVALID_OPTION and a message that names the flag.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import {
  BridgeServer,
  createTestPatternSource,
  type BridgeHealth,
  type BridgeMotionEvent,
  type MotionOptions,
} from '@framewire/node-bridge';
import { startMosquitto } from '../helpers/mosquitto.js';
import { ffprobe, runCli, startCli, startServer, tempDir, waitUntil } from '../helpers/node.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const TOKEN = 'motion-test-token';
const run = promisify(execFile);

/** 2 s still, 3 s of motion in the left half only, 6 s still (320×180, 15 fps, H.264 without B-frames). */
async function makeStillMovingStillClip(path: string): Promise<string> {
  const still = (seconds: number, width: number): string =>
    `color=c=0x808080:size=${width}x180:rate=15:duration=${seconds}`;
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...['-f', 'lavfi', '-i', still(2, 320)],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=160x180:rate=15:duration=3'],
    ...['-f', 'lavfi', '-i', still(3, 160)],
    ...['-f', 'lavfi', '-i', still(6, 320)],
    '-filter_complex',
    '[1][2]hstack[moving];[0][moving][3]concat=n=3:v=1:a=0',
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '15', '-pix_fmt', 'yuv420p'],
    path,
  ]);
  return path;
}

/** A Server-Sent Events reader of the bridge's `/events`. */
class EventStream {
  readonly events: BridgeMotionEvent[] = [];
  readonly response: Promise<IncomingMessage>;
  #buffer = '';

  constructor(url: string) {
    this.response = new Promise((resolve, reject) => {
      const request = get(url, (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => this.#parse(chunk));
        resolve(response);
      });
      request.on('error', reject);
    });
  }

  #parse(chunk: string): void {
    this.#buffer += chunk;
    let end;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const name = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (name && data) {
        const event = JSON.parse(data) as BridgeMotionEvent;
        assert.equal(event.type, name, 'the SSE event name is the event type');
        this.events.push(event);
      }
    }
  }

  async close(): Promise<void> {
    (await this.response).destroy();
  }
}

const types = (events: readonly BridgeMotionEvent[]): string[] => events.map((e) => e.type);

describe('framewire-bridge --motion', () => {
  let clip = '';
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
    clip = await makeStillMovingStillClip(join(dir.path, 'still-moving-still.mp4'));
  });
  after(async () => {
    await dir.remove();
  });

  it('framewire-bridge --motion --motion-webhook --mqtt-url, sends motion-start then motion-end to /events, the webhook and MQTT', async () => {
    const broker = await startMosquitto();
    const hooked: BridgeMotionEvent[] = [];
    const webhook = await startServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        assert.equal(request.method, 'POST');
        assert.match(request.headers['content-type'] ?? '', /application\/json/);
        hooked.push(JSON.parse(body) as BridgeMotionEvent);
        response.end();
      });
    });
    const subscriber = await connectAsync(broker.url);
    const published: { topic: string; event: BridgeMotionEvent }[] = [];
    subscriber.on('message', (topic, payload) =>
      published.push({ topic, event: JSON.parse(payload.toString()) as BridgeMotionEvent }),
    );
    await subscriber.subscribeAsync('cams/+/motion', { qos: 1 });
    const bridge = await startCli(
      BRIDGE,
      [
        '--port',
        '0',
        '--token',
        TOKEN,
        '--source',
        `file:${clip}#id=yard`,
        '--motion',
        '--motion-end-seconds',
        '1',
        '--motion-webhook',
        `${webhook.url}/hook`,
        '--mqtt-url',
        broker.url,
        '--mqtt-topic-prefix',
        'cams',
      ],
      LISTENING,
    );
    const base = `http://127.0.0.1:${bridge.match[1]}`;
    const refused = await fetch(`${base}/events`);
    assert.equal(refused.status, 401, 'the event stream needs the token');
    await refused.body?.cancel();
    const stream = new EventStream(`${base}/events?token=${TOKEN}`);
    try {
      const response = await stream.response;
      assert.equal(response.statusCode, 200);
      assert.match(response.headers['content-type'] ?? '', /^text\/event-stream/);
      await waitUntil(() => stream.events.length >= 2, 'motion-start and motion-end on /events', 60_000);
      const [start, end] = stream.events;
      assert.deepEqual(types(stream.events.slice(0, 2)), ['motion-start', 'motion-end']);
      assert.ok(start && end);
      assert.equal(start.source, 'yard');
      assert.ok(start.area >= 0.01 && start.score > 0);
      assert.ok(start.box && start.box.x < 0.5, `the change is in the left half: ${JSON.stringify(start.box)}`);
      assert.ok(end.box && end.box.x + end.box.width <= 0.55, `nothing moved on the right: ${JSON.stringify(end.box)}`);
      assert.equal(end.startedAtMs, start.timeMs);
      assert.ok(end.timeMs - start.timeMs >= 1000, 'the event lasts at least the quiet time');

      await waitUntil(() => hooked.length >= 2, 'both events at the webhook', 60_000);
      assert.deepEqual(hooked.slice(0, 2), [start, end], 'the webhook receives the same events, in order');
      await waitUntil(() => published.length >= 2, 'both events on MQTT', 60_000);
      assert.deepEqual(
        published.slice(0, 2).map((p) => p.topic),
        ['cams/yard/motion', 'cams/yard/motion'],
      );
      assert.deepEqual(
        published.slice(0, 2).map((p) => p.event),
        [start, end],
      );

      const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      assert.match(metrics, /^framewire_motion_events_total\{source="yard"\} [1-9]/m);
      assert.match(metrics, /^framewire_motion_active\{source="yard"\} [01]$/m);
      assert.match(metrics, /^framewire_motion_webhook_delivered_total [1-9]/m);
      const health = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
      assert.equal(health.status, 'ok');
      assert.equal(health.motion?.sources[0]?.source, 'yard');
      assert.equal(health.motion.webhook?.error, undefined);
    } finally {
      await stream.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
      await subscriber.endAsync();
      await webhook.close();
      await broker.close();
    }
  });

  it('framewire-bridge --record-on motion, records around the motion: one file from the keyframe before the pre-roll to the post-roll after the end', async () => {
    const recordings = await tempDir();
    const bridge = await startCli(
      BRIDGE,
      [
        '--port',
        '0',
        '--source',
        `file:${clip}#id=yard`,
        ...['--record', recordings.path, '--record-on', 'motion'],
        ...['--record-pre-roll', '1', '--record-post-roll', '1'],
      ],
      LISTENING,
    );
    const base = `http://127.0.0.1:${bridge.match[1]}`;
    const stream = new EventStream(`${base}/events`);
    try {
      await stream.response;
      const end = await waitUntil(() => stream.events.find((e) => e.type === 'motion-end'), 'motion-end', 60_000);
      const start = stream.events.find((e) => e.type === 'motion-start');
      assert.ok(start, 'motion-start came first');
      type Listing = { recordings: { name: string; state: string; startMs: number; endMs: number; url: string }[] };
      const finished = await waitUntil(
        async () => {
          const listing = (await (await fetch(`${base}/recordings`)).json()) as Listing;
          return listing.recordings.find((r) => r.state === 'finished');
        },
        'the motion recording to be finished (after its post-roll)',
        60_000,
      );
      // It starts at least the pre-roll before the motion (at the keyframe before it) and ends after the motion did.
      assert.ok(finished.startMs <= start.timeMs - 1000, `starts ${start.timeMs - finished.startMs} ms before motion`);
      assert.ok(finished.endMs >= end.timeMs, `ends ${finished.endMs - end.timeMs} ms after the motion's end`);
      const probed = await ffprobe(`${base}${finished.url}`, ['-count_frames']);
      const video = probed.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, 'h264');
      // The clip's motion lasts 3 s at 15 fps: the file holds it, and the rolls around it.
      assert.ok(Number(video.nb_read_frames) >= 45, `${video.nb_read_frames} frames`);
    } finally {
      await stream.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
      await recordings.remove();
    }
  });

  it('framewire-bridge --motion-mask over the moving half, reports no motion for the whole clip', async () => {
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--source', `file:${clip}#id=yard`, '--motion', '--motion-mask', '0,0,0.5,1'],
      LISTENING,
    );
    const base = `http://127.0.0.1:${bridge.match[1]}`;
    const stream = new EventStream(`${base}/events`);
    try {
      await stream.response;
      // The clip played through once (the file source starts it again at its end) and was compared all along.
      await waitUntil(
        async () => {
          const health = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
          return (health.sources[0]?.restarts ?? 0) >= 1;
        },
        'the whole clip played',
        60_000,
      );
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const samples = Number(/^framewire_motion_samples_total\{source="yard"\} (\d+)$/m.exec(metrics)?.[1]);
      assert.ok(samples >= 20, `the gray frames were compared (${samples} samples)`);
      assert.match(metrics, /^framewire_motion_events_total\{source="yard"\} 0$/m);
      assert.deepEqual(stream.events, []);
    } finally {
      await stream.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('framewire-bridge --motion-webhook to a dead server, shows FW_ERR_WEBHOOK_FAILED in /health while the stream goes on', async () => {
    const dead = await startServer((_request, response) => response.end());
    await dead.close();
    const bridge = await startCli(
      BRIDGE,
      [
        ...['--port', '0', '--source', `file:${clip}#id=yard`, '--motion', '--motion-end-seconds', '1'],
        ...['--motion-webhook', `${dead.url}/hook`],
      ],
      LISTENING,
    );
    const base = `http://127.0.0.1:${bridge.match[1]}`;
    const stream = new EventStream(`${base}/events`);
    try {
      const health = await waitUntil(
        async () => {
          const body = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
          return body.motion?.webhook?.error ? body : undefined;
        },
        'the webhook failure in /health',
        60_000,
      );
      assert.equal(health.status, 'degraded');
      assert.equal(health.motion?.webhook?.error?.code, 'FW_ERR_WEBHOOK_FAILED');
      assert.match(health.motion.webhook.error.message, /motion-start of yard not delivered after 4 attempts/);
      assert.ok(
        stream.events.some((e) => e.type === 'motion-start'),
        'the event still reached /events',
      );
      const frames = health.sources[0]?.frames ?? 0;
      await waitUntil(
        async () => {
          const body = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
          return (body.sources[0]?.frames ?? 0) > frames + 15;
        },
        'frames after the failure',
        60_000,
      );
      const snapshot = await fetch(`${base}/snapshot.jpg`);
      assert.equal(snapshot.status, 200);
      assert.deepEqual([...new Uint8Array(await snapshot.arrayBuffer()).slice(0, 2)], [0xff, 0xd8]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^framewire_motion_webhook_failures_total [1-9]/m);
    } finally {
      await stream.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('framewire-bridge, bad motion options exit 2 with FW_ERR_INVALID_OPTION naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--motion', '--motion-threshold', '300'], /--motion-threshold must be an integer in 1\.\.255; got 300/],
      [['--motion', '--motion-threshold', '0'], /--motion-threshold must be an integer in 1\.\.255; got 0/],
      [['--motion', '--motion-min-area', '2'], /--motion-min-area must be a fraction in \(0, 1\]; got 2/],
      [['--motion', '--motion-mask', '0,0,1'], /--motion-mask must be x,y,w,h or watch:x,y,w,h .*; got 0,0,1/],
      [['--motion', '--motion-mask', '0.6,0,0.6,1'], /--motion-mask .*; got 0\.6,0,0\.6,1/],
      [
        ['--motion', '--motion-webhook', 'not-a-url'],
        /--motion-webhook must be an http:\/\/ or https:\/\/ URL; got not-a-url/,
      ],
      [
        ['--motion', '--motion-webhook', 'ftp://127.0.0.1/x'],
        /--motion-webhook must be an http:\/\/ or https:\/\/ URL/,
      ],
      [['--motion', '--motion-size', 'small'], /--motion-size must look like 160x90/],
      [['--motion-threshold', '30'], /--motion-threshold needs --motion/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(BRIDGE, ['--port', '0', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^framewire-bridge: FW_ERR_INVALID_OPTION: /);
      assert.match(result.stderr, message);
    }
  });

  it('BridgeServer.start({ motion }), emits start on bridge.motion for a moving test pattern; bad motion options reject', async () => {
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [createTestPatternSource({ id: 'pattern', width: 320, height: 180, frameRate: 15 })],
      motion: { minArea: 0.01 },
    });
    try {
      assert.ok(bridge.motion);
      const start = await new Promise<BridgeMotionEvent>((resolve) => bridge.motion?.on('start', resolve));
      assert.equal(start.type, 'motion-start');
      assert.equal(start.source, 'pattern');
      assert.equal(bridge.motion.detector('pattern')?.active, true);
    } finally {
      await bridge.close();
    }
    const invalid = (pattern: RegExp) => (error: unknown) =>
      (error as { code?: string }).code === 'FW_ERR_INVALID_OPTION' && pattern.test((error as Error).message);
    for (const [motion, pattern] of [
      [{ threshold: 300 }, /motion\.threshold must be an integer in 1\.\.255; got 300/],
      [{ sources: ['nope'] }, /motion\.sources: no source with id nope/],
      [{ webhookUrl: 'mailto:someone@example.org' }, /motion\.webhookUrl must be an http/],
    ] satisfies [MotionOptions, RegExp][])
      await assert.rejects(
        BridgeServer.start({ port: 0, sources: [createTestPatternSource({ width: 160, height: 90 })], motion }),
        invalid(pattern),
      );
  });
});
