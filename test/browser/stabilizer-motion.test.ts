// The Stabilizer's motion model on clips with a known camera motion, drawn in the page: translation, rotation and
// zoom shake are removed (the jitter left is measured from each frame's known motion and the transform applied),
// an intended pan is kept, a foreground object is not followed, a scene cut starts a new path, and odd sizes,
// size changes and black frames keep every frame with its timestamp.
import { expect } from 'chai';
import {
  type FramewireError,
  Stabilizer,
  type StabilizerOptions,
  type StabilizerTransform,
} from '@framewire/browser-sdk';
import { solidFrame, thrown, within } from '../helpers/browser.js';
import { texturedScene } from '../helpers/shaky-video.js';

const W = 320;
const H = 240;
const FRAMES = 60;
/** Frames a causal smoother needs before its window is full enough to judge. */
const SETTLE = 12;

/** The camera at one frame: centre on the scene (pixels), angle (radians), zoom. */
interface Camera {
  x: number;
  y: number;
  angle: number;
  zoom: number;
}

/** Shake in pixels and radians, a few frequencies (frames at 30 fps). */
const wobble = (i: number, amplitude: number, phase: number): number =>
  amplitude * (Math.sin(0.41 * i + phase) * 0.6 + Math.sin(1.37 * i + 2 * phase) * 0.4);

/** Draws the scene as the camera sees it: a scene point q appears at zoom·R(−angle)·(q − centre). */
function view(scene: OffscreenCanvas, camera: Camera, i: number, w = W, h = H, object?: { x: number }): VideoFrame {
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext('2d')!;
  context.translate(w / 2, h / 2);
  context.scale(camera.zoom, camera.zoom);
  context.rotate(-camera.angle);
  context.translate(-camera.x, -camera.y);
  context.drawImage(scene, 0, 0);
  if (object) {
    // A flat-coloured box with a textured face, moving across the scene (scene coordinates).
    context.fillStyle = '#d22';
    context.fillRect(object.x, scene.height / 2 - 50, 110, 100);
    context.drawImage(scene, 0, 0, 100, 90, object.x + 5, scene.height / 2 - 45, 100, 90);
  }
  return new VideoFrame(canvas, { timestamp: i * 33_333, duration: 33_333 });
}

async function run(frames: VideoFrame[], options: StabilizerOptions = {}): Promise<StabilizerTransform[]> {
  const stabilizer = new Stabilizer({ smoothingRadius: 25, ...options });
  const transforms: StabilizerTransform[] = [];
  const reading = (async () => {
    const reader = stabilizer.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      transforms.push(stabilizer.transformOf(r.value)!);
      r.value.close();
    }
  })();
  const writer = stabilizer.writable.getWriter();
  for (const frame of frames) await writer.write(frame);
  await writer.close();
  await within(reading, 60_000, 'all stabilized frames');
  return transforms;
}

/**
 * Where the output shows scene point `q` (frame-centred pixels): the warp draws the input u as
 * d + R(θ)·Z·u, and the input shows q at zoom·R(−angle)·(q − centre).
 */
function shown(t: StabilizerTransform, camera: Camera, q: [number, number]): [number, number] {
  const k = t.zoom * camera.zoom;
  const a = t.angle - camera.angle;
  const [qx, qy] = [q[0] - camera.x, q[1] - camera.y];
  return [t.dx + k * (Math.cos(a) * qx - Math.sin(a) * qy), t.dy + k * (Math.sin(a) * qx + Math.cos(a) * qy)];
}

/**
 * RMS frame-to-frame motion of the output, pixels, over four scene points near the frame corners, less the
 * intended motion `intended(i)` of those points (a pan), from frame `from` on: the jitter left.
 */
