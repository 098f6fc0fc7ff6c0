// Motion detection's pure parts (packages/node-bridge/src/motion/): the frame difference and its mask map, the
// option checks and the CLI's mask syntax, and MotionDetector's decisions (start after k changed samples, end after
// a quiet period, frame-rate decimation), driven by made-up gray frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '../../packages/core/src/framewire-error.js';
import { frameDifference, motionMaskMap } from '../../packages/node-bridge/src/motion/frame-difference.js';
import { MotionDetector } from '../../packages/node-bridge/src/motion/motion-detector.js';
import { parseMotionMask, resolveMotionOptions } from '../../packages/node-bridge/src/motion/motion-options.js';
import { motionOptionsFromCli } from '../../packages/node-bridge/src/cli-motion.js';
import type { RawFrame } from '../../packages/node-bridge/src/media/raw-frame.js';
import type { BridgeMotionEvent } from '../../packages/core/src/bridge-protocol.js';

const invalid =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION' && pattern.test(error.message);

const W = 20;
const H = 10;
/** A gray frame of level `level`, with a `w`×`h` block of level 255 at (`x`, `y`) when given. */
function gray(timeMs: number, level = 0, block?: [x: number, y: number, w: number, h: number]): RawFrame {
  const data = Buffer.alloc(W * H, level);
  if (block) {
    const [bx, by, bw, bh] = block;
    for (let y = by; y < by + bh; y++) data.fill(255, y * W + bx, y * W + bx + bw);
  }
  return { width: W, height: H, format: 'GRAY8', data, captureTimeMs: timeMs };
}

describe('frameDifference', () => {
  const all = motionMaskMap([], W, H);
  it('counts pixels that change by the threshold or more, their box, and the mean difference', () => {
    const a = gray(0).data;
    const b = gray(0, 0, [2, 3, 4, 2]).data;
    const diff = frameDifference(a, b, W, H, 25, all);
    assert.equal(diff.area, 8 / 200);
    assert.deepEqual(diff.box, { x: 2 / W, y: 3 / H, width: 4 / W, height: 2 / H });
    assert.equal(diff.score, (8 * 255) / 200 / 255);
  });
  it('ignores differences below the threshold', () => {
    const diff = frameDifference(gray(0, 100).data, gray(0, 124).data, W, H, 25, all);
    assert.equal(diff.area, 0);
    assert.equal(diff.box, undefined);
    assert.ok(diff.score > 0);
  });
  it('an ignore rectangle over the change hides it; a watch rectangle elsewhere too', () => {
    const [a, b] = [gray(0).data, gray(0, 0, [0, 0, 5, 5]).data];
    const ignore = motionMaskMap([{ mode: 'ignore', x: 0, y: 0, width: 0.5, height: 0.5 }], W, H);
    assert.equal(frameDifference(a, b, W, H, 25, ignore).area, 0);
    const watchElsewhere = motionMaskMap([{ mode: 'watch', x: 0.5, y: 0.5, width: 0.5, height: 0.5 }], W, H);
    assert.equal(frameDifference(a, b, W, H, 25, watchElsewhere).area, 0);
    const watchThere = motionMaskMap([{ mode: 'watch', x: 0, y: 0, width: 0.5, height: 0.5 }], W, H);
    assert.equal(frameDifference(a, b, W, H, 25, watchThere).area, 25 / 50);
  });
  it('a mask that watches nothing measures nothing', () => {
    const none = motionMaskMap([{ mode: 'ignore', x: 0, y: 0, width: 1, height: 1 }], W, H);
    assert.deepEqual(frameDifference(gray(0).data, gray(0, 255).data, W, H, 25, none), { area: 0, score: 0 });
  });
});

