import { FileSource, Packager, Player, type PackagerRendition } from '@framewire/browser-sdk';
import { PACKAGED_CACHE, PACKAGED_PREFIX } from '../sw/packaged-files.js';
import { $, describeError } from './dom.js';
import { watchVideoStats } from './stats-overlay.js';
import { makeTestClip } from './test-clip.js';

const LADDERS: Record<string, PackagerRendition[] | undefined> = {
  copy: undefined,
  two: [
    { width: 640, height: 360 },
    { width: 320, height: 180 },
  ],
};

let clip: File | undefined;
let packager: Packager | undefined;
const players: Player[] = [];
const stopWatching: (() => void)[] = [];

const status = (text: string, state?: string): void => {
  const output = $('package-status', HTMLOutputElement);
  output.value = text;
  if (state) output.dataset['state'] = state;
};

function showError(failure: unknown): void {
  const error = $('package-error', HTMLParagraphElement);
  error.textContent = describeError(failure);
  error.hidden = false;
}

/** Hands the package to the Service Worker: every file into the Cache API under `/packaged/<run>/`. */
async function publish(files: Map<string, Blob>, run: string): Promise<string> {
  if (!('serviceWorker' in navigator) || !navigator.serviceWorker.controller) {
    throw new Error('Playing the package needs the Service Worker: open the demo over http://localhost or https.');
  }
  const cache = await caches.open(PACKAGED_CACHE);
  for (const key of await cache.keys()) await cache.delete(key);
  const base = new URL(`${PACKAGED_PREFIX}${run}/`, location.origin).href;
  await Promise.all(
    [...files].map(([path, blob]) =>
      cache.put(new URL(path, base), new Response(blob, { headers: { 'content-type': blob.type } })),
    ),
  );
  return base;
}

async function play(kind: 'hls' | 'dash', url: string): Promise<void> {
  const video = $(`package-${kind}`, HTMLVideoElement);
  const output = $(`package-${kind}-status`, HTMLOutputElement);
  output.value = 'loading…';
  const player = await Player.open(video, url, { type: kind });
  players.push(player);
  player.on('error', ({ error }) => (output.value = describeError(error)));
  let bitrate: number | undefined = player.renditions[0]?.bitrateBps;
  player.on('rendition', ({ index, width, height }) => {
    bitrate = player.renditions.find((r) => r.index === index)?.bitrateBps;
    output.value = `${width}×${height} · ${((bitrate ?? 0) / 1000).toFixed(0)} kbit/s`;
  });
  stopWatching.push(watchVideoStats(video, $(`package-${kind}-overlay`, HTMLOutputElement), () => bitrate));
  video.addEventListener('timeupdate', () => {
    output.dataset['time'] = String(video.currentTime);
    if (video.currentTime > 0.5) output.dataset['state'] = 'playing';
  });
  output.value = `${player.renditions.length} rendition(s)`;
}

async function packageSelected(): Promise<void> {
  const file = $('package-file', HTMLInputElement).files?.[0] ?? clip;
  if (!file) return;
  $('package-error', HTMLParagraphElement).hidden = true;
  for (const player of players.splice(0)) player.close();
  for (const stop of stopWatching.splice(0)) stop();
  const progress = $('package-progress', HTMLProgressElement);
  const ladder = LADDERS[$('package-ladder', HTMLSelectElement).value];
  const current = new Packager({
    formats: ['dash', 'hls'],
    segmentDurationS: Number($('package-segment', HTMLInputElement).value),
    ...(ladder ? { ladder } : {}),
  });
  packager = current;
  current.on('progress', ({ percent, fps, etaS }) => {
    progress.value = percent ?? 0;
    status(`${(percent ?? 0).toFixed(0)} % · ${fps.toFixed(0)} fps · ${etaS?.toFixed(1) ?? '?'} s left`, 'packaging');
  });
  $('package-start', HTMLButtonElement).disabled = true;
  $('package-cancel', HTMLButtonElement).disabled = false;
  let source: FileSource | undefined;
  try {
    source = await FileSource.open(file);
    const result = await current.package(source);
    progress.value = 100;
    const base = await publish(current.files, String(Date.now()));
    $('package-files', HTMLUListElement).replaceChildren(
      ...[...current.files.keys()].map((path) => {
        const item = document.createElement('li');
        item.textContent = path;
        return item;
      }),
    );
    status(
      `${result.transmuxed ? 'copied' : 'encoded'} · ${result.durationS.toFixed(1)} s · ${result.renditions.length} rendition(s) · ${current.files.size} files`,
      'done',
    );
    await Promise.all([play('hls', `${base}master.m3u8`), play('dash', `${base}manifest.mpd`)]);
  } catch (failure) {
    status('failed', 'failed');
    showError(failure);
  } finally {
    await source?.close();
    packager = undefined;
    $('package-start', HTMLButtonElement).disabled = false;
    $('package-cancel', HTMLButtonElement).disabled = true;
  }
}

async function makeClip(): Promise<void> {
  const button = $('package-make-clip', HTMLButtonElement);
  button.disabled = true;
  status('recording a test clip…', 'recording');
  try {
    clip = await makeTestClip(4, (percent) => ($('package-progress', HTMLProgressElement).value = percent));
    $('package-file', HTMLInputElement).value = '';
    $('package-start', HTMLButtonElement).disabled = false;
    status(`test clip ready (${(clip.size / 1024).toFixed(0)} KiB): press Package`, 'ready');
  } catch (failure) {
    showError(failure);
  } finally {
    button.disabled = false;
  }
}

/** Wires the packaging page (loaded on first visit to `#package`). */
export function initPackagePage(): void {
  $('package-file', HTMLInputElement).addEventListener('change', () => {
    $('package-start', HTMLButtonElement).disabled = false;
    status('ready: press Package', 'ready');
  });
  $('package-make-clip', HTMLButtonElement).addEventListener('click', () => void makeClip());
  $('package-start', HTMLButtonElement).addEventListener('click', () => void packageSelected());
  $('package-cancel', HTMLButtonElement).addEventListener('click', () => void packager?.cancel());
}
