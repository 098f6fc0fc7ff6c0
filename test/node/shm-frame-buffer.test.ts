import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { existsSync, openSync, closeSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ShmFrameBuffer, ShmFrameReader, SHM_LAYOUT, type RawFrame } from '@framewire/node-bridge';
import { FramewireError } from '@framewire/core';
import { tempDir } from '../helpers/node.js';

const PYTHON = process.env['PYTHON'] ?? '/usr/bin/python3';
const CHECK = 'test/helpers/shm_check.py';

/** A BGR24 frame whose every pixel encodes `id` (see test/helpers/shm_check.py). */
function patternFrame(id: number, width: number, height: number): RawFrame {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0, i = 0; y < height; y++)
    for (let x = 0; x < width; x++, i += 3) {
      data[i] = (x + id) & 255;
      data[i + 1] = (y + id) & 255;
      data[i + 2] = id & 255;
    }
  return { width, height, format: 'BGR24', data, captureTimeMs: Date.now() };
}

/** One JSON line of test/helpers/shm_check.py. */
interface Line {
  ready?: boolean;
  timeout?: boolean;
  status?: string;
  frame?: boolean;
  id?: number;
  width?: number;
  height?: number;
  format?: string;
  ok?: boolean;
  reads?: number;
  torn?: number;
  distinct?: number;
  holding?: number;
  first_ok?: boolean;
  valid_after?: boolean;
  latest_id?: number;
  latest_ok?: boolean;
  error?: string;
  sha256?: string;
  capture_time_ms?: number;
}

/** Runs the Python checker; resolves with its JSON lines once it exits. */
function python(args: string[], onLine?: (line: Line, stdin: Writable) => void): Promise<Line[]> {
  const child = spawn(PYTHON, [CHECK, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  const lines: Line[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = JSON.parse(stdout.slice(0, newline)) as Line;
      stdout = stdout.slice(newline + 1);
      lines.push(line);
      onLine?.(line, child.stdin);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(lines) : reject(new Error(`python exited ${code}: ${stderr}`))));
  });
}

