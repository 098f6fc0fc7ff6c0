import { expect } from 'chai';
import {
  CameraSource,
  FileSource,
  FramewireError,
  Packager,
  Player,
  type FrameSource,
  type PackageResult,
} from '../../packages/browser-sdk/dist/index.js';
import { isClosed, rejection, sleep, thrown, until, within } from '../helpers/browser.js';
import {
  ffprobeUrl,
  mediaBlob,
  readCmafSegment,
  startTestServer,
  type CmafSegment,
  type TestServer,
} from '../helpers/media.js';

const servers: TestServer[] = [];
const closers: (() => unknown)[] = [];
async function server(options: object = {}): Promise<TestServer> {
  const started = await startTestServer('package', options);
  servers.push(started);
  return started;
}
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const s of servers.splice(0)) await s.stop();
  document.querySelectorAll('video').forEach((v) => v.remove());
});

/** PUTs an in-memory package to a package server. */
async function upload(files: Map<string, Blob>, base: string): Promise<void> {
  for (const [path, blob] of files) {
    const response = await fetch(`${base}/${path}`, { method: 'PUT', body: blob });
    expect(response.ok, path).to.equal(true);
  }
}

const text = async (url: string): Promise<string> => (await fetch(url, { cache: 'no-store' })).text();

/** The `tfdt` time of a CMAF media segment and its `mdhd` timescale's view: seconds from the init segment. */
async function segmentStartS(base: string, track: string, n: number): Promise<number> {
  const init = new DataView(await (await fetch(`${base}/${track}/init.mp4`)).arrayBuffer());
  const seg = new DataView(await (await fetch(`${base}/${track}/seg-${n}.m4s`)).arrayBuffer());
  const find = (view: DataView, type: string): number => {
    for (let i = 0; i + 8 < view.byteLength; i++) {
      if (String.fromCharCode(...[4, 5, 6, 7].map((k) => view.getUint8(i + k))) === type) return i;
    }
    throw new Error(`no ${type}`);
  };
  const mdhd = find(init, 'mdhd');
  const timescale = init.getUint32(mdhd + 8 + (init.getUint8(mdhd + 8) === 1 ? 20 : 12));
  const tfdt = find(seg, 'tfdt');
  const time = seg.getUint8(tfdt + 8) === 1 ? Number(seg.getBigUint64(tfdt + 12)) : seg.getUint32(tfdt + 12);
  return time / timescale;
}

async function blobAt(base: string, path: string): Promise<Blob> {
  const response = await fetch(`${base}/${path}`, { cache: 'no-store' });
  expect(response.ok, path).to.equal(true);
  return response.blob();
}

