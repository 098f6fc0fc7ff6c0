// Recording on the bridge (--record): fragmented MP4 segments of each source's H.264 (passed through) and Opus,
// checked with ffprobe after a SIGKILL of the CLI; the /recordings listing, downloads and ranges; retention;
// triggered mode (pre-roll and post-roll); write failures reported in /health while the stream goes on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  AnnexBSplitter,
  BridgeServer,
  SourceBase,
  createTestPatternSource,
  parseRecordingName,
  type BridgeHealth,
  type RecordingListEntry,
} from '@framewire/node-bridge';
import { WsViewer } from '../helpers/bridge.js';
import { errorCode } from '../helpers/http-error.js';
import { ffprobe, runCli, startCli, tempDir, waitUntil } from '../helpers/node.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';
const TOKEN = 'recording-token-1';
/** Generous: only bounds a hang on a busy machine. */
const DEADLINE_MS = 60_000;

/** A source that sends `units` (H.264 access units), one every 40 ms, on the wall clock, then stops. */
class ReplaySource extends SourceBase {
  #timer: NodeJS.Timeout | undefined;
  readonly #units: { key: boolean; data: Buffer }[];

  constructor(units: { key: boolean; data: Buffer }[]) {
    super('replay', 'test');
    this.#units = units;
  }

  start(): Promise<void> {
    let n = 0;
    this.#timer = setInterval(() => {
      const unit = this.#units[n];
      if (!unit) return;
      this.emitFrame({ codec: 'h264', ...unit, timestampUs: n * 40_000, captureTimeMs: Date.now() });
      n++;
    }, 40);
    return Promise.resolve();
  }

  protected release(): void {
    clearInterval(this.#timer);
  }
}

/** The access units of `seconds` of ffmpeg's test pattern at `size`, 25 fps, a keyframe every 25 frames. */
async function testPatternUnits(dir: string, size: string, seconds: number): Promise<{ key: boolean; data: Buffer }[]> {
  const path = join(dir, `${size}.h264`);
  await promisify(execFile)('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25:duration=${seconds}`],
    ...[
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
      '-profile:v',
      'baseline',
      '-g',
      '25',
      '-bsf:v',
      'dump_extra',
      '-f',
      'h264',
      path,
    ],
  ]);
  const splitter = new AnnexBSplitter();
  return [...splitter.push(await readFile(path)), ...splitter.flush()].map((u) => ({ key: u.key, data: u.data }));
}

/** The video frames, the first frame's key flag and the audio packets ffprobe reads in `target`. */
async function probeRecording(target: string): Promise<{ video: number; audio: number; firstKey: boolean }> {
  const probed = await ffprobe(target, ['-count_frames']);
  const count = (type: string): number =>
    Number(probed.streams.find((s) => s.codec_type === type)?.nb_read_frames ?? 0);
  const first = await ffprobe(target, ['-select_streams', 'v:0', '-show_frames', '-read_intervals', '%+#1']);
  const frames = (first as unknown as { frames?: { key_frame?: number }[] }).frames ?? [];
  return { video: count('video'), audio: count('audio'), firstKey: frames[0]?.key_frame === 1 };
}

async function listing(base: string): Promise<RecordingListEntry[]> {
  const response = await fetch(`${base}/recordings`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { recordings: RecordingListEntry[] }).recordings;
}