function residual(
  transforms: StabilizerTransform[],
  cameras: Camera[],
  from: number,
  intended: (i: number) => [number, number] = () => [0, 0],
  identity = false,
): number {
  const c0 = cameras[0]!;
  const points: [number, number][] = [
    [c0.x - W / 3, c0.y - H / 3],
    [c0.x + W / 3, c0.y - H / 3],
    [c0.x - W / 3, c0.y + H / 3],
    [c0.x + W / 3, c0.y + H / 3],
  ];
  const none: StabilizerTransform = { ...transforms[0]!, dx: 0, dy: 0, angle: 0, zoom: 1 };
  let sum = 0;
  let n = 0;
  for (let i = Math.max(1, from); i < transforms.length; i++) {
    const [move, before] = identity ? [none, none] : [transforms[i]!, transforms[i - 1]!];
    const [ix, iy] = intended(i);
    for (const q of points) {
      const [x1, y1] = shown(move, cameras[i]!, q);
      const [x0, y0] = shown(before, cameras[i - 1]!, q);
      sum += (x1 - x0 - ix) ** 2 + (y1 - y0 - iy) ** 2;
      n++;
    }
  }
  return Math.sqrt(sum / n);
}

function clip(cameras: Camera[], object?: (i: number) => { x: number }): VideoFrame[] {
  const scene = texturedScene(W * 3, H * 3);
  return cameras.map((camera, i) => view(scene, camera, i, W, H, object?.(i)));
}

const centre = { x: (W * 3) / 2, y: (H * 3) / 2 };
const still = (i: number, shake: { px?: number; rad?: number; zoom?: number }): Camera => ({
  x: centre.x + wobble(i, shake.px ?? 0, 0.3),
  y: centre.y + wobble(i, shake.px ?? 0, 1.9),
  angle: wobble(i, shake.rad ?? 0, 0.8),
  zoom: 1 + wobble(i, shake.zoom ?? 0, 2.4),
});

