// WebCodecs H.264 (framewire's WorkerVideoEncoder in headless Chromium) vs ffmpeg libx264 veryfast/zerolatency,
// encoding the same number of 1280×720 frames at the same bitrate. Both sides also make their frames
// (a canvas drawing vs ffmpeg's testsrc2), so each figure is "make + encode" throughput.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = 300;
const BITRATE_BPS = 2_500_000;

export const name = `H.264 encode, ${FRAMES} frames of ${WIDTH}×${HEIGHT}: WebCodecs (framewire) vs ffmpeg libx264 veryfast zerolatency`;

async function framewireFps(page) {
  return page.evaluate(
    async ({ width, height, frames, bitrateBps }) => {
      const { WorkerVideoEncoder, avcCodecForSize } = await import('/sdk/index.js');
      const encoder = await WorkerVideoEncoder.open({
        codec: avcCodecForSize(width, height),
        width,
        height,
        bitrateBps,
        frameRate: 30,
        keyframeIntervalFrames: 60,
        latencyMode: 'realtime',
      });
      let chunks = 0;
      encoder.on('chunk', () => chunks++);
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d');
      const start = performance.now();
      for (let i = 0; i < frames; i++) {
        const gradient = ctx.createLinearGradient(0, 0, width, height);
        gradient.addColorStop(0, `hsl(${i % 360} 80% 50%)`);
        gradient.addColorStop(1, `hsl(${(i * 3) % 360} 60% 30%)`);
        ctx.fillStyle = gradient;
        ctx.fillRect(0, 0, width, height);
        ctx.fillStyle = '#fff';
        ctx.font = '64px sans-serif';
        ctx.fillText(`frame ${i}`, 40 + (i % 200) * 4, 200);
        await encoder.encode(new VideoFrame(canvas, { timestamp: Math.round((i * 1e6) / 30) }));
      }
      await encoder.flush();
      const seconds = (performance.now() - start) / 1000;
      encoder.close();
      if (chunks !== frames) throw new Error(`expected ${frames} chunks, got ${chunks}`);
      return frames / seconds;
    },
    { width: WIDTH, height: HEIGHT, frames: FRAMES, bitrateBps: BITRATE_BPS },
  );
}

async function x264Fps() {
  const start = performance.now();
  await exec('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${WIDTH}x${HEIGHT}:rate=30`,
    '-frames:v',
    String(FRAMES),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-b:v',
    String(BITRATE_BPS),
    '-g',
    '60',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'null',
    '-',
  ]);
  return FRAMES / ((performance.now() - start) / 1000);
}

/** Runs both sides `repeats` times, alternating, and reports medians. */
export async function run({ page, repeats }) {
  const ours = [];
  const baseline = [];
  await framewireFps(page); // warm-up: worker start, encoder initialisation
  for (let i = 0; i < repeats; i++) {
    ours.push(await framewireFps(page));
    baseline.push(await x264Fps());
  }
  return {
    unit: 'fps',
    ours,
    baseline,
    oursLabel: 'WebCodecs H.264 (OpenH264, worker)',
    baselineLabel: 'ffmpeg libx264 veryfast zerolatency',
  };
}
