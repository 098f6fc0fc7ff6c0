// framewire's Stabilizer (worker, OpenCV.js motion estimate + canvas warp) on a shaky clip made by ffmpeg, at
// 640×480 and 1280×720, against two baselines measured in the same run: vidgear's Stabilizer algorithm on native
// OpenCV (bench/vidgear-asw.py, Python cv2) on the same frames, and a pass-through worker round trip (the floor
// any worker transform pays). Also reports ITF (mean PSNR between consecutive frames, central half) before and
// after, and the added delay for each look-ahead.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const FRAMES = 90;
const RADIUS = 25;
const SIZES = [
  [640, 480],
  [1280, 720],
];
const LOOKAHEADS = [0, Math.floor(RADIUS / 2), RADIUS];

export const name = `Stabilizer, ${FRAMES} frames of a shaky ffmpeg clip, smoothingRadius ${RADIUS}`;

/** A shaky clip: a still picture seen through a window that jitters (±12 px) while it pans 1 px per frame. */
async function makeClip(dir, width, height) {
  const scene = join(dir, `scene-${width}.png`);
  const file = join(dir, `shaky-${width}x${height}.yuv`);
  const [sw, sh] = [width + 2 * FRAMES + 80, height + 80];
  await exec('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `mandelbrot=size=${sw}x${sh}:maxiter=256`,
    '-frames:v',
    '1',
    scene,
  ]);
  const jitter = (k, a, b) => `${k}*sin(n*${a})*cos(n*${b})`;
  await exec('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    scene,
    '-vf',
    `crop=${width}:${height}:x='40+n+${jitter(12, 2.7, 1.3)}':y='40+${jitter(12, 1.9, 0.7)}',format=yuv420p`,
    '-frames:v',
    String(FRAMES),
    '-f',
    'rawvideo',
    file,
  ]);
  return file;
}

