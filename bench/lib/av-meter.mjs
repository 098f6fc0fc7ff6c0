// The A/V offset at a receiver, measured in a page (shared by bench/av-offset.bench.mjs and the audio tests): the
// bridge's test pattern with `--audio tone` flashes white on the frames of each beep, so the time between a flash
// frame's display and its beep's first loud sample is the A/V offset (positive: the sound comes late).

/**
 * Runs in the page (pass it whole to `page.evaluate`, or install it with `installAvMeter`): watches the frames
 * `video` (a playing `<video>` element) presents with `requestVideoFrameCallback` (a flash counts at its expected
 * display time) and reads `audioTrack` through a `MediaStreamTrackProcessor` (each sample placed at its chunk's
 * arrival minus the rest of the chunk, so an onset is found to the sample), for `durationMs`; then pairs each
 * flash with the beep within 500 ms of it.
 *
 * @param {HTMLVideoElement} video
 * @param {MediaStreamTrack} audioTrack
 * @param {number} durationMs
 * @returns {Promise<{ flashes: number, beeps: number, offsetsMs: number[], peak: number }>} flash and beep onsets
 *   seen, beep − flash in ms for each paired flash, and the loudest sample (0..1)
 */
export async function avMeter(video, audioTrack, durationMs) {
  const end = performance.now() + durationMs;
  const flashes = [];
  const beeps = [];
  const ctx = new OffscreenCanvas(8, 8).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D context');
  let peak = 0;
  const watched = new Promise((resolve) => {
    let wasWhite = false;
    const onFrame = (_now, metadata) => {
      ctx.drawImage(video, 0, 0, 8, 8);
      const pixels = ctx.getImageData(0, 0, 8, 8).data;
      let sum = 0;
      for (let i = 0; i < pixels.length; i += 4) sum += pixels[i] + pixels[i + 1] + pixels[i + 2];
      const white = sum / ((pixels.length / 4) * 3) > 235;
      if (white && !wasWhite) flashes.push(metadata.expectedDisplayTime);
      wasWhite = white;
      if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
      else resolve();
    };
    video.requestVideoFrameCallback(onFrame);
  });
  const reader = new MediaStreamTrackProcessor({ track: audioTrack }).readable.getReader();
  const heard = (async () => {
    let lastLoudMs = Number.NEGATIVE_INFINITY;
    while (performance.now() < end) {
      const { value: data, done } = await reader.read();
      if (done) break;
      const at = performance.now();
      const samples = new Float32Array(data.numberOfFrames);
      data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
      const chunkMs = (data.numberOfFrames * 1000) / data.sampleRate;
      for (let i = 0; i < samples.length; i++) {
        const level = Math.abs(samples[i]);
        peak = Math.max(peak, level);
        if (level < 0.1) continue;
        const t = at - chunkMs + (i * 1000) / data.sampleRate;
        if (t - lastLoudMs > 500) beeps.push(t);
        lastLoudMs = t;
      }
      data.close();
    }
    await reader.cancel();
  })();
  await Promise.all([watched, heard]);
  const offsetsMs = [];
  for (const flash of flashes) {
    const nearest = beeps.reduce((best, b) => (Math.abs(b - flash) < Math.abs(best - flash) ? b : best), Infinity);
    if (Math.abs(nearest - flash) < 500) offsetsMs.push(Math.round(nearest - flash));
  }
  return { flashes: flashes.length, beeps: beeps.length, offsetsMs, peak };
}

/**
 * Runs in the page: plays a framewire source's audio track in an `<audio>` element and its frames (read one after
 * another) in a muted `<video>` through a `MediaStreamTrackGenerator`, as a viewer's page would; sets `window.av` to
 * `{ video, audio, source }` for {@link avMeter}.
 *
 * @param {{ read(): Promise<VideoFrame | null>, audioTrack: MediaStreamTrack | undefined }} source
 */
export async function playForAv(source) {
  if (!source.audioTrack) throw new Error('the source has no audio track');
  const generator = new MediaStreamTrackGenerator({ kind: 'video' });
  const writer = generator.writable.getWriter();
  void (async () => {
    for (;;) {
      const frame = await source.read();
      if (!frame) break;
      await writer.write(frame);
    }
  })();
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = new MediaStream([generator]);
  const player = document.createElement('audio');
  player.srcObject = new MediaStream([source.audioTrack]);
  document.body.append(video, player);
  await Promise.all([video.play(), player.play()]);
  window.av = { video, audio: source.audioTrack, source };
}

/**
 * Defines `window.avMeter` ({@link avMeter}) and `window.playForAv` ({@link playForAv}) in a puppeteer `page`.
 *
 * @param {import('puppeteer-core').Page} page
 */
export async function installAvMeter(page) {
  await page.addScriptTag({
    content: `window.__name = (f) => f; window.avMeter = ${avMeter.toString()}; window.playForAv = ${playForAv.toString()};`,
  });
}

/**
 * The median of `values` (0 for none).
 *
 * @param {number[]} values
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
