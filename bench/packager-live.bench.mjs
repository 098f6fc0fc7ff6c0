// The live ladder: 720p30 frames packaged live (Packager.start) into three GOP-aligned renditions,
// 1280×720, 640×360 and 416×234, as DASH + HLS, as fast as the machine allows: the sustained real-time factor
// (media seconds per wall-clock second over 20 s of media; ≥ 1 keeps up with a live 720p30 source).
// Two same-run baselines: the same frames through the same pipeline into one 720p rendition (what the two extra
// renditions cost), and ffmpeg's libx264 veryfast (zerolatency) ladder of the same three sizes to DASH + HLS.
// Frames come from the 10 s 720p H.264 bench file, decoded in the page (played twice), on both sides alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAMES, benchFile, loadBundle, timeFfmpeg } from './media-fixture.mjs';

const LOOPS = 2;
const MEDIA_S = (LOOPS * FRAMES) / 30;
const LADDER = [
  { width: 1280, height: 720 },
  { width: 640, height: 360 },
  { width: 416, height: 234 },
];
// The bitrates the Packager derives from bits per pixel (0.1) at 30 fps, given to ffmpeg too.
const BITRATES = LADDER.map(({ width, height }) => Math.round(width * height * 30 * 0.1));

export const name = `Live packaging of ${MEDIA_S} s of 720p30 frames into a 3-rendition DASH + HLS ladder: sustained real-time factor`;

function liveInPage(page, url, ladder, loops) {
  return page.evaluate(
    async (url, ladder, loops) => {
      const { FileSource, Packager } = globalThis.Framewire;
      const bytes = await (await fetch(url)).blob();
      let file = await FileSource.open(bytes);
      let loop = 0;
      let offsetUs = 0;
      let lastUs = 0;
      // A live source of 720p30 frames: the file, played `loops` times with continuous timestamps.
      const source = {
        kind: 'looped-file',
        read: async () => {
          for (;;) {
            const frame = await file.read();
            if (frame) {
              lastUs = frame.timestamp + offsetUs;
              const stamped = new VideoFrame(frame, { timestamp: lastUs });
              frame.close();
              return stamped;
            }
            await file.close();
            if (++loop >= loops) return null;
            offsetUs = lastUs + 33_333;
            file = await FileSource.open(bytes);
          }
        },
      };
      const pkg = new Packager({ segmentDurationS: 2, frameRate: 30, ladder });
      const ended = new Promise((resolve, reject) => {
        pkg.on('ended', ({ result }) => resolve(result));
        pkg.on('error', ({ error, fatal }) => fatal && reject(error));
      });
      const start = performance.now();
      await pkg.start(source);
      const result = await ended;
      const seconds = (performance.now() - start) / 1000;
      if (result.renditions.length !== ladder.length || !pkg.files.has('manifest.mpd')) throw new Error('bad package');
      return result.durationS / seconds;
    },
    url,
    ladder,
    loops,
  );
}

async function ffmpegLadder(path) {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-bench-live-'));
  try {
    const seconds = await timeFfmpeg([
      ...['-stream_loop', String(LOOPS - 1), '-i', path],
      ...['-filter_complex', '[0:v]split=3[a][b][c];[b]scale=640:360[b2];[c]scale=416:234[c2]'],
      ...['-map', '[a]', '-map', '[b2]', '-map', '[c2]'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
      ...BITRATES.flatMap((bps, i) => [`-b:v:${i}`, String(bps)]),
      ...['-g', '60', '-keyint_min', '60', '-sc_threshold', '0'],
      ...['-f', 'dash', '-seg_duration', '2', '-use_template', '1', '-use_timeline', '1', '-hls_playlist', '1'],
      join(dir, 'manifest.mpd'),
    ]);
    return MEDIA_S / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ page, repeats }) {
  await loadBundle(page);
  const { path, url } = await benchFile();
  await liveInPage(page, url, LADDER.slice(0, 1), 1); // warm-up: mediabunny and the workers load
  const ladder = [];
  const single = [];
  const ffmpeg = [];
  for (let i = 0; i < repeats; i++) {
    ladder.push(await liveInPage(page, url, LADDER, LOOPS));
    single.push(await liveInPage(page, url, LADDER.slice(0, 1), LOOPS));
    ffmpeg.push(await ffmpegLadder(path));
  }
  const oursLabel = 'Packager live, 3 renditions 1280×720 + 640×360 + 416×234 (WebCodecs, one Worker each)';
  return {
    rows: [
      {
        unit: '× real time',
        ours: ladder,
        baseline: single,
        oursLabel,
        baselineLabel: 'Packager live, the same frames into one 1280×720 rendition',
      },
      {
        unit: '× real time',
        ours: ladder,
        baseline: ffmpeg,
        oursLabel,
        baselineLabel: 'ffmpeg libx264 veryfast zerolatency, same 3-size ladder, -f dash -hls_playlist 1',
      },
    ],
  };
}
