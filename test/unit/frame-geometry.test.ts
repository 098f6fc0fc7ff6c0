// The crop and resize arithmetic (packages/browser-sdk/src/transforms/frame-geometry.ts): where a crop lands in a
// frame's coded pixels for each pixel format, and the output size of a resize.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cropVisibleRect,
  resizedSize,
  sampleAlignment,
} from '../../packages/browser-sdk/src/transforms/frame-geometry.js';

const rect = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });

describe('frame geometry', () => {
  it('sampleAlignment: 4:2:0 on both axes, 4:2:2 horizontally, 4:4:4, RGB and opaque frames anywhere', () => {
    const cases: [string | null, { x: number; y: number }][] = [
      ['I420', { x: 2, y: 2 }],
      ['I420A', { x: 2, y: 2 }],
      ['I420P10', { x: 2, y: 2 }],
      ['NV12', { x: 2, y: 2 }],
      ['I422', { x: 2, y: 1 }],
      ['I444', { x: 1, y: 1 }],
      ['RGBA', { x: 1, y: 1 }],
      ['BGRX', { x: 1, y: 1 }],
      [null, { x: 1, y: 1 }],
    ];
    for (const [format, alignment] of cases) assert.deepEqual(sampleAlignment(format), alignment, String(format));
  });

  it('cropVisibleRect: offsets relative to the visible area, rounded down to the sample grid, size kept', () => {
    const cases: [Parameters<typeof cropVisibleRect>, ReturnType<typeof cropVisibleRect>][] = [
      [[rect(10, 6, 20, 10), rect(0, 0, 64, 48), 'I420'], rect(10, 6, 20, 10)],
      [[rect(11, 7, 21, 13), rect(0, 0, 64, 48), 'I420'], rect(10, 6, 21, 13)],
      [[rect(11, 7, 21, 13), rect(0, 0, 64, 48), 'I422'], rect(10, 7, 21, 13)],
      [[rect(11, 7, 21, 13), rect(0, 0, 64, 48), 'RGBA'], rect(11, 7, 21, 13)],
      [[rect(3, 2, 8, 8), rect(10, 6, 40, 30), 'NV12'], rect(12, 8, 8, 8)],
      [[rect(0, 0, 64, 48), rect(0, 0, 64, 48), 'I420'], rect(0, 0, 64, 48)],
    ];
    for (const [args, expected] of cases) assert.deepEqual(cropVisibleRect(...args), expected, JSON.stringify(args));
  });

  it('cropVisibleRect: a rectangle that does not fit in the visible area throws FW_ERR_INVALID_OPTION', () => {
    for (const wanted of [rect(40, 0, 40, 10), rect(0, 40, 10, 10), rect(0, 0, 65, 48)]) {
      assert.throws(
        () => cropVisibleRect(wanted, rect(0, 0, 64, 48), 'I420'),
        (error: { code?: string; fatal?: boolean }) => error.code === 'FW_ERR_INVALID_OPTION' && error.fatal === true,
      );
    }
  });

  it('resizedSize: both sides exact, one side keeps the aspect ratio rounded to even, none keeps the input', () => {
    const cases: [[number, number, { width?: number; height?: number }], { width: number; height: number }][] = [
      [[1280, 720, { width: 640 }], { width: 640, height: 360 }],
      [[1280, 720, { height: 480 }], { width: 854, height: 480 }],
      [[640, 480, { width: 100, height: 100 }], { width: 100, height: 100 }],
      [[1920, 1080, { width: 426 }], { width: 426, height: 240 }],
      [[1000, 10, { width: 50 }], { width: 50, height: 2 }],
      [[320, 240, {}], { width: 320, height: 240 }],
    ];
    for (const [[w, h, target], expected] of cases) assert.deepEqual(resizedSize(w, h, target), expected);
  });
});