describe('motion options', () => {
  const cases: [text: string, expected: ReturnType<typeof parseMotionMask>][] = [
    ['0,0,0.5,0.25', { mode: 'ignore', x: 0, y: 0, width: 0.5, height: 0.25 }],
    ['ignore:0.5,0,0.5,1', { mode: 'ignore', x: 0.5, y: 0, width: 0.5, height: 1 }],
    ['watch:0.25,0.25,0.5,0.5', { mode: 'watch', x: 0.25, y: 0.25, width: 0.5, height: 0.5 }],
  ];
  for (const [text, expected] of cases)
    it(`--motion-mask ${text}`, () => assert.deepEqual(parseMotionMask(text), expected));
  for (const bad of ['', '0,0,1', '0,0,1,1,1', 'a,b,c,d', '0.5,0,0.6,1', '0,0,0,1', 'hide:0,0,1,1', '-0.1,0,0.5,0.5'])
    it(`refuses --motion-mask ${JSON.stringify(bad)}`, () =>
      assert.throws(() => parseMotionMask(bad), invalid(/--motion-mask/)));

  const badOptions: [Parameters<typeof resolveMotionOptions>[0], RegExp][] = [
    [{ threshold: 0 }, /motion\.threshold/],
    [{ threshold: 256 }, /motion\.threshold/],
    [{ threshold: 2.5 }, /motion\.threshold/],
    [{ minArea: 0 }, /motion\.minArea/],
    [{ minArea: 1.5 }, /motion\.minArea/],
    [{ frameRate: 0 }, /motion\.frameRate/],
    [{ width: 8 }, /motion\.width/],
    [{ startFrames: 0 }, /motion\.startFrames/],
    [{ endQuietMs: -1 }, /motion\.endQuietMs/],
    [{ webhookUrl: 'ftp://host/x' }, /motion\.webhookUrl/],
    [{ webhookUrl: 'not a url' }, /motion\.webhookUrl/],
    [{ mask: [{ mode: 'ignore', x: 0.8, y: 0, width: 0.5, height: 1 }] }, /motion\.mask\[0\]/],
    [{ sources: [] }, /motion\.sources/],
  ];
  for (const [options, pattern] of badOptions)
    it(`refuses ${JSON.stringify(options)}`, () =>
      assert.throws(() => resolveMotionOptions(options), invalid(pattern)));

  it('the CLI flags become options; bad values name their flag', () => {
    assert.equal(motionOptionsFromCli({}), undefined);
    assert.deepEqual(
      motionOptionsFromCli({
        motion: true,
        'motion-fps': '2',
        'motion-size': '80x60',
        'motion-threshold': '30',
        'motion-min-area': '0.05',
        'motion-mask': ['watch:0,0,0.5,0.5'],
        'motion-start-frames': '3',
        'motion-end-seconds': '1.5',
        'motion-webhook': 'http://127.0.0.1:9/hook',
      }),
      {
        frameRate: 2,
        width: 80,
        height: 60,
        threshold: 30,
        minArea: 0.05,
        mask: [{ mode: 'watch', x: 0, y: 0, width: 0.5, height: 0.5 }],
        startFrames: 3,
        endQuietMs: 1500,
        webhookUrl: 'http://127.0.0.1:9/hook',
      },
    );
    const bad: [Parameters<typeof motionOptionsFromCli>[0], RegExp][] = [
      [{ 'motion-threshold': '30' }, /--motion-threshold needs --motion/],
      [{ motion: true, 'motion-threshold': '300' }, /--motion-threshold must be an integer in 1\.\.255; got 300/],
      [{ motion: true, 'motion-threshold': 'high' }, /--motion-threshold must be a number/],
      [{ motion: true, 'motion-min-area': '0' }, /--motion-min-area/],
      [{ motion: true, 'motion-size': '160' }, /--motion-size must look like 160x90/],
      [{ motion: true, 'motion-webhook': 'localhost:8080/hook' }, /--motion-webhook must be an http/],
      [{ motion: true, 'motion-mask': ['0,0,2,2'] }, /--motion-mask/],
    ];
    for (const [values, pattern] of bad) assert.throws(() => motionOptionsFromCli(values), invalid(pattern));
  });
});

describe('MotionDetector', () => {
  /** Runs `frames` through a detector; returns its events in order. */
  function run(frames: RawFrame[], options: ConstructorParameters<typeof MotionDetector>[1] = {}): BridgeMotionEvent[] {
    const detector = new MotionDetector('cam', { minArea: 0.02, startFrames: 2, endQuietMs: 1000, ...options });
    const events: BridgeMotionEvent[] = [];
    detector.on('start', (event) => events.push(event));
    detector.on('end', (event) => events.push(event));
    for (const frame of frames) detector.push(frame);
    return events;
  }
  /** Frames every 200 ms: still, a block moving right for `moving` frames, then still for `after`. */
  function scene(moving: number, after: number): RawFrame[] {
    const frames: RawFrame[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) frames.push(gray((t += 200)));
    for (let i = 0; i < moving; i++) frames.push(gray((t += 200), 0, [i % 15, 2, 5, 5]));
    const last = frames.at(-1);
    for (let i = 0; i < after; i++) frames.push({ ...(last ?? gray(0)), captureTimeMs: (t += 200) });
    return frames;
  }

  it('starts after startFrames changed samples and ends after endQuietMs of quiet, once', () => {
    const events = run(scene(10, 10));
    assert.deepEqual(
      events.map((e) => e.type),
      ['motion-start', 'motion-end'],
    );
    const [start, end] = events;
    assert.ok(start && end);
    assert.equal(start.source, 'cam');
    assert.equal(start.timeMs, 1400, 'the second changed sample (the first compares still with moving)');
    assert.ok(start.box && start.area > 0.02);
    assert.equal(end.startedAtMs, 1400);
    assert.equal(end.timeMs, 3000 + 1000, 'the first sample 1000 ms after the last change');
    assert.ok(end.area >= start.area && end.box && end.box.width >= start.box.width);
  });
  it('one changed sample alone starts nothing with startFrames 2', () => {
    assert.deepEqual(run(scene(1, 10)), []);
  });
  it('a short pause shorter than endQuietMs does not end the event', () => {
    const frames = scene(6, 3);
    let t = frames.at(-1)?.captureTimeMs ?? 0;
    for (let i = 0; i < 6; i++) frames.push(gray((t += 200), 0, [10 - i, 5, 5, 5]));
    for (let i = 0; i < 10; i++) frames.push(gray((t += 200), 0, [5, 5, 5, 5]));
    assert.deepEqual(
      run(frames).map((e) => e.type),
      ['motion-start', 'motion-end'],
    );
  });
  it('an ignore mask over the moving area, or a threshold above the change, suppresses the event', () => {
    assert.deepEqual(run(scene(10, 10), { mask: [{ mode: 'ignore', x: 0, y: 0, width: 1, height: 0.8 }] }), []);
    const dim = scene(10, 10).map((f) => ({ ...f, data: f.data.map((v) => (v === 255 ? 20 : v)) }));
    assert.deepEqual(run(dim as RawFrame[]), []);
  });
  it('compares at most frameRate samples per second (by capture time) and ignores other formats', () => {
    const detector = new MotionDetector('cam', { frameRate: 5 });
    for (let t = 0; t < 2000; t += 40) detector.push(gray(t)); // 25 fps for 2 s
    assert.equal(detector.samples, 9, 'every fifth frame: 10 samples in 2 s, 9 comparisons');
    detector.push({ width: W, height: H, format: 'BGR24', data: Buffer.alloc(W * H * 3), captureTimeMs: 5000 });
    assert.equal(detector.samples, 9);
  });
});
