// Node-side help for browser tests, mounted in the test runner's dev server under /__fw/:
//   GET    /__fw/media/<name>    a media file made by ffmpeg on first request (see RECIPES), with Range support
//   POST   /__fw/ffprobe?ext=mp4 the request body written to a file and described by ffprobe (with frame times)
//   POST   /__fw/ffprobe-url     ffprobe over HTTP: { url } (a loopback URL, e.g. a package's manifest.mpd)
//   POST   /__fw/servers         starts a small HTTP server on 127.0.0.1, port 0: { kind: 'static' | 'mjpeg' | 'upload' | 'package', … }
//   GET    /__fw/servers/<id>    what that server saw (connections, uploads)
//   DELETE /__fw/servers/<id>    stops it
//   POST   /__fw/servers/<id>/kill-source   (kind 'bridge') SIGKILLs the bridge source's ffmpeg: the bridge restarts it
//   POST   /__fw/servers/<id>/restart       (kind 'bridge') stops the whole bridge and starts a new one on the same port
//   POST   /__fw/servers/<id>/stop|start    (kind 'nginx', a real nginx origin: nginx-origin.mjs) stops it / starts it again
//   POST   /__fw/ffmpeg-url      ffmpeg reads { url, seconds } (a live manifest) to the end or for that long: { frames }
// Everything binds to loopback; generated files live in a temporary folder removed when the process exits.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { startNginxOrigin } from './nginx-origin.mjs';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'framewire-media-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const lavfi = (size, rate, seconds) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
const sine = (seconds) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`];
const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '15'];

/** Each recipe makes one file (or folder) in `dir` from ffmpeg arguments; `out` is the path to write. */
const RECIPES = {
  'h264.mp4': (out) => [...lavfi('320x240', 30, 1), ...x264, out],
  'h264-audio.mp4': (out) => [...lavfi('320x240', 30, 1), ...sine(1), ...x264, '-c:a', 'aac', '-shortest', out],
  'h264-faststart.mp4': (out) => [...lavfi('320x240', 30, 1), ...x264, '-movflags', '+faststart', out],
  'vp9-audio.webm': (out) => [
    ...lavfi('320x240', 30, 1),
    ...sine(1),
    '-c:v',
    'libvpx-vp9',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-g',
    '15',
    '-c:a',
    'libopus',
    '-shortest',
    out,
  ],
  'h264.mkv': (out) => [...lavfi('320x240', 30, 1), ...x264, out],
  'h264.mov': (out) => [...lavfi('320x240', 30, 1), ...x264, out],
  'h264.ts': (out) => [...lavfi('320x240', 30, 1), ...x264, '-f', 'mpegts', out],
  // Variable frame rate: 10 frames 1/15 s apart, then 10 frames 1/30 s apart (pts in 1/30 s).
  'vfr.mp4': (out) => [
    ...lavfi('320x240', 30, 1),
    '-frames:v',
    '20',
    '-vf',
    'setpts=if(lt(N\\,10)\\,N*2\\,N+10)/30/TB',
    '-fps_mode',
    'passthrough',
    '-video_track_timescale',
    '30000',
    ...x264,
    out,
  ],
  // Shot sideways: the display matrix says 90°, the coded frames are 320×240 (set on a stream copy, as ffmpeg 5
  // ignores it while encoding).
  'rotated.mp4': async (out) => ['-i', await media('h264.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out],
  // An odd size (VP9 allows it; H.264 4:2:0 does not; testsrc2 itself rounds to even, hence the scale).
  'odd.webm': (out) => [
    ...lavfi('320x240', 30, 0.5),
    '-vf',
    'scale=321:241',
    '-c:v',
    'libvpx-vp9',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    out,
  ],
  // MPEG-4 Part 2: a real codec no WebCodecs decoder reads.
  'mpeg4.mp4': (out) => [...lavfi('320x240', 30, 0.5), '-c:v', 'mpeg4', out],
  // Bench material: 10 s of 720p H.264.
  'bench-720p.mp4': (out) => [...lavfi('1280x720', 30, 10), ...x264, out],
  // Packaging material: 4 s, a key frame every second, AAC audio; and one with MP3 audio (CMAF cannot copy it).
  'pkg-av.mp4': (out) => [
    ...lavfi('320x240', 30, 4),
    ...sine(4),
    ...x264,
    '-g',
    '30',
    '-keyint_min',
    '30',
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-shortest',
    out,
  ],
  'pkg-mp3.mkv': (out) => [...lavfi('320x240', 30, 2), ...sine(2), ...x264, '-c:a', 'libmp3lame', '-shortest', out],
  // Fixtures for HLS and DASH (folders) and MJPEG (a folder of JPEGs).
  hls: (dir) => [
    ...lavfi('320x240', 30, 3),
    ...x264,
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    join(dir, 'segment%d.ts'),
    join(dir, 'index.m3u8'),
  ],
  dash: (dir) => [
    ...lavfi('320x240', 30, 3),
    ...x264,
    '-f',
    'dash',
    '-seg_duration',
    '1',
    '-use_template',
    '1',
    '-use_timeline',
    '1',
    join(dir, 'manifest.mpd'),
  ],
  jpegs: (dir) => [...lavfi('320x240', 10, 1), '-q:v', '5', join(dir, 'frame%03d.jpg')],
};
const FOLDERS = new Set(['hls', 'dash', 'jpegs']);

const making = new Map();
/** Makes `name` once (concurrent callers share the work) and resolves with its path. */
export function media(name) {
  let job = making.get(name);
  if (!job) {
    const recipe = RECIPES[name];
    if (!recipe) return Promise.reject(new Error(`no media recipe for ${name}`));
    const out = join(root, name);
    if (FOLDERS.has(name)) mkdirSync(out, { recursive: true });
    job = Promise.resolve(recipe(out))
      .then((args) => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]))
      .then(() => out);
    making.set(name, job);
  }
  return job;
}

/** Writes a derived file: `truncated.mp4` (first 60 % of h264.mp4), `truncated-faststart.mp4`, `junk.mp4`. */
async function derived(name) {
  const out = join(root, name);
  if (existsSync(out)) return out;
  if (name === 'junk.mp4') {
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
    writeFileSync(out, bytes);
    return out;
  }
  const from = { 'truncated.mp4': 'h264.mp4', 'truncated-faststart.mp4': 'h264-faststart.mp4' }[name];
  if (!from) return media(name);
  const whole = readFileSync(await media(from));
  writeFileSync(out, whole.subarray(0, Math.floor(whole.length * 0.6)));
  return out;
}

const MIME = {
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.ts': 'video/mp2t',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.jpg': 'image/jpeg',
};

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-expose-headers': '*',
};

/** Sends `file` with Range support (for mediabunny's UrlSource and media elements). */
function sendFile(req, res, file) {
  const data = readFileSync(file);
  const type = MIME[extname(file)] ?? 'application/octet-stream';
  const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
    res.writeHead(206, {
      ...CORS,
      'content-type': type,
      'accept-ranges': 'bytes',
      'content-range': `bytes ${start}-${end}/${data.length}`,
      'content-length': end - start + 1,
    });
    res.end(data.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...CORS, 'content-type': type, 'accept-ranges': 'bytes', 'content-length': data.length });
  res.end(data);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (part) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** ffprobe's description of `file`, with each video frame's presentation time. */
export async function probe(file) {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    '-count_frames',
    '-show_entries',
    'frame=media_type,pts_time,width,height',
    file,
  ]);
  const result = JSON.parse(stdout);
  const frames = (result.frames ?? []).filter((f) => f.media_type === 'video');
  return { streams: result.streams, format: result.format, videoFrameTimes: frames.map((f) => Number(f.pts_time)) };
}

// ── small servers the tests start ─────────────────────────────────────────────────────────────────────────
const servers = new Map();
let nextServerId = 1;

/** A server for files: /media/<name> (made by ffmpeg), /status/<code>, and /stall (headers, then silence). */
function staticHandler(state) {
  return async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    state.requests.push(pathname);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    const status = /^\/status\/(\d{3})/.exec(pathname);
    if (status) {
      res.writeHead(Number(status[1]), { ...CORS, 'content-type': 'text/plain' }).end('status page');
      return;
    }
    if (pathname.startsWith('/stall')) {
      res.writeHead(200, { ...CORS, 'content-type': MIME[extname(pathname)] ?? 'video/mp4' });
      res.write(Buffer.alloc(8));
      state.stalled.push(res);
      return;
    }
    const [, , name, ...rest] = pathname.split('/');
    try {
      const made = FOLDERS.has(name) ? await media(name) : await derived(name);
      const file = rest.length > 0 ? normalize(join(made, ...rest)) : made;
      if (!file.startsWith(root + sep) || !statSync(file).isFile()) throw new Error('not a file');
      sendFile(req, res, file);
    } catch {
      res.writeHead(404, CORS).end('not found');
    }
  };
}

/**
 * MJPEG over HTTP at /video: the JPEGs of `jpegs`, looped at `fps`. Options: `stallAfterFrames` (the first
 * connection to send that many frames then goes silent, left open), `closeAfterFrames` (that connection ends instead), `contentLength` (send Content-Length part headers; default true).
 */
function mjpegHandler(state, options) {
  const fps = options.fps ?? 20;
  return async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    if (pathname.startsWith('/status/')) {
      res.writeHead(Number(pathname.slice(8)), CORS).end();
      return;
    }
    const dir = await media('jpegs');
    const jpegs = readdirSync(dir)
      .sort()
      .map((f) => readFileSync(join(dir, f)));
    state.connections++;
    let faulty = false;
    res.writeHead(200, {
      ...CORS,
      'content-type': 'multipart/x-mixed-replace; boundary=fwframe',
      'cache-control': 'no-store',
    });
    let sent = 0;
    const timer = setInterval(() => {
      // Only one connection misbehaves: the first to reach the limit (a short probe request never does).
      const limit = options.stallAfterFrames ?? options.closeAfterFrames;
      if (limit !== undefined && sent >= limit && !state.faulted) {
        state.faulted = true;
        faulty = true;
      }
      if (faulty && options.stallAfterFrames !== undefined) return;
      if (faulty && options.closeAfterFrames !== undefined) {
        clearInterval(timer);
        res.end();
        return;
      }
      const jpeg = jpegs[sent % jpegs.length];
      const length = options.contentLength === false ? '' : `Content-Length: ${jpeg.length}\r\n`;
      res.write(`--fwframe\r\nContent-Type: image/jpeg\r\n${length}\r\n`);
      res.write(jpeg);
      res.write('\r\n');
      sent++;
      state.framesSent++;
    }, 1000 / fps);
    res.on('close', () => clearInterval(timer));
  };
}

/**
 * A packaging origin: stores what is PUT (and removes what is DELETEd) under its path, serves it back with the
 * DASH/HLS MIME types and CORS. `failStatus` answers every PUT after the first `failAfter` (default 0) with that
 * status. Records GETs of missing files (`misses`), so a test can tell a manifest listed a file never written.
 */
function packageHandler(state, options) {
  return async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    const path = decodeURIComponent(pathname).replace(/^\/+/, '');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'GET, PUT, DELETE' }).end();
      return;
    }
    if (req.method === 'PUT') {
      const body = await readBody(req);
      state.puts++;
      if (options.failStatus && state.puts > (options.failAfter ?? 0)) {
        res.writeHead(options.failStatus, CORS).end();
        return;
      }
      state.files.set(path, body);
      res.writeHead(201, CORS).end();
      return;
    }
    if (req.method === 'DELETE') {
      state.deleted.push(path);
      state.files.delete(path);
      res.writeHead(204, CORS).end();
      return;
    }
    const body = state.files.get(path);
    if (!body) {
      state.misses.push(path);
      res.writeHead(404, CORS).end('not found');
      return;
    }
    res.writeHead(200, {
      ...CORS,
      'content-type': MIME[extname(path)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(body);
  };
}

/** Receives framewire uploads (x-framewire-upload-id / -offset / -final); `failStatus` refuses every request. */
function uploadHandler(state, options) {
  return async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'POST' }).end();
      return;
    }
    const body = await readBody(req);
    state.requests++;
    if (options.failStatus) {
      res.writeHead(options.failStatus, CORS).end();
      return;
    }
    const id = req.headers['x-framewire-upload-id'];
    const offset = Number(req.headers['x-framewire-offset']);
    const upload = (state.uploads[id] ??= { parts: [], bytes: 0, final: undefined, probe: undefined });
    if (body.length > 0) upload.parts.push({ offset, body });
    upload.bytes = Math.max(upload.bytes, ...upload.parts.map((p) => p.offset + p.body.length));
    const final = req.headers['x-framewire-final'];
    if (final !== undefined) {
      upload.final = Number(final);
      const file = Buffer.alloc(upload.bytes);
      for (const part of upload.parts) part.body.copy(file, part.offset);
      const path = join(root, `upload-${id}.${options.ext ?? 'mp4'}`);
      writeFileSync(path, file);
      try {
        upload.probe = await probe(path);
      } catch (error) {
        upload.probe = { error: String(error) };
      }
    }
    res.writeHead(200, CORS).end();
  };
}

// A real bridge (BridgeServer, test-pattern ffmpeg source) in this process: { kind: 'bridge', width, height,
// frameRate, token }; or { kind: 'ws-proxy', upstream } relaying a bridge WebSocket and injecting garbage (an
// unknown text message, non-frame binaries, a keyframe of random bytes) before the first real frame.
async function startBridge(spec, port = 0) {
  const { BridgeServer, createTestPatternSource, createUrlSource } = await import('@framewire/node-bridge');
  if (spec.bFrames) {
    // { bFrames: true }: a looped libx264 file with B-frames (High profile), its H.264 passed through as is.
    const path = join(tmpdir(), `framewire-bframes-${process.pid}.mp4`);
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15:duration=20'],
      ...['-c:v', 'libx264', '-bf', '2', '-g', '15', '-pix_fmt', 'yuv420p', path],
    ]);
    const file = createUrlSource({ url: `file:${path}`, videoPassthrough: 'always', loop: true });
    return BridgeServer.start({ port, sources: [file] });
  }
  const source = createTestPatternSource({
    width: spec.width ?? 320,
    height: spec.height ?? 240,
    frameRate: spec.frameRate ?? 15,
    ...(spec.keyframeIntervalFrames ? { h264: { keyframeIntervalFrames: spec.keyframeIntervalFrames } } : {}),
  });
  return BridgeServer.start({ port, sources: [source], ...(spec.token ? { token: spec.token } : {}) });
}

async function startWsProxy(spec) {
  const { WebSocketServer, WebSocket } = await import('ws');
  const server = createServer((req, res) => res.writeHead(404, CORS).end());
  const wss = new WebSocketServer({ server });
  const state = { connections: 0, injected: 0 };
  wss.on('connection', (client) => {
    state.connections++;
    const upstream = new WebSocket(spec.upstream);
    let injected = false;
    upstream.on('error', () => client.close());
    client.on('error', () => undefined);
    client.on('close', () => upstream.close());
    upstream.on('close', () => client.close());
    upstream.on('message', (data, isBinary) => {
      if (client.readyState !== client.OPEN) return;
      if (isBinary && !injected) {
        injected = true;
        const header = Buffer.from(data.subarray(0, 24));
        const random = Buffer.alloc(4096);
        for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) & 0xff;
        // A keyframe whose payload is an IDR slice of nonsense: the decoder rejects it.
        const garbageKey = Buffer.concat([header, Buffer.from([0, 0, 0, 1, 0x65]), random]);
        garbageKey[2] = 1;
        const messages = [
          ['{"type":"surprise","value":1}', false],
          ['not json at all', false],
          [Buffer.from([1, 2, 3]), true],
          [Buffer.concat([Buffer.from('XX'), random.subarray(0, 40)]), true],
          [garbageKey, true],
        ];
        for (const [message, binary] of messages) client.send(message, { binary });
        state.injected += messages.length;
      }
      client.send(data, { binary: isBinary });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, state, close: () => wss.close() };
}

async function startTestServer(spec) {
  if (spec.kind === 'bridge') {
    const bridge = await startBridge(spec);
    const id = String(nextServerId++);
    servers.set(id, { bridge, spec, state: {} });
    return { id, url: `http://127.0.0.1:${bridge.port}` };
  }
  if (spec.kind === 'nginx') {
    const nginx = await startNginxOrigin(spec);
    const id = String(nextServerId++);
    servers.set(id, { nginx, state: {} });
    return { id, url: nginx.url };
  }
  if (spec.kind === 'ws-proxy') {
    const proxy = await startWsProxy(spec);
    const id = String(nextServerId++);
    servers.set(id, { server: proxy.server, state: proxy.state, closeExtra: proxy.close });
    return { id, url: `http://127.0.0.1:${proxy.server.address().port}` };
  }
  const state = { requests: [], stalled: [], connections: 0, framesSent: 0, uploads: {}, faulted: false };
  if (spec.kind === 'upload') state.requests = 0;
  Object.assign(state, { files: new Map(), puts: 0, deleted: [], misses: [] });
  const handler =
    spec.kind === 'mjpeg'
      ? mjpegHandler(state, spec)
      : spec.kind === 'upload'
        ? uploadHandler(state, spec)
        : spec.kind === 'package'
          ? packageHandler(state, spec)
          : staticHandler(state);
  const server = createServer((req, res) => {
    handler(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, CORS);
      res.end(String(error));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const id = String(nextServerId++);
  servers.set(id, { server, state });
  return { id, url: `http://127.0.0.1:${server.address().port}` };
}

function describe(state, entry) {
  if (entry?.nginx) return { accessLog: entry.nginx.accessLog(), files: entry.nginx.files() };
  if (entry?.bridge) {
    const health = entry.bridge.health;
    const source = health.sources[0];
    const websocket = entry.bridge.websocket()?.stats;
    return {
      restarts: source?.restarts ?? 0,
      state: source?.state,
      websocketClients: websocket?.clients ?? 0,
      ackingClients: websocket?.ackingClients ?? 0,
    };
  }
  if (entry?.closeExtra) return { ...state };
  const uploads = Object.fromEntries(
    Object.entries(state.uploads).map(([id, u]) => [
      id,
      { bytes: u.bytes, final: u.final, probe: u.probe, requests: u.parts.length },
    ]),
  );
  return {
    requests: state.requests,
    connections: state.connections,
    framesSent: state.framesSent,
    uploads,
    files: [...state.files.keys()].sort(),
    puts: state.puts,
    deleted: state.deleted,
    misses: state.misses,
  };
}

async function stopTestServer(id) {
  const entry = servers.get(id);
  if (!entry) return;
  servers.delete(id);
  if (entry.nginx) {
    await entry.nginx.close();
    return;
  }
  if (entry.bridge) {
    await entry.bridge.close();
    return;
  }
  entry.closeExtra?.();
  for (const res of entry.state.stalled ?? []) res.destroy();
  entry.server.closeAllConnections();
  await new Promise((resolve) => entry.server.close(resolve));
}

const json = (ctx, status, body) => {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
};

/** An asset base (`setAssetBaseUrl`) whose workers load but whose OpenCV.js does not. */
const SDK_WITHOUT_OPENCV = '/__fw/sdk-without-opencv/';

/** Koa middleware for @web/test-runner's dev server. */
export async function mediaTestMiddleware(ctx, next) {
  if (!ctx.path.startsWith('/__fw/')) return next();
  try {
    if (ctx.path.startsWith('/__fw/media/') && ctx.method === 'GET') {
      const file = await derived(decodeURIComponent(ctx.path.slice('/__fw/media/'.length)));
      ctx.type = MIME[extname(file)] ?? 'application/octet-stream';
      ctx.body = readFileSync(file);
      return;
    }
    if (ctx.path.startsWith(`${SDK_WITHOUT_OPENCV}workers/`) && ctx.method === 'GET') {
      // The SDK's built workers with no vendor/ folder beside them: a worker that starts and then cannot load
      // OpenCV.js (its vendor/opencv.js gets the 404 below), for failures after frames were sent.
      const name = ctx.path.slice(`${SDK_WITHOUT_OPENCV}workers/`.length);
      if (!/^[\w.-]+\.js$/.test(name)) throw new Error(`not a worker file: ${name}`);
      ctx.type = 'text/javascript';
      ctx.body = readFileSync(join(import.meta.dirname, '../../packages/browser-sdk/dist/workers', name));
      return;
    }
    if (ctx.path === '/__fw/ffprobe' && ctx.method === 'POST') {
      const body = await readBody(ctx.req);
      const path = join(root, `probe-${Date.now()}-${Math.random().toString(36).slice(2)}.${ctx.query.ext ?? 'mp4'}`);
      writeFileSync(path, body);
      try {
        json(ctx, 200, await probe(path));
      } catch (error) {
        json(ctx, 200, { error: String(error.stderr ?? error) });
      } finally {
        rmSync(path, { force: true });
      }
      return;
    }
    if (ctx.path === '/__fw/ffprobe-url' && ctx.method === 'POST') {
      // ffprobe reading a manifest over HTTP (its DASH demuxer reads an MPD only over HTTP).
      const { url } = JSON.parse((await readBody(ctx.req)).toString());
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error('ffprobe-url takes loopback URLs only');
      try {
        const { stdout } = await run('ffprobe', [
          '-v',
          'error',
          '-print_format',
          'json',
          '-show_streams',
          '-show_format',
          url,
        ]);
        json(ctx, 200, JSON.parse(stdout));
      } catch (error) {
        json(ctx, 200, { error: String(error.stderr ?? error) });
      }
      return;
    }
    if (ctx.path === '/__fw/servers' && ctx.method === 'POST') {
      json(ctx, 200, await startTestServer(JSON.parse((await readBody(ctx.req)).toString() || '{}')));
      return;
    }
    const serverId = /^\/__fw\/servers\/(\d+)$/.exec(ctx.path)?.[1];
    if (serverId && ctx.method === 'GET') {
      const entry = servers.get(serverId);
      json(ctx, entry ? 200 : 404, entry ? describe(entry.state, entry) : {});
      return;
    }
    const nginxAction = /^\/__fw\/servers\/(\d+)\/(stop|start)$/.exec(ctx.path);
    const nginxEntry = nginxAction && servers.get(nginxAction[1]);
    if (nginxEntry?.nginx && ctx.method === 'POST') {
      await (nginxAction[2] === 'stop' ? nginxEntry.nginx.stop() : nginxEntry.nginx.start());
      json(ctx, 200, {});
      return;
    }
    if (ctx.path === '/__fw/ffmpeg-url' && ctx.method === 'POST') {
      // ffmpeg playing a (live) manifest over HTTP: decoded video frames counted by framemd5.
      const { url, seconds } = JSON.parse((await readBody(ctx.req)).toString());
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error('ffmpeg-url takes loopback URLs only');
      try {
        const { stdout } = await run(
          'ffmpeg',
          ['-v', 'error', '-i', url, '-map', '0:v:0', '-t', String(seconds ?? 3), '-f', 'framemd5', '-'],
          { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
        );
        json(ctx, 200, { frames: stdout.split('\n').filter((line) => line && !line.startsWith('#')).length });
      } catch (error) {
        json(ctx, 200, { error: String(error.stderr ?? error) });
      }
      return;
    }
    const action = /^\/__fw\/servers\/(\d+)\/(kill-source|restart)$/.exec(ctx.path);
    const bridgeEntry = action && servers.get(action[1]);
    if (bridgeEntry?.bridge && ctx.method === 'POST') {
      if (action[2] === 'kill-source') {
        const source = bridgeEntry.bridge.sources[0];
        process.kill(source.pid, 'SIGKILL');
        json(ctx, 200, { killed: source.pid });
      } else {
        const port = bridgeEntry.bridge.port;
        await bridgeEntry.bridge.close();
        await new Promise((resolve) => setTimeout(resolve, Number(ctx.query.downMs ?? 0)));
        bridgeEntry.bridge = await startBridge(bridgeEntry.spec, port);
        json(ctx, 200, { port });
      }
      return;
    }
    if (serverId && ctx.method === 'DELETE') {
      await stopTestServer(serverId);
      json(ctx, 200, {});
      return;
    }
    json(ctx, 404, { error: `unknown ${ctx.method} ${ctx.path}` });
  } catch (error) {
    json(ctx, 500, { error: String(error.stderr ?? error) });
  }
}
