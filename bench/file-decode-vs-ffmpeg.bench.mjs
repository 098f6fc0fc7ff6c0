// FileSource decode throughput (mediabunny demux + WebCodecs decode, frames read as fast as possible) vs
// `ffmpeg -f null` decoding the same 720p H.264 file.
import { FRAMES, benchFile, loadBundle, timeFfmpeg } from './media-fixture.mjs';

export const name = `Decode ${FRAMES} frames of 720p H.264: FileSource vs ffmpeg -f null`;

function decodeInPage(page, url) {
  return page.evaluate(async (url) => {
    const { FileSource } = globalThis.Framewire;
    const bytes = await (await fetch(url)).blob();
    const start = performance.now();
    const source = await FileSource.open(bytes);
    let frames = 0;
    for (let frame = await source.read(); frame; frame = await source.read()) {
      frame.close();
      frames++;
    }
    await source.close();
    return frames / ((performance.now() - start) / 1000);
  }, url);
}

export async function run({ page, repeats }) {
  await loadBundle(page);
  const { path, url } = await benchFile();
  await decodeInPage(page, url);
  const ours = [];
  const baseline = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(await decodeInPage(page, url));
    baseline.push(FRAMES / (await timeFfmpeg(['-i', path, '-f', 'null', '-'])));
  }
  return {
    unit: 'fps',
    ours,
    baseline,
    oursLabel: 'FileSource (mediabunny + WebCodecs)',
    baselineLabel: 'ffmpeg -f null',
  };
}