describe('ShmFrameBuffer', () => {
  let dir: { path: string; remove(): Promise<void> };
  let n = 0;
  const fresh = (): string => join(dir.path, `buffer-${++n}`);
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it('ShmFrameBuffer, lives in /dev/shm by name, header says "no frame yet" until the first frame, unlinks on close', () => {
    const buffer = new ShmFrameBuffer({ name: `framewire-test-${process.pid}` });
    try {
      assert.equal(buffer.path, `/dev/shm/framewire-test-${process.pid}`);
      const reader = new ShmFrameReader({ path: buffer.path });
      assert.equal(reader.status(), 'empty');
      assert.equal(reader.read(), null);
      buffer.write(patternFrame(1, 32, 16));
      const frame = reader.read();
      assert.ok(frame);
      assert.equal(frame.frameId, 1);
      assert.deepEqual([frame.width, frame.height, frame.format], [32, 16, 'BGR24']);
      assert.ok(frame.data.equals(patternFrame(1, 32, 16).data));
      assert.equal(reader.status(), 'live');
      reader.close();
    } finally {
      buffer.close();
      buffer.close();
    }
    assert.equal(existsSync(buffer.path), false);
  });

  it('ShmFrameBuffer, Python (numpy) reads the right pixels, the reader started before the writer', async () => {
    const path = fresh();
    assert.deepEqual((await python(['status', path]))[0], { status: 'missing', frame: false });
    // Each write waits for the reader to report the previous one (a reader that saw only the newest of two
    // quick writes would be right too, but would not report three frames).
    let reported!: () => void;
    let next = new Promise<void>((resolve) => (reported = resolve));
    const following = python(['follow', path, '3'], (line) => {
      if (line.ready || line.id !== undefined) reported();
    });
    await next; // the reader is ready (and saw no buffer)
    const buffer = new ShmFrameBuffer({ path });
    try {
      for (let id = 1; id <= 3; id++) {
        next = new Promise<void>((resolve) => (reported = resolve));
        buffer.write(patternFrame(id, 64, 48));
        await next;
      }
      const lines = await following;
      assert.equal(lines[0]!.status, 'missing');
      assert.deepEqual(
        lines.slice(1).map((l) => [l.id, l.width, l.height, l.ok]),
        [
          [1, 64, 48, true],
          [2, 64, 48, true],
          [3, 64, 48, true],
        ],
      );
    } finally {
      buffer.close();
    }
  });

  it('ShmFrameBuffer, a Python reader hammering a fast writer never sees a torn frame', async () => {
    const path = fresh();
    const buffer = new ShmFrameBuffer({ path });
    // The pattern depends on the id modulo 256 only: precompute those frames (the buffer numbers frames 1, 2, …).
    const frames = Array.from({ length: 256 }, (_, i) => patternFrame(i, 160, 120));
    let id = 0;
    const state = { writing: true };
    const writer = (async () => {
      while (state.writing) {
        for (let i = 0; i < 20; i++) buffer.write(frames[++id & 255]!);
        await yieldToLoop();
      }
    })();
    try {
      // Until 2000 reads of 50 distinct frames, however long that takes here.
      const [result] = await python(['hammer', path, '2000', '50']);
      state.writing = false;
      await writer;
      assert.equal(result!.torn, 0, JSON.stringify(result));
      assert.ok(result!.reads! >= 2000, JSON.stringify(result));
      assert.ok(result!.distinct! >= 50, JSON.stringify(result));
      assert.equal(buffer.frameCount, id);
    } finally {
      state.writing = false;
      buffer.close();
    }
  });

  it('ShmFrameBuffer, a writer restart with another size and a frame growing in place are followed by the reader', async () => {
    const path = fresh();
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const seen: Line[] = [];
    let next!: () => void;
    let arrived = new Promise<void>((resolve) => (next = resolve));
    const following = python(['follow', path, '4'], (line) => {
      if (line.ready) ready();
      else {
        seen.push(line);
        next();
      }
    });
    await started;
    const waitSeen = async (count: number): Promise<void> => {
      while (seen.length < count) {
        await arrived;
        arrived = new Promise<void>((resolve) => (next = resolve));
      }
    };
    const first = new ShmFrameBuffer({ path });
    first.write(patternFrame(1, 64, 48));
    await waitSeen(1);
    first.write(patternFrame(2, 128, 96)); // larger than the capacity: a new file replaces the old one
    await waitSeen(2);
    first.close();
    const second = new ShmFrameBuffer({ path });
    try {
      second.write(patternFrame(1, 32, 24)); // a new writer starts its ids at 1 again
      await waitSeen(3);
      second.write(patternFrame(2, 96, 64));
      await following;
      assert.deepEqual(
        seen.map((l) => [l.id, l.width, l.height, l.ok]),
        [
          [1, 64, 48, true],
          [2, 128, 96, true],
          [1, 32, 24, true],
          [2, 96, 64, true],
        ],
      );
    } finally {
      second.close();
    }
  });

  it('ShmFrameBuffer, a slow reader never blocks the writer and can tell its zero-copy view went stale', async () => {
    const path = fresh();
    const buffer = new ShmFrameBuffer({ path });
    let id = 0;
    buffer.write(patternFrame(++id, 64, 48));
    // While the reader holds its view, the writer goes on (20 frames, one every 20 ms), then stops and lets the
    // reader look again.
    let timer: NodeJS.Timeout | undefined;
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    const slow = python(['slow', path], (line, stdin) => {
      if (line.holding === undefined) return;
      const last = id + 20;
      timer = setInterval(() => {
        buffer.write(patternFrame(++id, 64, 48));
        if (id < last) return;
        clearInterval(timer);
        stdin.end('go\n');
        stopped();
      }, 20);
    });
    try {
      await done;
      assert.equal(id, 21);
      const [, result] = await slow;
      assert.equal(result!.first_ok, true);
      assert.equal(result!.valid_after, false);
      assert.equal(result!.latest_id, id);
      assert.equal(result!.latest_ok, true);
    } finally {
      clearInterval(timer);
      buffer.close();
    }
  });

  it('ShmFrameBuffer, a writer that closes after another replaced its file leaves the new file alone', () => {
    const path = fresh();
    const old = new ShmFrameBuffer({ path });
    old.write(patternFrame(1, 16, 16));
    const replacement = new ShmFrameBuffer({ path });
    replacement.write(patternFrame(1, 32, 16));
    old.close();
    assert.equal(existsSync(path), true);
    assert.equal(new ShmFrameReader({ path }).read()?.width, 32);
    replacement.close();
    assert.equal(existsSync(path), false);
  });

  it('ShmFrameBuffer, a reader never returns a frame while the sequence is odd (writer mid-frame)', async () => {
    const path = fresh();
    const buffer = new ShmFrameBuffer({ path, unlinkOnClose: false });
    buffer.write(patternFrame(1, 16, 16));
    buffer.close();
    const fd = openSync(path, 'r+');
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(7);
    writeSync(fd, seq, 0, 4, SHM_LAYOUT.offsets.seq);
    closeSync(fd);
    assert.equal(new ShmFrameReader({ path, maxRetries: 5 }).read(), null);
    assert.deepEqual((await python(['busy', path]))[0], { frame: false, status: 'closed' });
    seq.writeUInt32LE(8);
    const fd2 = openSync(path, 'r+');
    writeSync(fd2, seq, 0, 4, SHM_LAYOUT.offsets.seq);
    closeSync(fd2);
    assert.equal(new ShmFrameReader({ path }).read()?.frameId, 1);
  });

  it('ShmFrameBuffer, FW_ERR_SHM_INVALID for a file of the wrong magic or version, in Node and Python', async () => {
    const wrongMagic = fresh();
    writeFileSync(wrongMagic, Buffer.alloc(128, 0x41));
    const wrongVersion = fresh();
    const buffer = new ShmFrameBuffer({ path: wrongVersion, unlinkOnClose: false });
    buffer.close();
    const bytes = readFileSync(wrongVersion);
    bytes.writeUInt16LE(99, SHM_LAYOUT.offsets.version);
    writeFileSync(wrongVersion, bytes);
    for (const path of [wrongMagic, wrongVersion]) {
      assert.throws(
        () => new ShmFrameReader({ path }).read(),
        (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_SHM_INVALID',
      );
      const [result] = await python(['status', path]);
      assert.equal(result!.error, 'FW_ERR_SHM_INVALID');
    }
  });

  it('ShmFrameBuffer, bad frames and options are typed errors; an attached source keeps going after one', () => {
    assert.throws(() => new ShmFrameBuffer({ name: '../etc/passwd' }), /options\.name/);
    assert.throws(() => new ShmFrameBuffer({ path: join(dir.path, 'missing-dir', 'x') }), {
      code: 'FW_ERR_WRITE_FAILED',
    });
    const buffer = new ShmFrameBuffer({ path: fresh() });
    assert.throws(() => buffer.write({ ...patternFrame(1, 16, 16), width: 17 }), { code: 'FW_ERR_FRAME_UNUSABLE' });
    const listeners: ((payload: { frame: RawFrame }) => void)[] = [];
    buffer.attach({
      on: (_event, listener) => {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
    });
    const errors: string[] = [];
    buffer.on('error', ({ error, fatal }) => errors.push(`${error.code}:${fatal}`));
    listeners[0]!({ frame: { ...patternFrame(1, 16, 16), format: 'YUYV' as 'I420' } });
    listeners[0]!({ frame: patternFrame(5, 16, 16) });
    assert.deepEqual(errors, ['FW_ERR_FRAME_UNUSABLE:false']);
    assert.equal(buffer.frameCount, 1);
    buffer.close();
    assert.equal(listeners.length, 0);
    assert.throws(() => buffer.write(patternFrame(1, 16, 16)), { code: 'FW_ERR_CLOSED' });
  });
});
