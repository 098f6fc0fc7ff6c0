// framewire's Stabilizer on a corpus of shaky clips with a known true motion (bench/stabilizer-corpus.py: nine
// motion classes, several textures, 640×480, 1280×720 and a subset at 1920×1080), against three anchors run in
// the same process on the same decoded frames: vidgear's Stabilizer algorithm on native OpenCV
// (bench/vidgear-asw.py), ffmpeg's vid.stab two-pass (vidstabdetect + vidstabtransform) and ffmpeg's deshake.
//
// framewire is measured as a user builds it: `FileSource` (the clip as H.264 MP4) → `stabilize()` → `Recorder`
// (MP4, H.264) for fps, and `FileSource` → `stabilize()` → a reader for quality. For every clip and method:
// - ITF (mean PSNR of consecutive frames, central half) before and after;
// - the residual: RMS of the output's frame-to-frame motion minus the intended motion, pixels of the clip,
//   measured on the pictures against the clip's reference view (bench/stabilizer-metrics.py), which ITF alone
//   can hide, e.g. by cropping;
// - the share of the frame kept (border-free crop over the clip, divided by any zoom);
// - fps (framewire: the whole pipeline, steady state; vidgear: its algorithm on decoded frames in memory;
//   ffmpeg: both passes, decoding included).
// Environment: STAB_SIZES=640x480,1280x720 and STAB_CLIPS=pan,cut restrict the corpus; STAB_OUT=file.json also
// writes every measurement as JSON (to compare runs); STAB_ANCHORS=file.json (an earlier STAB_OUT) takes the
// input and anchor rows of the clips it has from there instead of running them again (their quality is
// deterministic; their fps are then the earlier run's); STAB_TAG=x names framewire's outputs *.fw0x.gray;
// STAB_OPTIONS='{"smoothing":"kalman"}' adds Stabilizer options. The corpus is cached in the system's temp folder.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadBundle, timeFfmpeg } from './media-fixture.mjs';

const exec = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const FRAMES = 90;
const RADIUS = 25;
const REF_WIDTH = 320;
const CLASSES = [
  'translation',
  'rotation',
  'zoom',
  'rolling-shutter',
  'motion-blur',
  'foreground',
  'low-texture',
  'pan',
  'cut',
];
/** 1920×1080 runs a subset, to keep the bench under half an hour on two cores. */
const CLASSES_1080 = ['rotation', 'foreground', 'pan'];
const ALL_SIZES = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
];
const LOOKAHEADS = [0, RADIUS];

export const name = `Stabilizer on a shaky corpus with known motion, ${FRAMES} frames per clip, smoothingRadius ${RADIUS}`;

const here = import.meta.dirname;
const refHeight = (w, h) => Math.round((REF_WIDTH * h) / w / 2) * 2;
const quiet = ['-hide_banner', '-loglevel', 'error', '-y'];

