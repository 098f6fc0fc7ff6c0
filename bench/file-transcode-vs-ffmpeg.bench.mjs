// The same 300 frames (a 720p H.264 file made by ffmpeg) re-encoded to H.264 MP4: FileSource → Recorder in
// Chromium vs ffmpeg decoding and encoding with libx264 veryfast.
import { FRAMES, benchFile, loadBundle, timeFfmpeg } from './media-fixture.mjs';

export const name = `Transcode ${FRAMES} frames of 720p H.264 → H.264 MP4: FileSource → Recorder vs ffmpeg libx264 veryfast`;

function transcodeInPage(page, url) {
  return page.evaluate(async (url) => {
    const { FileSource, Recorder } = globalThis.Framewire;
    const bytes = await (await fetch(url)).blob();
    const start = performance.now();
    const source = await FileSource.open(bytes);
    const recorder = new Recorder({
      container: 'mp4',
      codec: 'avc',
      bitrateBps: 2_500_000,
      keyframeIntervalFrames: 60,
    });
    const { framesWritten } = await recorder.record(source);
    await recorder.finalize();
    await source.close();
    return framesWritten / ((performance.now() - start) / 1000);
  }, url);
}

export async function run({ page, repeats }) {
  await loadBundle(page);
  const { path, url } = await benchFile();
  await transcodeInPage(page, url);
  const ours = [];
  const baseline = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(await transcodeInPage(page, url));
    const seconds = await timeFfmpeg([
      '-i',
      path,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-b:v',
      '2500000',
      '-g',
      '60',
      '-f',
      'mp4',
      '/dev/null',
    ]);
    baseline.push(FRAMES / seconds);
  }
  return {
    unit: 'fps',
    ours,
    baseline,
    oursLabel: 'FileSource → Recorder (WebCodecs)',
    baselineLabel: 'ffmpeg libx264 veryfast',
  };
}