/** Every segment a track's media playlist lists, read back with mp4box.js. */
async function readListed(base: string, id: string): Promise<CmafSegment[]> {
  const playlist = await text(`${base}/${id}/index.m3u8`);
  const init = await blobAt(base, `${id}/init.mp4`);
  const numbers = [...playlist.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
  const segments: CmafSegment[] = [];
  for (const n of numbers) segments.push(await readCmafSegment(init, await blobAt(base, `${id}/seg-${n}.m4s`)));
  return segments;
}

/** The peak bit rate of a track, measured on its files: the largest segment size × 8 / its samples' duration. */
const peakBps = (segments: readonly CmafSegment[]): number =>
  Math.max(...segments.map((s) => (s.bytes * 8) / s.durationS));

/** Presentation times (ms) of every key frame (sync sample) of a track. */
const keyTimesMs = (segments: readonly CmafSegment[]): number[] =>
  segments.flatMap((s) => s.samples.filter((x) => x.key).map((x) => Math.round(x.ptsS * 1000)));

/**
 * Reads every listed segment with mp4box.js and checks the manifests against the files, not against the packager's
 * own numbers: CODECS (HLS) and `codecs` (DASH) are the segments' codec strings; BANDWIDTH ≥ the measured peak
 * (video + audio for a variant); every segment starts with a key frame and the renditions' key frames fall at the
 * same presentation times. Returns the segments by track id.
 */
async function checkSegments(base: string): Promise<Map<string, CmafSegment[]>> {
  const master = await text(`${base}/master.m3u8`);
  const mpd = new DOMParser().parseFromString(await text(`${base}/manifest.mpd`), 'application/xml');
  const audioId = /#EXT-X-MEDIA:TYPE=AUDIO.*URI="([^/"]+)\/index\.m3u8"/.exec(master)?.[1];
  const variants = [...master.matchAll(/#EXT-X-STREAM-INF:([^\n]+)\n([^/\n]+)\/index\.m3u8/g)];
  expect(variants.length).to.be.greaterThan(0);
  const tracks = new Map<string, CmafSegment[]>();
  for (const id of [...variants.map((v) => v[2]!), ...(audioId ? [audioId] : [])]) {
    const segments = await readListed(base, id);
    expect(segments.length, id).to.be.greaterThan(0);
    tracks.set(id, segments);
    const representation = mpd.querySelector(`Representation[id="${id}"]`);
    expect(representation, `MPD Representation ${id}`).to.not.equal(null);
    expect(representation!.getAttribute('codecs'), `${id} MPD codecs`).to.equal(segments[0]!.codec);
    const bandwidth = Number(representation!.getAttribute('bandwidth'));
    // 1e-9: the measured peak in floating point may exceed an exact integer rate by a rounding error.
    expect(bandwidth, `${id} MPD bandwidth ≥ measured peak`).to.be.at.least(peakBps(segments) * (1 - 1e-9));
  }
  const audio = audioId ? tracks.get(audioId) : undefined;
  for (const [, attributes, id] of variants) {
    const video = tracks.get(id!)!;
    const codecs = /CODECS="([^"]+)"/.exec(attributes!)?.[1];
    expect(codecs, `${id} CODECS`).to.equal([video[0]!.codec, ...(audio ? [audio[0]!.codec] : [])].join(','));
    const bandwidth = Number(/(?:^|,)BANDWIDTH=(\d+)/.exec(attributes!)?.[1]);
    const peak = peakBps(video) + (audio ? peakBps(audio) : 0);
    expect(bandwidth, `${id} BANDWIDTH ≥ measured peak ${Math.round(peak)}`).to.be.at.least(peak * (1 - 1e-9));
  }
  const videos = variants.map(([, , id]) => tracks.get(id!)!);
  for (const [i, segments] of videos.entries()) {
    for (const [n, segment] of segments.entries()) {
      expect(segment.samples[0]?.key, `v${i} segment ${n} starts with a key frame`).to.equal(true);
    }
    expect(keyTimesMs(segments), `key frames of ${variants[i]![2]} vs ${variants[0]![2]}`).to.deep.equal(
      keyTimesMs(videos[0]!),
    );
  }
  return tracks;
}

/** Decodes a video segment's first (key) frame with WebCodecs and returns its pixels. */
async function firstPicture(segment: CmafSegment): Promise<ImageData> {
  const frames: VideoFrame[] = [];
  let failure: unknown;
  const decoder = new VideoDecoder({ output: (f) => frames.push(f), error: (e) => (failure = e) });
  decoder.configure({ codec: segment.codec, ...(segment.description ? { description: segment.description } : {}) });
  const sample = segment.samples[0]!;
  decoder.decode(new EncodedVideoChunk({ type: 'key', timestamp: Math.round(sample.ptsS * 1e6), data: sample.data }));
  await decoder.flush();
  decoder.close();
  const [frame, ...rest] = frames;
  for (const f of rest) f.close();
  expect(failure, String(failure)).to.equal(undefined);
  expect(frame, 'a decoded frame').to.not.equal(undefined);
  const canvas = new OffscreenCanvas(frame!.displayWidth, frame!.displayHeight);
  const context = canvas.getContext('2d')!;
  context.drawImage(frame!, 0, 0);
  frame!.close();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** The colour at (x, y) of `image`, as `red`, `blue`, `black` or `other` (with some room for compression). */
function colourAt(image: ImageData, x: number, y: number): string {
  const i = (Math.round(y) * image.width + Math.round(x)) * 4;
  const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
  if (r < 50 && g < 50 && b < 50) return 'black';
  if (r > 150 && g < 90 && b < 90) return 'red';
  if (b > 150 && r < 90 && g < 90) return 'blue';
  return `other(${r},${g},${b})`;
}

/**
 * A live source of red | blue frames (left half red, right half blue) at 30 fps that switches size after
 * `switchAt` frames; it ends after `total` frames (Infinity: never). Records every frame it made.
 */
function switchingSource(
  sizes: [[number, number], [number, number]],
  switchAt: number,
  total: number,
): { source: FrameSource; made: VideoFrame[] } {
  const made: VideoFrame[] = [];
  let i = 0;
  const source = {
    kind: 'switching',
    read: () => {
      if (i >= total) return Promise.resolve(null);
      const [width, height] = sizes[i < switchAt ? 0 : 1];
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#f00';
      context.fillRect(0, 0, width / 2, height);
      context.fillStyle = '#00f';
      context.fillRect(width / 2, 0, width / 2, height);
      const frame = new VideoFrame(canvas, { timestamp: Math.round((i++ * 1e6) / 30) });
      made.push(frame);
      return Promise.resolve(frame);
    },
  } as unknown as FrameSource;
  return { source, made };
}

/** Checks a VOD or live HLS media playlist against the checklist; returns its segment numbers. */
function checkMediaPlaylist(playlist: string, vod: boolean): number[] {
  const lines = playlist.trim().split('\n');
  expect(lines[0]).to.equal('#EXTM3U');
  const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(playlist)?.[1]);
  const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
  expect(durations.length).to.be.greaterThan(0);
  for (const d of durations) expect(Math.round(d)).to.be.at.most(target);
  expect(playlist).to.match(/#EXT-X-MAP:URI="init\.mp4"/);
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
  const numbers = [...playlist.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
  expect(numbers[0]).to.equal(sequence);
  numbers.forEach((n, i) => expect(n).to.equal(sequence + i));
  if (vod) {
    expect(playlist).to.include('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist).to.include('#EXT-X-ENDLIST');
  } else {
    expect(playlist).to.include('#EXT-X-PROGRAM-DATE-TIME:');
  }
  return numbers;
}

/** Parses an MPD's SegmentTimelines: per Representation id, the list of [t, d] in seconds. */
function mpdTimelines(mpd: string): Map<string, [number, number][]> {
  const doc = new DOMParser().parseFromString(mpd, 'application/xml');
  expect(doc.querySelector('parsererror')).to.equal(null);
  const result = new Map<string, [number, number][]>();
  for (const rep of doc.querySelectorAll('Representation')) {
    const template = rep.querySelector('SegmentTemplate')!;
    const timescale = Number(template.getAttribute('timescale'));
    const list: [number, number][] = [];
    let t = 0;
    for (const s of template.querySelectorAll('S')) {
      if (s.hasAttribute('t')) t = Number(s.getAttribute('t'));
      const d = Number(s.getAttribute('d'));
      for (let k = 0; k <= Number(s.getAttribute('r') ?? 0); k++) {
        list.push([t / timescale, d / timescale]);
        t += d;
      }
    }
    // The timeline is continuous: every segment starts where the previous one ended.
    for (let i = 1; i < list.length; i++) expect(list[i]![0]).to.be.closeTo(list[i - 1]![0] + list[i - 1]![1], 1e-6);
    result.set(rep.getAttribute('id')!, list);
  }
  return result;
}

/** Plays `url` with `type`, showing every rendition at least once; VOD to the end, live for `liveS` seconds. */
async function play(url: string, type: 'hls' | 'dash', liveS?: number): Promise<Set<number>> {
  const video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  const player = await within(Player.open(video, url, { type }), 60_000, `${type} reads the manifest`);
  closers.push(() => player.close());
  const errors: FramewireError[] = [];
  player.on('error', ({ error, fatal }) => fatal && errors.push(error));
  const shown = new Set<number>();
  const count = player.renditions.length;
  expect(count).to.be.greaterThan(0);
  let next = 0;
  player.on('rendition', ({ index }) => {
    shown.add(index);
    if (index === next && next + 1 < count) player.selectRendition(++next);
  });
  player.selectRendition(0);
  if (liveS === undefined) {
    video.playbackRate = 2;
    await within(
      new Promise<void>((resolve, reject) => {
        video.addEventListener('ended', () => resolve());
        player.on('error', ({ error, fatal }) => fatal && reject(error));
      }),
      90_000,
      `${type} plays to the end`,
    );
  } else {
    await until(() => video.currentTime >= 0.5, `${type} starts the live stream`);
    // Playback goes on past what was there when it started: the stream grew meanwhile, however slowly here.
    const from = video.currentTime;
    await until(() => video.currentTime - from > liveS / 2, `${type} to advance ${liveS / 2} s while the stream grows`);
    expect(video.currentTime - from, `${type} advanced while the stream grew`).to.be.greaterThan(liveS / 2);
  }
  expect(errors.map((e) => e.message)).to.deep.equal([]);
  expect([...shown].sort(), `${type} showed every rendition`).to.deep.equal([...Array(count).keys()]);
  return shown;
}

/** Checks a finished package on `base` and plays it with both engines. */
async function checkVod(base: string, result: PackageResult, renditions: number, videoCodec = 'h264'): Promise<void> {
  const master = await text(`${base}/master.m3u8`);
  expect(master).to.include('#EXT-X-INDEPENDENT-SEGMENTS');
  const variants = [...master.matchAll(/#EXT-X-STREAM-INF:([^\n]+)\n([^\n]+)/g)];
  expect(variants.length).to.equal(renditions);
  for (const [, attributes, uri] of variants) {
    const id = uri!.split('/')[0]!;
    const rendition = result.renditions.find((r) => r.id === id)!;
    expect(attributes).to.include(`CODECS="${rendition.codec}`);
    expect(attributes).to.include(`RESOLUTION=${rendition.width}x${rendition.height}`);
    checkMediaPlaylist(await text(`${base}/${uri}`), true);
  }
  const mpd = await text(`${base}/manifest.mpd`);
  expect(mpd).to.include('type="static"');
  const timelines = mpdTimelines(mpd);
  const video = result.renditions.map((r) => timelines.get(r.id)!);
  // GOP-aligned renditions: identical timelines, and identical tfdt in every segment.
  for (const timeline of video) expect(timeline).to.deep.equal(video[0]);
  for (let n = 1; n <= video[0]!.length; n++) {
    const starts = await Promise.all(result.renditions.map((r) => segmentStartS(base, r.id, n)));
    for (const s of starts) expect(s).to.be.closeTo(video[0]![n - 1]![0], 1e-3);
  }
  const end = video[0]!.at(-1)!;
  expect(end[0] + end[1]).to.be.closeTo(result.durationS, 0.05);
  await checkSegments(base);
  for (const manifest of ['master.m3u8', 'manifest.mpd']) {
    const probe = await ffprobeUrl(`${base}/${manifest}`);
    expect(probe.error, `ffprobe ${manifest}: ${probe.error}`).to.equal(undefined);
    const streams = probe.streams!.filter((s) => s.codec_type === 'video');
    expect(streams.length, manifest).to.be.at.least(renditions);
    expect(streams[0]!.codec_name).to.equal(videoCodec);
  }
  await play(`${base}/master.m3u8`, 'hls');
  await play(`${base}/manifest.mpd`, 'dash');
}

describe('Packager', () => {
  it('Packager, VOD transmux: a file is copied into one set of CMAF segments that hls.js, dash.js and ffprobe read', async () => {
    const source = await FileSource.open(await mediaBlob('pkg-av.mp4'));
    closers.push(() => source.close());
    const pkg = new Packager({ segmentDurationS: 1 });
    const progress: number[] = [];
    pkg.on('progress', ({ percent }) => progress.push(percent ?? -1));
    const result = await within(pkg.package(source), 90_000, 'packaging finishes');
    expect(result.transmuxed).to.equal(true);
    expect(result.audio).to.equal('a0');
    expect(result.durationS).to.be.closeTo(4, 0.1);
    expect(progress.at(-1)).to.equal(100);
    for (const path of [
      'manifest.mpd',
      'master.m3u8',
      'v0/index.m3u8',
      'a0/index.m3u8',
      'v0/init.mp4',
      'v0/seg-1.m4s',
    ]) {
      expect(pkg.files.has(path), path).to.equal(true);
    }
    expect(pkg.files.get('manifest.mpd')!.type).to.equal('application/dash+xml');
    expect(pkg.files.get('v0/seg-1.m4s')!.type).to.equal('video/iso.segment');
    expect([...pkg.files.keys()].sort()).to.deep.equal(result.paths);
    const origin = await server();
    await upload(pkg.files, origin.url);
    const master = await text(`${origin.url}/master.m3u8`);
    expect(master).to.match(/#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="a0\/index\.m3u8"/);
    expect(master).to.match(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    await checkVod(origin.url, result, 1);
    expect((await origin.stats()).misses).to.deep.equal([]);
  });

  it('Packager, VOD transcode: a 2-rendition ladder (never upscaled) uploaded by PUT, GOP-aligned, both players switch', async () => {
    const origin = await server();
    const source = await FileSource.open(await mediaBlob('pkg-av.mp4'));
    closers.push(() => source.close());
    const pkg = new Packager({
      segmentDurationS: 1,
      ladder: [
        { width: 640, height: 480 },
        { width: 320, height: 240 },
        { width: 160, height: 120, bitrateBps: 150_000 },
      ],
      target: { upload: origin.url },
    });
    const etas: (number | null)[] = [];
    pkg.on('progress', ({ etaS, fps }) => {
      etas.push(etaS);
      expect(fps).to.be.at.least(0);
    });
    const result = await within(pkg.package(source), 90_000, 'packaging finishes');
    expect(result.transmuxed).to.equal(false);
    expect(result.renditions.map((r) => `${r.width}x${r.height}`)).to.deep.equal(['320x240', '160x120']);
    expect(result.renditions[0]!.bitrateBps).to.equal(Math.round(320 * 240 * 30 * 0.1));
    expect(result.renditions[1]!.bitrateBps).to.equal(150_000);
    expect(pkg.files.size, 'nothing kept in memory with an upload target').to.equal(0);
    expect((await origin.stats()).files).to.deep.equal(result.paths);
    expect(etas.at(-1)).to.equal(0);
    await checkVod(origin.url, result, 2);
    const stats = await origin.stats();
    expect(stats.misses).to.deep.equal([]);
  });

  it('Packager, live: frames from the camera become a growing DASH/HLS window that both players follow; stop() ends it', async () => {
    const origin = await server();
    const camera = await CameraSource.open({ width: 320, height: 240 });
    closers.push(() => camera.close());
    const pkg = new Packager({
      segmentDurationS: 1,
      windowSize: 3,
      extraWindowSize: 1,
      frameRate: 20,
      ladder: [
        { width: 320, height: 240 },
        { width: 160, height: 120 },
      ],
      target: { upload: origin.url },
    });
    const errors: FramewireError[] = [];
    pkg.on('error', ({ error }) => errors.push(error));
    let manifests = 0;
    pkg.on('manifest', () => manifests++);
    await pkg.start(camera);
    closers.push(() => pkg.cancel());
    await until(() => manifests >= 2, 'the first live manifests');
    const mpd = await text(`${origin.url}/manifest.mpd`);
    for (const attribute of [
      'type="dynamic"',
      'availabilityStartTime=',
      'publishTime=',
      'minimumUpdatePeriod=',
      'timeShiftBufferDepth=',
      '<UTCTiming',
    ]) {
      expect(mpd).to.include(attribute);
    }
    mpdTimelines(mpd);
    await play(`${origin.url}/master.m3u8`, 'hls', 4);
    await play(`${origin.url}/manifest.mpd`, 'dash', 4);
    // The window slides: media sequence numbers only grow, and old segments are deleted after the extra window.
    const first = checkMediaPlaylist(await text(`${origin.url}/v0/index.m3u8`), false);
    expect(first.length).to.be.at.most(3);
    const later = await until(async () => {
      const now = checkMediaPlaylist(await text(`${origin.url}/v0/index.m3u8`), false);
      return now[0]! > first[0]! ? now : undefined;
    }, 'the window to slide');
    expect(later[0]).to.be.greaterThan(first[0]!);
    const stats = await origin.stats();
    expect(stats.deleted).to.include('v0/seg-1.m4s');
    expect(stats.misses.filter((m) => m.endsWith('.m3u8') || m.endsWith('.mpd'))).to.deep.equal([]);
    // Every segment a manifest lists is on the origin.
    for (const n of later) expect(stats.files).to.include(`v0/seg-${n}.m4s`);
    const result = await pkg.stop();
    expect(result.renditions.length).to.equal(2);
    const final = await text(`${origin.url}/v0/index.m3u8`);
    expect(final).to.include('#EXT-X-ENDLIST');
    expect(await text(`${origin.url}/manifest.mpd`)).to.include('mediaPresentationDuration=');
    expect(await text(`${origin.url}/manifest.mpd`)).not.to.include('minimumUpdatePeriod=');
    expect(errors).to.deep.equal([]);
    const probe = await ffprobeUrl(`${origin.url}/master.m3u8`);
    expect(probe.error, probe.error).to.equal(undefined);
  });

  it('Packager, OPFS target: the package lands in an origin-private folder, by path', async () => {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('fw-package-test', { recursive: true }).catch(() => undefined);
    closers.push(() => root.removeEntry('fw-package-test', { recursive: true }).catch(() => undefined));
    const source = await FileSource.open(await mediaBlob('pkg-av.mp4'));
    closers.push(() => source.close());
    const pkg = new Packager({ segmentDurationS: 1, target: { opfs: 'fw-package-test' } });
    const result = await pkg.package(source);
    expect(pkg.files.size).to.equal(0);
    const folder = await root.getDirectoryHandle('fw-package-test');
    const read = async (path: string): Promise<File> => {
      const parts = path.split('/');
      let dir = folder;
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
      return (await dir.getFileHandle(parts.at(-1)!)).getFile();
    };
    for (const path of result.paths) expect((await read(path)).size, path).to.be.greaterThan(0);
    expect(await (await read('master.m3u8')).text()).to.include('v0/index.m3u8');
    expect(await (await read('manifest.mpd')).text()).to.include('type="static"');
  });

  it('Packager, a target that refuses writes (HTTP 500, HTTP 403) fails with FW_ERR_WRITE_FAILED and no manifest', async () => {
    for (const [failStatus, failAfter] of [
      [500, 3],
      [403, 0],
    ] as const) {
      const origin = await server({ failStatus, failAfter });
      const source = await FileSource.open(await mediaBlob('pkg-av.mp4'));
      closers.push(() => source.close());
      const pkg = new Packager({ segmentDurationS: 1, target: { upload: origin.url } });
      const fatal: FramewireError[] = [];
      pkg.on('error', ({ error, fatal: isFatal }) => isFatal && fatal.push(error));
      const error = (await rejection(() => pkg.package(source))) as FramewireError;
      expect(error).to.be.instanceOf(FramewireError);
      expect(error.code, error.message).to.equal('FW_ERR_WRITE_FAILED');
      expect(error.details['status']).to.equal(failStatus);
      expect(fatal.length, 'one fatal error event').to.equal(1);
      const files = (await origin.stats()).files;
      expect(files.filter((f) => f.endsWith('.mpd') || f.endsWith('.m3u8'))).to.deep.equal([]);
    }
  });

  it('Packager, cancel mid-way rejects with FW_ERR_CLOSED, removes what was written and leaks no VideoFrame', async () => {
    const made: VideoFrame[] = [];
    const canvas = new OffscreenCanvas(160, 120);
    const ctx = canvas.getContext('2d')!;
    let i = 0;
    const source = {
      kind: 'synthetic',
      ended: false,
      read: async () => {
        await sleep(5);
        ctx.fillStyle = `hsl(${(i * 7) % 360} 80% 50%)`;
        ctx.fillRect(0, 0, 160, 120);
        const frame = new VideoFrame(canvas, { timestamp: Math.round((i++ * 1e6) / 30) });
        made.push(frame);
        return frame;
      },
    } as unknown as FrameSource;
    const origin = await server();
    const pkg = new Packager({ segmentDurationS: 0.5, target: { upload: origin.url } });
    await pkg.start(source);
    await until(() => made.length > 10, 'the packager to read frames');
    await pkg.cancel();
    await pkg.cancel();
    const error = (await rejection(() => pkg.stop())) as FramewireError;
    expect(error.code).to.equal('FW_ERR_CLOSED');
    expect(made.length).to.be.greaterThan(10);
    // The frame a read in flight returns after cancel() is closed when it lands.
    await until(() => made.every(isClosed), 'every frame closed').catch(() => undefined);
    expect(made.filter((f) => !isClosed(f)).length, 'frames left open').to.equal(0);
  });

  it('Packager, VOD cancel through an AbortSignal removes every file written so far', async () => {
    const source = await FileSource.open(await mediaBlob('pkg-av.mp4'));
    closers.push(() => source.close());
    const pkg = new Packager({ segmentDurationS: 0.5, ladder: [{ width: 160, height: 120 }] });
    const controller = new AbortController();
    pkg.on('segment', () => controller.abort());
    const error = (await rejection(() => pkg.package(source, { signal: controller.signal }))) as FramewireError;
    expect(error.code).to.equal('FW_ERR_CLOSED');
    expect([...pkg.files.keys()]).to.deep.equal([]);
  });

  it('Packager, bad input: unsupported audio codec, a truncated file, non-monotonic timestamps, bad options', async () => {
    const mp3 = await FileSource.open(await mediaBlob('pkg-mp3.mkv'));
    closers.push(() => mp3.close());
    const unsupported = (await rejection(() => new Packager().package(mp3))) as FramewireError;
    expect(unsupported.code).to.equal('FW_ERR_CODEC_UNSUPPORTED');

    const truncated = await FileSource.open(await mediaBlob('truncated-faststart.mp4'));
    closers.push(() => truncated.close());
    const early = new Packager({ segmentDurationS: 0.5, transmux: 'never' });
    const ended = (await rejection(() => early.package(truncated))) as FramewireError;
    expect(['FW_ERR_SOURCE_ENDED_EARLY', 'FW_ERR_DECODE_FAILED', 'FW_ERR_MEDIA_UNREADABLE']).to.include(ended.code);
    expect([...early.files.keys()].filter((f) => f.endsWith('.mpd') || f.endsWith('.m3u8'))).to.deep.equal([]);

    const nothing = { kind: 'empty', read: () => Promise.resolve(null) } as unknown as FrameSource;
    const empty = (await rejection(() => new Packager().start(nothing))) as FramewireError;
    expect(empty.code).to.equal('FW_ERR_SOURCE_ENDED_EARLY');

    const stamps = [0, 33_333, 20_000, 66_667, 100_000];
    const backwards = {
      kind: 'backwards',
      read: () => {
        const t = stamps.shift();
        const canvas = new OffscreenCanvas(64, 48);
        canvas.getContext('2d')!.fillRect(0, 0, 64, 48);
        return Promise.resolve(t === undefined ? null : new VideoFrame(canvas, { timestamp: t }));
      },
    } as unknown as FrameSource;
    const live = new Packager({ segmentDurationS: 0.5 });
    const warnings: string[] = [];
    live.on('error', ({ error, fatal }) => !fatal && warnings.push(error.code));
    await live.start(backwards);
    // The packager reads until the source ends; stop() only once every frame was read.
    await until(() => stamps.length === 0, 'the source is drained');
    await live.stop();
    expect(warnings).to.deep.equal(['FW_ERR_TIMESTAMP_NOT_MONOTONIC']);
    expect(live.files.has('manifest.mpd')).to.equal(true);

    for (const options of [
      { formats: ['smooth'] },
      { segmentDurationS: 0 },
      { ladder: [{ width: 321, height: 240 }] },
      { windowSize: 0 },
      { target: { ftp: 'x' } },
      { codec: 'hevc' },
      { durationS: 0 },
    ]) {
      const error = thrown(() => new Packager(options as never)) as FramewireError;
      expect(error.code, JSON.stringify(options)).to.equal('FW_ERR_INVALID_OPTION');
    }
  });
  it('Packager, live: a source that changes size (640×480 → 320×180) is letterboxed into every rendition; durationS ends it', async () => {
    const origin = await server();
    const { source, made } = switchingSource(
      [
        [640, 480],
        [320, 180],
      ],
      45,
      Infinity,
    );
    const pkg = new Packager({
      segmentDurationS: 1,
      frameRate: 30,
      durationS: 3,
      ladder: [
        { width: 640, height: 480 },
        { width: 320, height: 240 },
      ],
      target: { upload: origin.url },
    });
    closers.push(() => pkg.cancel());
    const errors: FramewireError[] = [];
    pkg.on('error', ({ error }) => errors.push(error));
    const progress: { percent: number | null; mediaTimeS: number; etaS: number | null; segmentsWritten: number }[] = [];
    pkg.on('progress', (p) => progress.push(p));
    const ended = new Promise<PackageResult>((resolve) => pkg.on('ended', ({ result }) => resolve(result)));
    await pkg.start(source);
    // durationS: the packager stops by itself after 3 s of media; stop() hands over that same result.
    const result = await within(ended, 90_000, 'the package ends after durationS');
    expect(await pkg.stop()).to.equal(result);
    expect(errors).to.deep.equal([]);
    expect(result.durationS).to.be.closeTo(3, 0.1);
    expect(made.length, 'frames read: 3 s at 30 fps, and the one that reached the limit').to.equal(91);
    expect(made.filter((f) => !isClosed(f)).length, 'frames left open').to.equal(0);
    // Live progress with a set duration: percent and ETA; media time and segments only grow.
    expect(progress.length).to.be.greaterThan(1);
    const last = progress.at(-1)!;
    expect(last.percent).to.equal(100);
    expect(last.mediaTimeS).to.be.closeTo(3, 0.1);
    expect(last.segmentsWritten).to.equal(6);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.mediaTimeS).to.be.at.least(progress[i - 1]!.mediaTimeS);
      expect(progress[i]!.segmentsWritten).to.be.at.least(progress[i - 1]!.segmentsWritten);
    }
    for (const p of progress) expect(p.percent === null || p.etaS === null, 'percent and ETA together').to.equal(false);

    const tracks = await checkSegments(origin.url);
    for (const [id, width, height, bar] of [
      ['v0', 640, 480, 60],
      ['v1', 320, 240, 30],
    ] as const) {
      const segments = tracks.get(id)!;
      expect(segments.length).to.equal(3);
      expect([segments[0]!.width, segments[0]!.height]).to.deep.equal([width, height]);
      // Before the switch the picture fills the frame; after it, 16:9 in 4:3 has black bars above and below.
      const before = await firstPicture(segments[0]!);
      const after = await firstPicture(segments[2]!);
      expect([before.width, before.height, after.width, after.height]).to.deep.equal([width, height, width, height]);
      expect(colourAt(before, width / 4, 4), `${id} top before`).to.equal('red');
      expect(colourAt(before, (3 * width) / 4, height - 4), `${id} bottom before`).to.equal('blue');
      expect(colourAt(after, width / 4, bar / 2), `${id} top bar`).to.equal('black');
      expect(colourAt(after, (3 * width) / 4, height - bar / 2), `${id} bottom bar`).to.equal('black');
      expect(colourAt(after, width / 4, height / 2), `${id} left half`).to.equal('red');
      expect(colourAt(after, (3 * width) / 4, height / 2), `${id} right half`).to.equal('blue');
      expect(colourAt(after, width / 4, bar + 4), `${id} picture starts below the bar`).to.equal('red');
    }
    await play(`${origin.url}/master.m3u8`, 'hls');
    await play(`${origin.url}/manifest.mpd`, 'dash');
  });

  for (const [codec, prefix, probeName] of [
    ['vp9', 'vp09.', 'vp9'],
    ['av1', 'av01.', 'av1'],
  ] as const) {
    it(`Packager, ${codec.toUpperCase()} renditions: ${prefix}… CODECS match the segments; hls.js, dash.js and ffprobe read them`, async () => {
      const origin = await server();
      const source = await FileSource.open(await mediaBlob('pkg-av.mp4'));
      closers.push(() => source.close());
      const pkg = new Packager({
        codec,
        segmentDurationS: 1,
        ladder: [
          { width: 320, height: 240 },
          { width: 160, height: 120 },
        ],
        target: { upload: origin.url },
      });
      const result = await within(pkg.package(source), 90_000, 'packaging finishes');
      expect(result.transmuxed).to.equal(false);
      for (const r of result.renditions) expect(r.codec.startsWith(prefix), r.codec).to.equal(true);
      const tracks = await checkSegments(origin.url);
      for (const r of result.renditions) {
        const segments = tracks.get(r.id)!;
        expect(segments[0]!.codec, 'mp4box.js reads the codec string the manifests state').to.equal(r.codec);
        expect([segments[0]!.width, segments[0]!.height]).to.deep.equal([r.width, r.height]);
        const picture = await firstPicture(segments[0]!);
        expect([picture.width, picture.height]).to.deep.equal([r.width, r.height]);
      }
      await checkVod(origin.url, result, 2, probeName);
    });
  }

  it('Packager, live with a microphone: an Opus audio track in its own segments, played with the video by both players', async () => {
    const origin = await server();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const mic = stream.getAudioTracks()[0]!;
    closers.push(() => mic.stop());
    const camera = await CameraSource.open({ width: 320, height: 240 });
    closers.push(() => camera.close());
    const pkg = new Packager({
      segmentDurationS: 1,
      windowSize: 4,
      frameRate: 20,
      audio: mic,
      target: { upload: origin.url },
    });
    closers.push(() => pkg.cancel());
    const errors: FramewireError[] = [];
    pkg.on('error', ({ error }) => errors.push(error));
    const progress: { percent: number | null; etaS: number | null; segmentsWritten: number }[] = [];
    pkg.on('progress', (p) => progress.push(p));
    let manifests = 0;
    pkg.on('manifest', () => manifests++);
    await pkg.start(camera);
    await until(() => manifests >= 2, 'the first live manifests');
    const master = await text(`${origin.url}/master.m3u8`);
    expect(master).to.match(/#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="a0\/index\.m3u8"/);
    const mpd = await text(`${origin.url}/manifest.mpd`);
    expect(mpd).to.match(/contentType="audio"/);
    for (const type of ['hls', 'dash'] as const) {
      const url = `${origin.url}/${type === 'hls' ? 'master.m3u8' : 'manifest.mpd'}`;
      await play(url, type, 3);
      const video = document.querySelector('video') as HTMLVideoElement & { webkitAudioDecodedByteCount: number };
      expect(video.webkitAudioDecodedByteCount, `${type} decoded audio`).to.be.greaterThan(0);
      for (const v of document.querySelectorAll('video')) v.remove();
    }
    const result = await pkg.stop();
    expect(result.audio).to.equal('a0');
    expect(errors).to.deep.equal([]);
    // Live progress without durationS: no percent, no ETA, segments counted.
    expect(progress.length).to.be.greaterThan(1);
    for (const p of progress) expect([p.percent, p.etaS]).to.deep.equal([null, null]);
    expect(progress.at(-1)!.segmentsWritten).to.be.greaterThan(2);
    const tracks = await checkSegments(origin.url);
    const audio = tracks.get('a0')!;
    expect(audio[0]!.type).to.equal('audio');
    expect(audio[0]!.codec.toLowerCase()).to.equal('opus');
    expect(audio[0]!.sampleRate, 'an audio sample rate').to.be.greaterThan(0);
    expect(audio[0]!.timescale, 'audio timescale = sample rate').to.equal(audio[0]!.sampleRate);
    // Audio timestamps are continuous across segments (no gaps, no overlaps).
    for (let i = 1; i < audio.length; i++) {
      const previous = audio[i - 1]!;
      const end = previous.samples.at(-1)!.dtsS + previous.samples.at(-1)!.durationS;
      expect(audio[i]!.samples[0]!.dtsS).to.be.closeTo(end, 1e-3);
    }
    const video = tracks.get('v0')!;
    const audioEnd = audio.at(-1)!.samples.at(-1)!.dtsS;
    const videoEnd = video.at(-1)!.samples.at(-1)!.ptsS;
    expect(audioEnd, 'audio lasts as long as the video').to.be.closeTo(videoEnd, 1.5);
  });
});