/** Serves the clips to the page (another origin: CORS allowed). */
function serve(files) {
  const server = createServer((request, response) => {
    const file = files[new URL(request.url, 'http://x').pathname.slice(1)];
    if (!file) return void response.writeHead(404).end();
    response.writeHead(200, { 'access-control-allow-origin': '*', 'content-length': statSync(file).size });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** In the page: frames through a Stabilizer (or a pass-through worker); throughput, delays, ITF. */
function pageRun(page, args) {
  return page.evaluate(async ({ url, width, height, frames, radius, lookahead, passThrough, measureItf }) => {
    const { Stabilizer } = await import('/sdk/index.js');
    globalThis.__clips ??= {};
    globalThis.__clips[url] ??= await (await fetch(url)).arrayBuffer();
    const buffer = globalThis.__clips[url];
    const size = (width * height * 3) / 2;
    const frameAt = (i) =>
      new VideoFrame(new Uint8Array(buffer, i * size, size), {
        format: 'I420',
        codedWidth: width,
        codedHeight: height,
        timestamp: i * 33_333,
      });
    let transform;
    if (passThrough) {
      const source = 'onmessage = (e) => postMessage(e.data, [e.data]);';
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
      let inFlight = 0;
      let wake;
      let controllerRef;
      worker.onmessage = (e) => {
        inFlight--;
        controllerRef.enqueue(e.data);
        wake?.();
      };
      transform = new TransformStream({
        start: (c) => void (controllerRef = c),
        transform: async (frame) => {
          inFlight++;
          worker.postMessage(frame, [frame]);
          while (inFlight >= 2) await new Promise((r) => (wake = r));
        },
        flush: async () => {
          while (inFlight > 0) await new Promise((r) => (wake = r));
          worker.terminate();
        },
      });
    } else {
      transform = new Stabilizer({ smoothingRadius: radius, lookaheadFrames: lookahead });
    }
    const luma = (frame) => {
      const canvas = new OffscreenCanvas(320, Math.round((320 * height) / width));
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(frame, 0, 0, canvas.width, canvas.height);
      const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
      const out = new Float32Array(canvas.width * canvas.height);
      for (let i = 0; i < out.length; i++)
        out[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
      return { data: out, w: canvas.width, h: canvas.height };
    };
    const itf = (images) => {
      let total = 0;
      for (let k = 1; k < images.length; k++) {
        const [a, b] = [images[k - 1], images[k]];
        let sq = 0;
        let n = 0;
        for (let y = a.h >> 2; y < (3 * a.h) >> 2; y++)
          for (let x = a.w >> 2; x < (3 * a.w) >> 2; x++) {
            const d = a.data[y * a.w + x] - b.data[y * a.w + x];
            sq += d * d;
            n++;
          }
        total += 10 * Math.log10((255 * 255) / Math.max(1e-6, sq / n));
      }
      return total / (images.length - 1);
    };
    const writtenAt = [];
    const outAt = [];
    const delays = [];
    const outLumas = [];
    const reading = (async () => {
      const reader = transform.readable.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        outAt.push(performance.now());
        if (!passThrough) delays.push(transform.transformOf(r.value).delayFrames);
        if (measureItf) outLumas.push(luma(r.value));
        r.value.close();
      }
    })();
    const writer = transform.writable.getWriter();
    for (let i = 0; i < frames; i++) {
      writtenAt.push(performance.now());
      await writer.write(frameAt(i));
    }
    await writer.close();
    await reading;
    if (outAt.length !== frames) throw new Error(`expected ${frames} frames out, got ${outAt.length}`);
    const latencies = outAt.map((t, i) => t - writtenAt[i]).sort((a, b) => a - b);
    let inputItf;
    if (measureItf) {
      const inLumas = [];
      for (let i = 0; i < frames; i++) {
        const f = frameAt(i);
        inLumas.push(luma(f));
        f.close();
      }
      inputItf = itf(inLumas);
    }
    return {
      // Steady state: from the first output (OpenCV.js loaded) to the last.
      fps: (frames - 1) / ((outAt[frames - 1] - outAt[0]) / 1000),
      maxDelayFrames: Math.max(0, ...delays),
      medianLatencyMs: latencies[Math.floor(frames / 2)],
      itf: measureItf ? itf(outLumas) : undefined,
      inputItf,
    };
  }, args);
}

/** Runs every side `repeats` times, alternating, and reports one row per comparison. */
export async function run({ page, repeats }) {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-stabilizer-bench-'));
  const clips = {};
  for (const [w, h] of SIZES) clips[`${w}x${h}.yuv`] = await makeClip(dir, w, h);
  const server = await serve(clips);
  const base = `http://127.0.0.1:${server.address().port}/`;
  try {
    const rows = [];
    const notes = [];
    for (const [width, height] of SIZES) {
      const key = `${width}x${height}.yuv`;
      const args = { url: base + key, width, height, frames: FRAMES, radius: RADIUS, lookahead: 0, passThrough: false };
      const ours = [];
      const native = [];
      const passThrough = [];
      await pageRun(page, args); // warm-up: worker start, OpenCV.js compile, clip download
      let nativeItf;
      for (let i = 0; i < repeats; i++) {
        ours.push((await pageRun(page, args)).fps);
        passThrough.push((await pageRun(page, { ...args, passThrough: true })).fps);
        const { stdout } = await exec('/usr/bin/python3', [
          join(import.meta.dirname, 'vidgear-asw.py'),
          clips[key],
          String(width),
          String(height),
          String(FRAMES),
          String(RADIUS),
        ]);
        const result = JSON.parse(stdout);
        native.push(result.fps);
        nativeItf = result;
      }
      const label = `${width}×${height}`;
      rows.push({
        name: `Stabilizer ${label}, lookaheadFrames 0: framewire (Chromium worker) vs vidgear's algorithm on native OpenCV 4.6`,
        unit: 'fps',
        ours,
        baseline: native,
        oursLabel: 'framewire Stabilizer',
        baselineLabel: 'vidgear ASW, Python cv2 (bench/vidgear-asw.py)',
      });
      rows.push({
        name: `Stabilizer ${label} vs a pass-through worker round trip (the floor of any worker transform)`,
        unit: 'fps',
        ours,
        baseline: passThrough,
        oursLabel: 'framewire Stabilizer',
        baselineLabel: 'pass-through worker',
      });
      const quality = await pageRun(page, { ...args, measureItf: true });
      rows.push({
        name: `ITF ${label} (mean PSNR of consecutive frames, central half): after vs before stabilization`,
        unit: 'dB',
        ours: [quality.itf],
        baseline: [quality.inputItf],
        oursLabel: 'framewire output',
        baselineLabel: 'shaky input',
      });
      notes.push(
        `- ${label}: vidgear ASW output ITF ${nativeItf.itf.toFixed(1)} dB (input ${nativeItf.itfInput.toFixed(1)} dB), ${nativeItf.emitted} of ${FRAMES} frames out.`,
      );
      for (const lookahead of LOOKAHEADS) {
        const r = await pageRun(page, { ...args, lookahead, measureItf: true });
        notes.push(
          `- ${label}, lookaheadFrames ${lookahead}: added delay ${r.maxDelayFrames} frames (median write→read ${r.medianLatencyMs.toFixed(0)} ms), ${r.fps.toFixed(1)} fps, ITF ${r.itf.toFixed(1)} dB; vidgear: ${RADIUS - 1} frames.`,
        );
      }
    }
    return { rows, notes };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