/** Makes (or reuses) one clip: raw frames, truth, reference, the H.264 MP4 users would have, its decoded frames. */
async function clip(dir, cls, w, h) {
  const base = join(dir, `${cls}-${w}x${h}`);
  if (!existsSync(`${base}.json`)) {
    await exec(PYTHON, [join(here, 'stabilizer-corpus.py'), dir, String(w), String(h), String(FRAMES), cls]);
  }
  if (!existsSync(`${base}.mp4`)) {
    const raw = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-r', '30', '-i', `${base}.yuv`];
    await exec('ffmpeg', [...quiet, ...raw, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '12', '-g', '30', '-bf', '0', '-pix_fmt', 'yuv420p', `${base}.mp4`]); // prettier-ignore
    await exec('ffmpeg', [...quiet, '-i', `${base}.mp4`, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', `${base}.dec.yuv`]);
    await exec('ffmpeg', [...quiet, '-i', `${base}.mp4`, '-vf', grayScale(), '-f', 'rawvideo', `${base}.in.gray`]);
  }
  return base;
}

const grayScale = () => `scale=${REF_WIDTH}:-2:flags=area,format=gray`;

async function metrics(grayFile, base, first = 0) {
  const { stdout } = await exec(PYTHON, [join(here, 'stabilizer-metrics.py'), grayFile, base, String(first)]);
  return JSON.parse(stdout);
}

/** Serves the clips to the page (another origin: CORS allowed, range requests for FileSource). */
function serve(dir) {
  const server = createServer((request, response) => {
    const file = join(dir, new URL(request.url, 'http://x').pathname.slice(1));
    if (!existsSync(file)) return void response.writeHead(404).end();
    const size = statSync(file).size;
    const headers = { 'access-control-allow-origin': '*', 'accept-ranges': 'bytes', 'content-type': 'video/mp4' };
    const range = /bytes=(\d+)-(\d*)/.exec(request.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Number(range[2]) : size - 1;
      response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 }); // prettier-ignore
      createReadStream(file, { start, end }).pipe(response);
    } else {
      response.writeHead(200, { ...headers, 'content-length': size });
      createReadStream(file).pipe(response);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * In the page: FileSource → stabilize() → Recorder (mode `speed`: fps of the pipeline) or → a reader that keeps
 * each output's luma REF_WIDTH wide (mode `quality`).
 */
async function pageRun(page, args) {
  await loadBundle(page);
  return page.evaluate(async ({ url, lookahead, radius, mode, refWidth, refHeight, options }) => {
    const { FileSource, Recorder, stabilize } = globalThis.Framewire;
    const source = await FileSource.open(url);
    const steady = stabilize(source, { smoothingRadius: radius, lookaheadFrames: lookahead, ...options });
    const times = [];
    let withoutMotion = 0;
    steady.stabilizer.on('transform', (t) => {
      times.push(performance.now());
      if (!t.motionFound) withoutMotion++;
    });
    const fpsOf = () => (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000);
    if (mode === 'speed') {
      const recorder = new Recorder({ container: 'mp4', codec: 'avc' });
      const stats = await recorder.record(steady);
      await recorder.finalize();
      await steady.close();
      return { fps: fpsOf(), frames: stats.framesWritten, withoutMotion };
    }
    const canvas = new OffscreenCanvas(refWidth, refHeight);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const gray = [];
    for (let frame = await steady.read(); frame; frame = await steady.read()) {
      context.drawImage(frame, 0, 0, refWidth, refHeight);
      frame.close();
      const rgba = context.getImageData(0, 0, refWidth, refHeight).data;
      const y = new Uint8Array(refWidth * refHeight);
      // BT.601 limited-range luma: what the other methods' Y planes hold.
      for (let i = 0; i < y.length; i++)
        y[i] = Math.round(16 + 0.257 * rgba[4 * i] + 0.504 * rgba[4 * i + 1] + 0.098 * rgba[4 * i + 2]);
      gray.push(y);
    }
    await steady.close();
    const all = new Uint8Array(gray.length * refWidth * refHeight);
    gray.forEach((y, i) => all.set(y, i * y.length));
    let binary = '';
    for (let i = 0; i < all.length; i += 0x8000) binary += String.fromCharCode(...all.subarray(i, i + 0x8000));
    return { fps: fpsOf(), frames: gray.length, withoutMotion, gray: btoa(binary) };
  }, args);
}

/** Every method on one clip; returns one record per method. */
async function measureClip(page, baseUrl, dir, cls, w, h, options, anchors) {
  const base = await clip(dir, cls, w, h);
  const file = `${cls}-${w}x${h}.mp4`;
  const records = { input: anchors?.input ?? (await metrics(`${base}.in.gray`, base)) };
  const refArgs = { refWidth: REF_WIDTH, refHeight: refHeight(w, h), radius: RADIUS, options };
  for (const lookahead of LOOKAHEADS) {
    const quality = await pageRun(page, { ...refArgs, url: baseUrl + file, lookahead, mode: 'quality' });
    const gray = `${base}.fw${lookahead}${process.env.STAB_TAG ?? ''}.gray`;
    writeFileSync(gray, Buffer.from(quality.gray, 'base64'));
    const m = await metrics(gray, base);
    records[`framewire-la${lookahead}`] = { ...m, framesOut: quality.frames, withoutMotion: quality.withoutMotion };
  }
  const speed = await pageRun(page, { ...refArgs, url: baseUrl + file, lookahead: 0, mode: 'speed' });
  records['framewire-la0'].fps = speed.fps;
  records['framewire-la0'].recorded = speed.frames;
  if (anchors) return { ...records, vidgear: anchors.vidgear, vidstab: anchors.vidstab, deshake: anchors.deshake };
  const { stdout } = await exec(PYTHON, [join(here, 'vidgear-asw.py'), `${base}.dec.yuv`, String(w), String(h), String(FRAMES), String(RADIUS), `${base}.vg.gray`]); // prettier-ignore
  const vg = JSON.parse(stdout);
  records.vidgear = { ...(await metrics(`${base}.vg.gray`, base, 0)), fps: vg.fps };
  const trf = `${base}.trf`;
  const vidstabSeconds =
    (await timeFfmpeg(['-i', `${base}.mp4`, '-vf', `vidstabdetect=shakiness=8:accuracy=15:result=${trf}`, '-f', 'null', '-'])) + // prettier-ignore
    // smoothing=12: a 25-frame window (2·12+1), vidgear's width; crop=black: no border filled from old frames.
    (await timeFfmpeg(['-i', `${base}.mp4`, '-vf', `vidstabtransform=input=${trf}:smoothing=${(RADIUS - 1) / 2}:crop=black,${grayScale()}`, '-f', 'rawvideo', `${base}.vs.gray`])); // prettier-ignore
  records.vidstab = { ...(await metrics(`${base}.vs.gray`, base)), fps: FRAMES / vidstabSeconds };
  const deshakeSeconds = await timeFfmpeg(['-i', `${base}.mp4`, '-vf', `deshake=edge=blank,${grayScale()}`, '-f', 'rawvideo', `${base}.ds.gray`]); // prettier-ignore
  records.deshake = { ...(await metrics(`${base}.ds.gray`, base)), fps: FRAMES / deshakeSeconds };
  return records;
}

const f1 = (v) => (v === undefined || v === null ? '–' : v.toFixed(1));
const f2 = (v) => (v === undefined || v === null ? '–' : v.toFixed(2));

/** Runs the corpus; `options` are extra Stabilizer options (for comparing settings). */
export async function run({ page, options = JSON.parse(process.env.STAB_OPTIONS ?? '{}') }) {
  const dir = join(tmpdir(), 'framewire-stabilizer-corpus-v1');
  mkdirSync(dir, { recursive: true });
  const onlySizes = process.env.STAB_SIZES?.split(',');
  const onlyClips = process.env.STAB_CLIPS?.split(',');
  const server = await serve(dir);
  const baseUrl = `http://127.0.0.1:${server.address().port}/`;
  const results = [];
  const loads = [loadavg()[0]];
  const earlier = process.env.STAB_ANCHORS ? JSON.parse(readFileSync(process.env.STAB_ANCHORS, 'utf8')).results : [];
  try {
    for (const [w, h] of ALL_SIZES) {
      if (onlySizes && !onlySizes.includes(`${w}x${h}`)) continue;
      for (const cls of w >= 1920 ? CLASSES_1080 : CLASSES) {
        if (onlyClips && !onlyClips.includes(cls)) continue;
        process.stdout.write(`  ${cls} ${w}×${h}…\n`);
        const anchors = earlier.find((r) => r.cls === cls && r.size === `${w}x${h}`)?.records;
        const records = await measureClip(page, baseUrl, dir, cls, w, h, options, anchors);
        results.push({ cls, size: `${w}x${h}`, records });
        loads.push(loadavg()[0]);
        if (process.env.STAB_OUT) writeFileSync(process.env.STAB_OUT, JSON.stringify({ loads, results }, null, 1));
      }
    }
  } finally {
    server.close();
  }
  const methods = ['input', 'framewire-la0', `framewire-la${RADIUS}`, 'vidgear', 'vidstab', 'deshake'];
  const notes = [
    `Load average (1 min) during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (2 cores).`,
    '',
    `Per clip: ITF dB / residual px / share kept / fps. Methods: ${methods.join(', ')}.`,
    '',
    '| clip | size | ' + methods.join(' | ') + ' |',
    '|---|---|' + methods.map(() => '---').join('|') + '|',
    ...results.map(
      ({ cls, size, records }) =>
        `| ${cls} | ${size} | ` +
        methods
          .map((m) => {
            const r = records[m];
            return `${f1(r.itf)} / ${f2(r.residualPx)} / ${f2(r.keptShare)}${r.fps ? ` / ${f1(r.fps)}` : ''}`;
          })
          .join(' | ') +
        ' |',
    ),
  ];
  const rows = results.map(({ cls, size, records }) => ({
    name: `Stabilizer ${cls} ${size}, lookaheadFrames 0: FileSource → Stabilizer → Recorder vs vidgear's algorithm`,
    unit: 'fps',
    ours: [records['framewire-la0'].fps],
    baseline: [records.vidgear.fps],
    oursLabel: 'framewire pipeline',
    baselineLabel: 'vidgear ASW, Python cv2',
  }));
  return { rows, notes };
}
