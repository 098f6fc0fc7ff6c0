/** Shared helpers for Node tests: servers on port 0, ffmpeg-made media, waiting for events and processes. */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once, type EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A server started on 127.0.0.1 and a free port. */
export interface StartedServer {
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1, port 0 (a free port). */
export async function startServer(handler: RequestListener): Promise<StartedServer> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Resolves with the first payload of `event` on `emitter`; rejects after `timeoutMs` (default 30 s: a deadline
 * that only bounds a hang, long enough for a loaded machine).
 */
export async function waitForEvent<T = unknown>(emitter: EventEmitter, event: string, timeoutMs = 30_000): Promise<T> {
  // A ref'd timer (AbortSignal.timeout's is unref'd, which would let the test process end while waiting).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no "${event}" event within ${timeoutMs} ms`)), timeoutMs);
  try {
    const [payload] = (await once(emitter, event, { signal: controller.signal })) as [T];
    return payload;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` every 50 ms until it returns a truthy value; rejects with `what` after `timeoutMs` (default 30 s: a
 * deadline that only bounds a hang, long enough for a loaded machine).
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value; // truthy, hence not null or undefined
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A temporary folder, removed by the returned `remove()`. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'framewire-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Options of {@link makeMediaFile}. */
export interface MediaFileOptions {
  /** Output file path; the extension picks the container (.mp4, .webm, .mkv, .ts, .mov). */
  path: string;
  /** Seconds of video. Default: 2. */
  durationS?: number;
  /** Frame size. Default: 320x240. */
  size?: string;
  /** Frames per second. Default: 30. */
  frameRate?: number;
  /** ffmpeg video encoder. Default: libx264 for .mp4/.mov/.ts/.mkv, libvpx-vp9 for .webm. */
  videoCodec?: string;
  /** Adds a sine-wave audio track. Default: false. */
  audio?: boolean;
  /** ffmpeg audio encoder of that track. Default: libopus for .webm, aac otherwise. */
  audioCodec?: string;
  /** libx264 writes B-frames (its default); false gives H.264 without them, as cameras send. Default: true. */
  bFrames?: boolean;
}

/** Generates a test media file with ffmpeg's `testsrc2` (and `sine` audio) and resolves with its path. */
export async function makeMediaFile(options: MediaFileOptions): Promise<string> {
  const { path, durationS = 2, size = '320x240', frameRate = 30, audio = false } = options;
  const codec = options.videoCodec ?? (path.endsWith('.webm') ? 'libvpx-vp9' : 'libx264');
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${frameRate}:duration=${durationS}`,
  ];
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${durationS}`);
  args.push('-c:v', codec, '-pix_fmt', 'yuv420p');
  if (codec === 'libx264') args.push('-preset', 'veryfast', '-g', String(frameRate));
  if (codec === 'libx264' && options.bFrames === false) args.push('-bf', '0');
  if (audio) args.push('-c:a', options.audioCodec ?? (path.endsWith('.webm') ? 'libopus' : 'aac'));
  args.push(path);
  await run('ffmpeg', args);
  return path;
}

/** ffprobe's JSON description (`-show_streams -show_format`) of a file or URL. */
export async function ffprobe(
  target: string,
  extra: string[] = [],
): Promise<{
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }[];
  format: { format_name: string; duration?: string };
}> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    ...extra,
    target,
  ]);
  return JSON.parse(stdout) as Awaited<ReturnType<typeof ffprobe>>;
}

/** A CLI started by {@link startCli}. */
export interface StartedCli {
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node <script> ...args` and resolves once its output matches `ready` (rejects if it exits first). */
export async function startCli(
  script: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<StartedCli & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: 'pipe' });
  let output = '';
  const exited = once(child, 'exit');
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} not ready after ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${String(code)} before it was ready:\n${output}`));
    });
  });
  return {
    child,
    match,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Runs `node <script> ...args` to completion and resolves with its exit code and output. */
export async function runCli(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // The timeout only bounds a hang.
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** The mean of one channel (0 B, 1 G, 2 R) of packed BGR24 bytes. */
export function meanOfChannel(bgr: Buffer, channel: number): number {
  let sum = 0;
  for (let i = channel; i < bgr.length; i += 3) sum += bgr[i]!;
  return sum / (bgr.length / 3);
}