describe('Stabilizer motion model', () => {
  for (const smoothing of ['window', 'kalman'] as const) {
    it(`${smoothing}: translation, rotation and zoom shake are removed, N in = N out with timestamps`, async () => {
      const cameras = Array.from({ length: FRAMES }, (_, i) => still(i, { px: 6, rad: 0.02, zoom: 0.03 }));
      const frames = clip(cameras);
      const transforms = await run(frames, { smoothing });
      expect(transforms.map((t) => t.timestampUs)).to.deep.equal(cameras.map((_, i) => i * 33_333));
      expect(transforms.filter((t) => t.cut)).to.have.length(0, 'no cut in one shot');
      const before = residual(transforms, cameras, SETTLE, undefined, true);
      const after = residual(transforms, cameras, SETTLE);
      expect(after / before, `jitter left: ${after.toFixed(2)} of ${before.toFixed(2)} px`).to.be.below(0.5);
      expect(
        transforms.some((t) => Math.abs(t.zoom - 1) > 0.005),
        'the zoom is corrected too',
      ).to.equal(true);
      expect(
        transforms.some((t) => Math.abs(t.angle) > 0.005),
        'and the rotation',
      ).to.equal(true);
    });
  }

  it('an intended pan is kept (the output moves with it), its shake removed; lookaheadFrames 12 too', async () => {
    const pan = 2.5;
    const cameras = Array.from({ length: FRAMES }, (_, i) => {
      const c = still(i, { px: 5 });
      return { ...c, x: c.x + pan * (i - FRAMES / 2) };
    });
    for (const lookaheadFrames of [0, 12]) {
      const transforms = await run(clip(cameras), { lookaheadFrames });
      // A scene point moves left by the pan each frame: that motion is intended.
      const intended = (): [number, number] => [-pan, 0];
      const before = residual(transforms, cameras, SETTLE, intended, true);
      const after = residual(transforms, cameras, SETTLE, intended);
      expect(
        after / before,
        `lookahead ${lookaheadFrames}: ${after.toFixed(2)} of ${before.toFixed(2)} px`,
      ).to.be.below(0.5);
    }
  });

  it('a foreground object crossing the still scene is not followed', async () => {
    const cameras = Array.from({ length: FRAMES }, (_, i) => still(i, { px: 5 }));
    // The object crosses the frame (about 15 % of it) at 6 px per frame.
    const transforms = await run(clip(cameras, (i) => ({ x: centre.x - 200 + 6 * i })));
    const before = residual(transforms, cameras, SETTLE, undefined, true);
    const after = residual(transforms, cameras, SETTLE);
    expect(after / before, `jitter left: ${after.toFixed(2)} of ${before.toFixed(2)} px`).to.be.below(0.5);
  });

  it('a scene cut starts a new path: flagged on its frame only, no correction carried across', async () => {
    const cameras = Array.from({ length: 40 }, (_, i) => still(i, { px: 5 }));
    const first = texturedScene(W * 3, H * 3, 7);
    const second = texturedScene(W * 3, H * 3, 99);
    // The second shot is darker overall: a different picture and histogram.
    const dark = new OffscreenCanvas(W * 3, H * 3);
    const context = dark.getContext('2d')!;
    context.filter = 'brightness(40%)';
    context.drawImage(second, 0, 0);
    const frames = cameras.map((camera, i) => view(i < 20 ? first : dark, camera, i));
    for (const lookaheadFrames of [0, 5]) {
      const transforms = await run(
        frames.map((f) => f.clone()),
        { lookaheadFrames },
      );
      expect(transforms.map((t, i) => (t.cut ? i : -1)).filter((i) => i >= 0)).to.deep.equal([20]);
      expect(transforms[20]!.motionFound, 'no motion measured across the cut').to.equal(false);
      // The first frame of a causal path needs no correction: nothing of the first shot is carried over.
      if (lookaheadFrames === 0) expect(transforms[20]).to.include({ dx: 0, dy: 0, angle: 0, zoom: 1 });
      // The frames before the cut come out with the look-ahead they have, without waiting for the next shot.
      expect(transforms.slice(15, 20).map((t) => t.delayFrames)).to.deep.equal(
        [4, 3, 2, 1, 0].map((k) => Math.min(lookaheadFrames, k)),
      );
    }
    for (const f of frames) f.close();
  });

  it('odd sizes, a size change and black frames: every frame out, in order, with its size', async () => {
    const scene = texturedScene(W * 3, H * 3);
    const frames = [
      ...Array.from({ length: 8 }, (_, i) => view(scene, still(i, { px: 4 }), i, 321, 241)),
      ...Array.from({ length: 4 }, (_, i) => solidFrame((8 + i) * 33_333, 321, 241, '#000')),
      ...Array.from({ length: 8 }, (_, i) => view(scene, still(i, { px: 4 }), 12 + i, 199, 117)),
    ];
    const sizes = frames.map((f) => [f.displayWidth, f.displayHeight]);
    for (const smoothing of ['window', 'kalman'] as const) {
      const transforms = await run(
        frames.map((f) => f.clone()),
        { smoothing, lookaheadFrames: 3 },
      );
      expect(transforms.map((t) => t.timestampUs)).to.deep.equal(frames.map((_, i) => i * 33_333));
      expect(transforms.map((t) => [t.crop.width > 0, Number.isFinite(t.dx + t.dy + t.angle + t.zoom)])).to.deep.equal(
        sizes.map(() => [true, true]),
      );
      expect(transforms[12]!.cut, 'the size change starts a new shot').to.equal(true);
      for (const t of transforms.slice(8, 12)) expect(t.motionFound, 'black frames: no motion').to.equal(false);
    }
    for (const f of frames) f.close();
  });

  it('a bad smoothing option fails with FW_ERR_INVALID_OPTION naming it', () => {
    const error = thrown(() => new Stabilizer({ smoothing: 'median' as never })) as FramewireError;
    expect(error.code).to.equal('FW_ERR_INVALID_OPTION');
    expect(error.message).to.include('options.smoothing');
  });
});
