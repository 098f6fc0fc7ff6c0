import { expect } from 'chai';
import {
  CameraSource,
  FramewireError,
  Packager,
  Player,
  Recorder,
  type PackagerOptions,
  type UploadReceipt,
} from '../../packages/browser-sdk/dist/index.js';
import { within, until } from '../helpers/browser.js';
import { ffprobe } from '../helpers/media.js';
import { ffmpegReads, startNginxOrigin, type NginxOrigin } from '../helpers/origin.js';

// Live DASH/HLS published to a real nginx (the configuration of docs/guides/origin.md), played while it is made.
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  document.querySelectorAll('video').forEach((v) => v.remove());
});

async function origin(token?: string): Promise<NginxOrigin> {
  const started = await startNginxOrigin(token);
  closers.push(() => started.close());
  return started;
}

async function camera(): Promise<CameraSource> {
  const source = await CameraSource.open({ width: 320, height: 240 });
  closers.push(() => source.close());
  return source;
}

/** A live packager publishing to `base`, with its error events collected. */
function livePackager(
  target: PackagerOptions['target'],
  extra: PackagerOptions = {},
): { pkg: Packager; errors: FramewireError[]; manifests: () => number } {
  const pkg = new Packager({ segmentDurationS: 1, frameRate: 20, windowSize: 3, extraWindowSize: 2, target, ...extra });
  closers.push(() => pkg.cancel());
  const errors: FramewireError[] = [];
  pkg.on('error', ({ error }) => errors.push(error));
  let manifests = 0;
  pkg.on('manifest', () => manifests++);
  return { pkg, errors, manifests: () => manifests };
}

const text = async (url: string): Promise<string> => (await fetch(url, { cache: 'no-store' })).text();

/** The segment paths (relative to the package root) a media playlist or an MPD lists. */
function listedIn(manifest: string): string[] {
  if (manifest.includes('#EXTM3U')) return [...manifest.matchAll(/^(seg-\d+\.m4s)$/gm)].map((m) => m[1]!);
  const mpd = new DOMParser().parseFromString(manifest, 'application/xml');
  const paths: string[] = [];
  for (const rep of mpd.querySelectorAll('Representation')) {
    const template = rep.querySelector('SegmentTemplate')!;
    let n = Number(template.getAttribute('startNumber'));
    for (const s of template.querySelectorAll('S')) {
      for (let k = 0; k <= Number(s.getAttribute('r') ?? 0); k++) paths.push(`${rep.id}/seg-${n++}.m4s`);
    }
  }
  return paths;
}

/**
 * Reads the live manifests (media playlist, master, MPD) the way a player does, and asks for every file they name
 * at once: returns the names that were missing.
 */
