// VOD packaging of the same 10 s 720p H.264 file into DASH + HLS over one set of segments: framewire's Packager in
// Chromium vs ffmpeg's dash muxer with `-hls_playlist 1` (an MPD and HLS playlists over the same fMP4 segments).
// Three rows: transmux (no re-encoding; ffmpeg `-c copy`), the same transmux against ffmpeg's plain HLS muxer
// (`-c copy -f hls`, fMP4 segments: one manifest format only), and a 2-rendition transcode (1280×720 + 640×360;
// ffmpeg libx264 veryfast). Figures are × real time (media seconds per wall-clock second).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAMES, benchFile, loadBundle, timeFfmpeg } from './media-fixture.mjs';

const MEDIA_S = FRAMES / 30;
const LADDER = [
  { width: 1280, height: 720, bitrateBps: 2_500_000 },
  { width: 640, height: 360, bitrateBps: 700_000 },
];

export const name = `VOD packaging of ${MEDIA_S} s of 720p H.264 into DASH + HLS: Packager vs ffmpeg -f dash -hls_playlist 1`;

function packageInPage(page, url, ladder) {
  return page.evaluate(
    async (url, ladder) => {
      const { FileSource, Packager } = globalThis.Framewire;
      const bytes = await (await fetch(url)).blob();
      const start = performance.now();
      const source = await FileSource.open(bytes);
      const pkg = new Packager({ segmentDurationS: 2, ...(ladder ? { ladder, transmux: 'never' } : {}) });
      const result = await pkg.package(source);
      await source.close();
      if (!pkg.files.has('manifest.mpd') || !pkg.files.has('master.m3u8')) throw new Error('no manifests');
      return result.durationS / ((performance.now() - start) / 1000);
    },
    url,
    ladder,
  );
}

/** `ffmpeg -c copy -f hls` (fMP4 segments, 2 s): the transmux baseline, HLS only. */
async function ffmpegHls(path) {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-bench-hls-'));
  try {
    const args = ['-i', path, '-c', 'copy', '-f', 'hls', '-hls_time', '2', '-hls_segment_type', 'fmp4'];
    const seconds = await timeFfmpeg([...args, '-hls_playlist_type', 'vod', join(dir, 'index.m3u8')]);
    return MEDIA_S / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ffmpegPackage(path, transcode) {
  const dir = mkdtempSync(join(tmpdir(), 'framewire-bench-pkg-'));
  try {
    const common = [
      '-f',
      'dash',
      '-seg_duration',
      '2',
      '-use_template',
      '1',
      '-use_timeline',
      '1',
      '-hls_playlist',
      '1',
    ];
    const args = transcode
      ? [
          ...['-i', path, '-filter_complex', '[0:v]split=2[a][b];[b]scale=640:360[c]', '-map', '[a]', '-map', '[c]'],
          ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v:0', '2500000', '-b:v:1', '700000'],
          ...['-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
        ]
      : ['-i', path, '-c', 'copy'];
    const seconds = await timeFfmpeg([...args, ...common, join(dir, 'manifest.mpd')]);
    return MEDIA_S / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ page, repeats }) {
  await loadBundle(page);
  const { path, url } = await benchFile();
  await packageInPage(page, url, null); // warm-up: mediabunny and the workers load
  const rows = [];
  for (const [label, ladder, hlsOnly] of [
    ['transmux', null, false],
    ['transmux', null, true],
    ['2-rendition transcode', LADDER, false],
  ]) {
    const ours = [];
    const baseline = [];
    for (let i = 0; i < repeats; i++) {
      ours.push(await packageInPage(page, url, ladder));
      baseline.push(hlsOnly ? await ffmpegHls(path) : await ffmpegPackage(path, ladder !== null));
    }
    rows.push({
      unit: '× real time',
      ours,
      baseline,
      oursLabel: `Packager, ${label} (WebCodecs + mediabunny)`,
      baselineLabel: ladder
        ? 'ffmpeg libx264 veryfast, -f dash -hls_playlist 1'
        : hlsOnly
          ? 'ffmpeg -c copy -f hls (fMP4 segments, HLS only)'
          : 'ffmpeg -c copy, -f dash -hls_playlist 1',
    });
  }
  return { rows };
}