describe('bridge recording', () => {
  it('a SIGKILLed CLI leaves every finished segment playable and the current one readable to its last fragment', async () => {
    const dir = await tempDir();
    const recordings = join(dir.path, 'recordings');
    const args = [
      '--port',
      '0',
      '--size',
      '320x240',
      '--fps',
      '15',
      '--audio',
      'tone',
      '--token',
      TOKEN,
      '--record',
      recordings,
      '--record-segment-minutes',
      '0.04',
    ];
    const cli = await startCli(CLI, args, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    try {
      const base = `http://127.0.0.1:${cli.match[1]}`;
      // Two finished segments, and the current one past its first fragments.
      const list = await waitUntil(
        async () => {
          const entries = await listing(base);
          const current = entries.find((e) => e.state === 'recording');
          return entries.filter((e) => e.state === 'finished').length >= 2 && current && current.bytes > 20_000
            ? entries
            : undefined;
        },
        'two finished recordings and a current one with fragments',
        DEADLINE_MS,
      );
      const health = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
      assert.equal(health.recording?.[0]?.state, 'recording');
      assert.equal(health.recording[0].source, 'testpattern');
      const metrics = await (await fetch(`${base}/metrics?token=${TOKEN}`)).text();
      assert.match(metrics, /^framewire_recording_active\{source="testpattern",file="[^"]+\.mp4"\} 1$/m);
      assert.match(metrics, /^framewire_recording_bytes_total\{source="testpattern"\} [1-9]\d*$/m);
      assert.match(metrics, /^framewire_recording_files_total\{source="testpattern"\} [1-9]\d*$/m);
      assert.equal(await cli.stop('SIGKILL'), null);

      const index = JSON.parse(await readFile(join(recordings, 'index.json'), 'utf8')) as {
        recordings: { name: string }[];
      };
      const finished = list.filter((e) => e.state === 'finished');
      for (const entry of finished)
        assert.ok(
          index.recordings.some((r) => r.name === entry.name),
          entry.name,
        );
      for (const entry of list) {
        const parsed = parseRecordingName(entry.name);
        assert.equal(parsed?.sourceId, 'testpattern');
        assert.ok(Math.abs(parsed.startMs - entry.startMs) < 1, 'the name carries the start time');
        const probed = await probeRecording(join(recordings, entry.name));
        assert.ok(probed.firstKey, `${entry.name} starts with a keyframe`);
        assert.ok(probed.video >= 10, `${entry.name}: ${probed.video} video frames`);
        assert.ok(probed.audio >= 10, `${entry.name}: ${probed.audio} Opus packets`);
      }
      const probed = await ffprobe(join(recordings, finished[0]?.name ?? ''));
      assert.deepEqual(probed.streams.map((s) => s.codec_name).sort(), ['h264', 'opus']);
      assert.match(probed.format.format_name, /mp4/);

      // A bridge started again on the directory lists the file that was being written, marked interrupted.
      const again = await startCli(CLI, args, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
      try {
        const relisted = await listing(`http://127.0.0.1:${again.match[1]}`);
        const killed = list.find((e) => e.state === 'recording');
        const adopted = relisted.find((e) => e.name === killed?.name);
        assert.equal(adopted?.state, 'finished');
        assert.equal(adopted.interrupted, true);
      } finally {
        await again.stop();
      }
    } finally {
      await cli.stop('SIGKILL');
      await dir.remove();
    }
  });

  it('serves the listing and files with the token, byte ranges, and refuses bad names with typed errors', async () => {
    const dir = await tempDir();
    const source = createTestPatternSource({ width: 160, height: 120, frameRate: 15, codec: 'h264' });
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      token: TOKEN,
      record: { dir: dir.path, segmentMinutes: 0.03 },
    });
    try {
      const base = `http://127.0.0.1:${bridge.port}`;
      const auth = { authorization: `Bearer ${TOKEN}` };
      const list = await waitUntil(
        async () => {
          const entries = await listing(base);
          return entries.some((e) => e.state === 'finished') ? entries : undefined;
        },
        'a finished recording',
        DEADLINE_MS,
      );
      assert.equal(bridge.feed('testpattern', 'h264').stats.transcoding, false, 'H.264 is passed through');
      const entry = list.find((e) => e.state === 'finished');
      assert.ok(entry);
      assert.equal(entry.url, `/recordings/${entry.name}`);
      assert.ok(list[0] && list[0].startMs >= entry.startMs, 'newest first');

      const unauthorized = await fetch(`${base}/recordings`);
      assert.equal(unauthorized.status, 401);
      assert.equal(errorCode(await unauthorized.text()), 'FW_ERR_UNAUTHORIZED');
      assert.equal((await fetch(`${base}${entry.url}`)).status, 401);

      const whole = await fetch(`${base}${entry.url}`, { headers: auth });
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get('content-type'), 'video/mp4');
      assert.equal(whole.headers.get('accept-ranges'), 'bytes');
      const bytes = Buffer.from(await whole.arrayBuffer());
      assert.equal(bytes.length, entry.bytes);
      assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');

      const ranged = await fetch(`${base}${entry.url}`, { headers: { ...auth, range: 'bytes=100-199' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), `bytes 100-199/${entry.bytes}`);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(100, 200));

      // ffprobe reads it over HTTP (ranges), with the token in the query.
      const overHttp = await probeRecording(`${base}${entry.url}?token=${TOKEN}`);
      assert.ok(overHttp.firstKey && overHttp.video > 0);

      for (const bad of ['index.json', '..%2Findex.json', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'x%00.mp4', 'a%2Fb.mp4']) {
        const refused = await fetch(`${base}/recordings/${bad}`, { headers: auth });
        assert.equal(refused.status, 400, bad);
        assert.equal(errorCode(await refused.text()), 'FW_ERR_PATH_INVALID', bad);
      }
      const missing = await fetch(`${base}/recordings/20200101T000000000Z_testpattern.mp4`, { headers: auth });
      assert.equal(missing.status, 404);
      assert.equal(errorCode(await missing.text()), 'FW_ERR_NOT_FOUND');
      const post = await fetch(`${base}/recordings`, { method: 'POST', headers: auth });
      assert.equal(post.status, 405);
    } finally {
      await bridge.close();
      await dir.remove();
    }
  });

  it('retention deletes the oldest finished files by age and by total size, never the file being written', async () => {
    const dir = await tempDir();
    // Recordings left by an earlier run: one past maxAgeHours (deleted at start), one within it (deleted for size).
    const stale = '20200101T000000000Z_testpattern.mp4';
    const old = '20200102T000000000Z_testpattern.mp4';
    // Each holds a movie fragment, as a recording cut after its first second does (one without is removed).
    const fragmented = (bytes: number): Buffer => {
      const file = Buffer.alloc(bytes);
      file.writeUInt32BE(bytes, 0);
      file.write('moof', 4, 'latin1');
      return file;
    };
    await writeFile(join(dir.path, stale), fragmented(1000));
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(dir.path, stale), twoHoursAgo, twoHoursAgo);
    await writeFile(join(dir.path, old), fragmented(50_000));
    const source = createTestPatternSource({ width: 160, height: 120, frameRate: 15, codec: 'h264' });
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      record: { dir: dir.path, segmentMinutes: 0.02, maxBytes: 120_000, maxAgeHours: 1 },
    });
    try {
      const recordings = bridge.recordings;
      assert.ok(recordings);
      assert.ok(!existsSync(join(dir.path, stale)), 'the file past maxAgeHours is deleted at start');
      assert.ok(existsSync(join(dir.path, old)), 'the one within maxAgeHours is kept while there is room');
      await waitUntil(() => recordings.store.deleted >= 3, 'two deletions for size', DEADLINE_MS);
      assert.ok(!recordings.store.finished.some((f) => f.name === old), 'the oldest went first');
      assert.ok(!existsSync(join(dir.path, old)));
      const index = JSON.parse(await readFile(join(dir.path, 'index.json'), 'utf8')) as {
        recordings: { name: string }[];
      };
      assert.ok(!index.recordings.some((r) => r.name === old || r.name === stale), 'the index no longer lists them');
      for (const f of recordings.store.finished) assert.ok(existsSync(join(dir.path, f.name)), f.name);
      // Each deletion happens while a file is being written: that one is still there.
      const active = recordings.recorder('testpattern')?.activeFile;
      if (active) assert.ok(existsSync(join(dir.path, active.name)), active.name);
      const finishedBytes = recordings.store.finished.reduce((sum, f) => sum + f.bytes, 0);
      assert.ok(finishedBytes <= 120_000, `${finishedBytes} bytes kept`);
    } finally {
      await bridge.close();
      await dir.remove();
    }
  });

  it('triggered mode writes the pre-roll from a keyframe, then live, and ends the post-roll after the trigger', async () => {
    const dir = await tempDir();
    const source = createTestPatternSource({
      width: 160,
      height: 120,
      frameRate: 15,
      codec: 'h264',
      h264: { keyframeIntervalFrames: 15 },
    });
    const preRollSeconds = 2;
    const postRollSeconds = 2;
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [source],
      record: { dir: dir.path, mode: 'triggered', preRollSeconds, postRollSeconds },
    });
    try {
      const recorder = bridge.recordings?.recorder('testpattern');
      assert.ok(recorder);
      const startedAt = Date.now();
      // Enough frames for a full pre-roll (the source's capture clock is the wall clock).
      await waitUntil(
        () => Date.now() - startedAt > 4000 && source.health.frames > 45,
        'four seconds of video',
        DEADLINE_MS,
      );
      assert.equal(recorder.health.state, 'waiting');
      assert.equal(bridge.recordings?.store.finished.length, 0, 'nothing written before a trigger');
      const triggeredAt = Date.now();
      recorder.setTriggered(true);
      await waitUntil(() => recorder.health.state === 'recording', 'recording', DEADLINE_MS);
      await waitUntil(() => Date.now() - triggeredAt > 1500, 'a second and a half of event', DEADLINE_MS);
      const endedAt = Date.now();
      recorder.setTriggered(false);
      await waitUntil(() => bridge.recordings?.store.finished.length === 1, 'the file closed', DEADLINE_MS);
      assert.equal(recorder.health.state, 'waiting');
      const file = bridge.recordings.store.finished[0];
      assert.ok(file);
      assert.ok(
        file.startMs <= triggeredAt - preRollSeconds * 1000,
        `first frame ${triggeredAt - file.startMs} ms before the trigger`,
      );
      assert.ok(file.endMs >= endedAt + postRollSeconds * 1000, `last frame ${file.endMs - endedAt} ms after the end`);
      assert.ok(
        file.endMs <= endedAt + postRollSeconds * 1000 + 3000,
        `last frame ${file.endMs - endedAt} ms after the end`,
      );
      const probed = await probeRecording(join(dir.path, file.name));
      assert.ok(probed.firstKey, 'starts with a keyframe');
      assert.ok(probed.video >= 15 * (preRollSeconds + postRollSeconds), `${probed.video} frames`);
    } finally {
      await bridge.close();
      await dir.remove();
    }
  });

  it('an unwritable directory or a full budget shows FW_ERR_WRITE_FAILED in /health while the stream goes on', async () => {
    const dir = await tempDir();
    const file = join(dir.path, 'a-file');
    await writeFile(file, 'not a directory');
    for (const record of [
      { dir: join(file, 'recordings') },
      { dir: join(dir.path, 'tiny'), maxBytes: 2000, segmentMinutes: 0.02 },
    ]) {
      const source = createTestPatternSource({ width: 160, height: 120, frameRate: 15, codec: 'h264' });
      const bridge = await BridgeServer.start({ port: 0, sources: [source], record });
      const viewer = new WsViewer(`ws://127.0.0.1:${bridge.port}/ws`);
      try {
        const health = await waitUntil(
          async () => {
            const h = (await (await fetch(`http://127.0.0.1:${bridge.port}/health`)).json()) as BridgeHealth;
            return h.recording?.[0]?.state === 'error' ? h : undefined;
          },
          `a recording error for ${record.dir}`,
          DEADLINE_MS,
        );
        assert.equal(health.recording?.[0]?.error?.code, 'FW_ERR_WRITE_FAILED');
        assert.equal(health.status, 'degraded');
        // The stream goes on.
        await viewer.waitForFrames(5);
        assert.equal(source.health.state, 'running');
        const metrics = bridge.metrics;
        assert.match(metrics, /^framewire_recording_error\{source="testpattern"\} 1$/m);
      } finally {
        viewer.close();
        await bridge.close();
      }
    }
    await dir.remove();
  });

  it('a source that comes back at another size starts a new file (one decoder configuration per file)', async () => {
    const dir = await tempDir();
    const units = [
      ...(await testPatternUnits(dir.path, '320x240', 2)),
      ...(await testPatternUnits(dir.path, '160x120', 2)),
    ];
    const recordingsDir = join(dir.path, 'recordings');
    const bridge = await BridgeServer.start({
      port: 0,
      sources: [new ReplaySource(units)],
      mjpeg: false,
      record: { dir: recordingsDir },
    });
    try {
      const recordings = bridge.recordings;
      assert.ok(recordings);
      await waitUntil(() => recordings.store.finished.length === 1, 'the first file finished', DEADLINE_MS);
      const replay = bridge.sources[0];
      assert.ok(replay);
      await waitUntil(() => replay.health.frames >= units.length, 'every access unit sent', DEADLINE_MS);
      await bridge.close();
      const files = recordings.store.finished.map((f) => f.name);
      assert.equal(files.length, 2);
      const sizes = [];
      for (const name of files) {
        const probed = await ffprobe(join(recordingsDir, name), ['-count_frames']);
        const video = probed.streams.find((s) => s.codec_type === 'video');
        sizes.push(`${video?.width}x${video?.height}:${video?.nb_read_frames}`);
      }
      assert.deepEqual(sizes, ['320x240:50', '160x120:50']);
    } finally {
      await bridge.close();
      await dir.remove();
    }
  });

  it('refuses bad recording options with FW_ERR_INVALID_OPTION', async () => {
    const source = createTestPatternSource({ width: 160, height: 120 });
    for (const record of [
      { dir: '' },
      { dir: '/tmp/x', segmentMinutes: 0 },
      { dir: '/tmp/x', maxBytes: -1 },
      { dir: '/tmp/x', mode: 'sometimes' as 'triggered' },
      { dir: '/tmp/x', preRollSeconds: Number.NaN },
    ]) {
      await assert.rejects(BridgeServer.start({ port: 0, sources: [source], record }), {
        code: 'FW_ERR_INVALID_OPTION',
      });
    }
    for (const args of [
      ['--record-on', 'motion'],
      ['--record', '/tmp/x', '--record-on', 'sometimes'],
      ['--record', '/tmp/x', '--record-segment-minutes', 'ten'],
    ]) {
      const result = await runCli(CLI, ['--port', '0', ...args]);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, /FW_ERR_INVALID_OPTION/, args.join(' '));
    }
  });
});