async function missingListed(base: string): Promise<string[]> {
  const missing: string[] = [];
  const check = async (url: string): Promise<void> => {
    const response = await fetch(url, { method: 'HEAD', cache: 'no-store' });
    if (response.status !== 200) missing.push(`${url} (${response.status})`);
  };
  const playlist = await fetch(`${base}/v0/index.m3u8`, { cache: 'no-store' });
  if (playlist.ok) {
    await check(`${base}/v0/init.mp4`);
    for (const seg of listedIn(await playlist.text())) await check(`${base}/v0/${seg}`);
  }
  const master = await fetch(`${base}/master.m3u8`, { cache: 'no-store' });
  if (master.ok) {
    for (const m of (await master.text()).matchAll(/^([^#\n]+\/index\.m3u8)$/gm)) await check(`${base}/${m[1]}`);
  }
  const mpd = await fetch(`${base}/manifest.mpd`, { cache: 'no-store' });
  if (mpd.ok) for (const path of listedIn(await mpd.text())) await check(`${base}/${path}`);
  return missing;
}

/** Plays a live manifest with the SDK's Player (hls.js or dash.js) until it advanced `seconds` of media. */
async function playLive(url: string, type: 'hls' | 'dash', seconds: number): Promise<void> {
  const video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  const player = await within(Player.open(video, url, { type }), 60_000, `${type} reads the manifest`);
  closers.push(() => player.close());
  const fatal: string[] = [];
  player.on('error', ({ error, fatal: isFatal }) => isFatal && fatal.push(error.message));
  await until(() => video.currentTime > 0.2 || fatal.length > 0, `${type} starts the live stream`);
  const from = video.currentTime;
  await until(() => video.currentTime - from >= seconds || fatal.length > 0, `${type} advances ${seconds} s`);
  expect(fatal, `${type} errors`).to.deep.equal([]);
  player.close();
  video.remove();
}

/** Numbers of a track's segments that nginx stored (a PUT answered 201 or 204). */
async function storedSegments(nginx: NginxOrigin, prefix: string): Promise<number[]> {
  const pattern = new RegExp(`^${prefix}/v0/seg-(\\d+)\\.m4s$`);
  const numbers = (await nginx.accessLog())
    .filter((r) => r.method === 'PUT' && (r.status === 201 || r.status === 204))
    .map((r) => Number(pattern.exec(r.path)?.[1] ?? NaN))
    .filter((n) => Number.isFinite(n));
  return [...new Set(numbers)].sort((a, b) => a - b);
}

describe('Live DASH/HLS to an nginx origin', function () {
  this.timeout(300_000);

  it('hls.js, dash.js and ffmpeg play it while it is made; manifests never name a missing file; the window rolls with DELETEs; Cache-Control for a CDN', async () => {
    const nginx = await origin();
    const base = `${nginx.url}/live/s1`;
    const { pkg, errors, manifests } = livePackager({
      upload: `${base}/`,
      headers: { Authorization: `Bearer ${nginx.token}` },
    });
    await pkg.start(await camera());
    // A player's view, over and over while the stream is made: every file a manifest names is there.
    const missing: string[] = [];
    let polls = 0;
    const polling = new AbortController();
    const poller = (async () => {
      while (!polling.signal.aborted) {
        missing.push(...(await missingListed(base)));
        polls++;
      }
    })();
    await until(() => manifests() >= 2, 'the first live manifests');
    await playLive(`${base}/master.m3u8`, 'hls', 2);
    await playLive(`${base}/manifest.mpd`, 'dash', 2);
    const read = await ffmpegReads(`${base}/master.m3u8`, 2);
    expect(read.error, read.error).to.equal(undefined);
    expect(read.frames, 'frames ffmpeg decoded from the live HLS stream').to.be.greaterThan(20);
    // The window (3) plus the deletion delay (2) rolled past: old segments are gone from the origin.
    await until(() => manifests() >= 9, 'nine manifest rounds');
    polling.abort();
    await poller;
    expect(polls).to.be.greaterThan(2);
    expect(missing, 'files named by a manifest and missing').to.deep.equal([]);

    const log = await nginx.accessLog();
    const deleted = log.filter((r) => r.method === 'DELETE' && r.path.startsWith('/live/s1/v0/seg-'));
    expect(deleted.length, 'segments deleted').to.be.greaterThan(0);
    expect(
      deleted.every((r) => r.status === 204),
      'DELETEs accepted',
    ).to.equal(true);
    const playlist = await text(`${base}/v0/index.m3u8`);
    const firstListed = Number(/seg-(\d+)\.m4s/.exec(playlist)?.[1]);
    for (const r of deleted) {
      const n = Number(/seg-(\d+)\.m4s$/.exec(r.path)?.[1]);
      expect(n, `deleted ${r.path} was out of the window`).to.be.lessThan(firstListed);
      expect((await fetch(`${nginx.url}${r.path}`, { cache: 'no-store' })).status, r.path).to.equal(404);
    }
    // Order in nginx's log: each manifest PUT comes after the PUT of every segment it could name.
    const puts = log.filter((r) => r.method === 'PUT' && r.status === 201);
    const firstManifest = puts.findIndex((r) => r.path.endsWith('.m3u8') || r.path.endsWith('.mpd'));
    const firstSegment = puts.findIndex((r) => r.path.endsWith('.m4s'));
    expect(firstSegment).to.be.at.least(0);
    expect(firstSegment, 'a segment was stored before the first manifest').to.be.lessThan(firstManifest);

    // Served headers: manifests short-lived, segments immutable (set by the origin by extension).
    const cacheControl = async (path: string): Promise<string | null> =>
      (await fetch(`${base}/${path}`, { cache: 'no-store' })).headers.get('cache-control');
    expect(await cacheControl('master.m3u8')).to.equal('max-age=1');
    expect(await cacheControl('v0/index.m3u8')).to.equal('max-age=1');
    expect(await cacheControl('manifest.mpd')).to.equal('max-age=1');
    expect(await cacheControl('v0/init.mp4')).to.equal('max-age=31536000, immutable');
    expect(await cacheControl(`v0/seg-${firstListed}.m4s`)).to.equal('max-age=31536000, immutable');
    expect(await cacheControl('v0/seg-99999.m4s'), 'a 404 is not marked immutable').to.equal(null);

    const result = await pkg.stop();
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(await text(`${base}/v0/index.m3u8`)).to.include('#EXT-X-ENDLIST');
    expect(result.paths).to.include('master.m3u8');
  });

  it('a wrong token: every write gets 401, reported as non-fatal FW_ERR_WRITE_FAILED while packaging goes on', async () => {
    const nginx = await origin();
    const { pkg, errors } = livePackager({
      upload: `${nginx.url}/live/s2/`,
      headers: { Authorization: 'Bearer wrong' },
    });
    let mediaTimeS = 0;
    pkg.on('progress', (p) => (mediaTimeS = p.mediaTimeS));
    await pkg.start(await camera());
    await until(() => errors.length >= 3, 'three refused writes');
    const at = mediaTimeS;
    await until(() => mediaTimeS > at + 1, 'packaging to go on after the refusals');
    for (const error of errors) {
      expect(error).to.be.instanceOf(FramewireError);
      expect(error.code).to.equal('FW_ERR_WRITE_FAILED');
      expect(error.fatal).to.equal(false);
      expect(error.details['status']).to.equal(401);
    }
    expect(await nginx.files(), 'nothing stored').to.deep.equal([]);
    await pkg.cancel();
  });

  it('a URL function (presigned URLs): each file goes where it says; a path it cannot sign is lost, not fatal', async () => {
    const nginx = await origin();
    const asked: string[] = [];
    const { pkg, errors, manifests } = livePackager({
      upload: async (path, method) => {
        asked.push(`${method} ${path}`);
        await Promise.resolve();
        if (path === 'v0/seg-2.m4s') throw new Error('cannot sign this one');
        return `${nginx.url}/live/s3/${path}?signature=${method.toLowerCase()}-${path.length}`;
      },
      headers: { Authorization: `Bearer ${nginx.token}` },
    });
    await pkg.start(await camera());
    await until(() => manifests() >= 4, 'four manifest rounds');
    const result = await pkg.stop();
    expect(errors.length).to.equal(1);
    expect(errors[0]!.code).to.equal('FW_ERR_WRITE_FAILED');
    expect(errors[0]!.fatal).to.equal(false);
    expect(errors[0]!.details['path']).to.equal('v0/seg-2.m4s');
    expect(asked).to.include('PUT v0/init.mp4');
    expect(asked).to.include('PUT master.m3u8');
    const files = await nginx.files();
    expect(files).to.include('live/s3/master.m3u8');
    expect(files).to.include('live/s3/v0/seg-3.m4s');
    expect(files).to.not.include('live/s3/v0/seg-2.m4s');
    const playlist = await text(`${nginx.url}/live/s3/v0/index.m3u8`);
    expect(listedIn(playlist)).to.not.include('seg-2.m4s');
    expect(await missingListed(`${nginx.url}/live/s3`)).to.deep.equal([]);
    expect(result.paths).to.not.include('v0/seg-2.m4s');
  });

  it('nginx stopped mid-stream and started again: only the segments of the gap are lost, the stream goes on', async () => {
    const nginx = await origin();
    const base = `${nginx.url}/live/s4`;
    const { pkg, errors, manifests } = livePackager(
      { upload: `${base}/`, headers: { Authorization: `Bearer ${nginx.token}` }, retry: { maxRetries: 1 } },
      { windowSize: 4 },
    );
    await pkg.start(await camera());
    await until(() => manifests() >= 3, 'three manifest rounds');
    await nginx.pause();
    await until(() => errors.length >= 2, 'writes failing while nginx is down');
    await nginx.resume();
    const after = manifests();
    await until(() => manifests() >= after + 4, 'manifests again once nginx is back');
    expect(
      errors.every((e) => e.code === 'FW_ERR_WRITE_FAILED' && !e.fatal),
      'only non-fatal write errors',
    ).to.equal(true);
    await playLive(`${base}/master.m3u8`, 'hls', 2);
    await playLive(`${base}/manifest.mpd`, 'dash', 2);
    expect(await missingListed(base)).to.deep.equal([]);
    await pkg.stop();
    // Stored segments: everything before the outage and everything after it, one gap between.
    const stored = await storedSegments(nginx, '/live/s4');
    const last = stored.at(-1)!;
    const lost = [...Array(last).keys()].map((i) => i + 1).filter((n) => !stored.includes(n));
    expect(lost.length, 'segments lost while nginx was down').to.be.greaterThan(0);
    expect(lost.at(-1)! - lost[0]! + 1, `one gap: lost ${lost.join(', ')}`).to.equal(lost.length);
    expect(stored.filter((n) => n > lost.at(-1)!).length, 'segments after the gap').to.be.at.least(3);
    const playlist = await text(`${base}/v0/index.m3u8`);
    expect(playlist).to.include('#EXT-X-ENDLIST');
    for (const seg of listedIn(playlist)) {
      expect(Number(/\d+/.exec(seg)![0]), 'listed after the gap').to.be.greaterThan(lost.at(-1)!);
    }
  });

  it('a Recorder streams its upload to the same nginx: the stored file plays; a wrong token fails with FW_ERR_WRITE_FAILED', async () => {
    const nginx = await origin();
    const source = await camera();
    const rec = new Recorder({
      container: 'mp4',
      codec: 'avc',
      fragmentDurationMs: 500,
      keyframeIntervalFrames: 10,
      target: {
        upload: `${nginx.url}/recordings/desk.mp4`,
        headers: { Authorization: `Bearer ${nginx.token}` },
        chunkBytes: 16 * 1024,
      },
    });
    await rec.record(source, { durationMs: 3000 });
    const posts = async (): Promise<{ status: number }[]> =>
      (await nginx.accessLog()).filter((r) => r.method === 'POST' && r.path === '/recordings/desk.mp4');
    const whileRecording = await until(async () => (await posts()).length, 'fragments uploaded before finalize()');
    const receipt = (await rec.finalize()) as UploadReceipt;
    expect((await posts()).length, 'the final request too').to.be.greaterThan(whileRecording);
    expect((await posts()).every((r) => r.status === 200)).to.equal(true);
    const stored = await fetch(`${nginx.url}/recordings/desk.mp4`, { cache: 'no-store' });
    expect(stored.headers.get('cache-control')).to.equal('no-cache');
    const blob = await stored.blob();
    expect(blob.size).to.equal(receipt.bytes);
    const probe = await ffprobe(blob, 'mp4');
    expect(probe.error, probe.error).to.equal(undefined);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    expect(video.codec_name).to.equal('h264');
    expect(Number(video.nb_read_frames)).to.be.greaterThan(20);
    expect(Number(probe.format.duration)).to.be.closeTo(3, 1);

    const refused = new Recorder({
      container: 'mp4',
      codec: 'avc',
      target: { upload: `${nginx.url}/recordings/x.mp4`, headers: { Authorization: 'Bearer wrong' }, chunkBytes: 1024 },
    });
    const error = (await refused.record(source, { durationMs: 1500 }).then(
      () =>
        refused.finalize().then(
          () => null,
          (e: unknown) => e,
        ),
      (e: unknown) => e,
    )) as FramewireError;
    expect(error).to.be.instanceOf(FramewireError);
    expect(error.code).to.equal('FW_ERR_WRITE_FAILED');
    expect(error.details['status']).to.equal(401);
    expect(await nginx.files()).to.deep.equal(['recordings/desk.mp4']);
  });
});
