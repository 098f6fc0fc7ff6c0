// The H.264 encoder choices (packages/node-bridge/src/process/h264-encoder-choice.ts, device-model.ts,
// h264-settings.ts) and the arguments they lead to: the Pi camera's (rpicam-vid hardware h264 or libx264 through its
// libav codec) and the bridge's own ffmpeg encode (libx264 or h264_v4l2m2m). No Raspberry Pi here: the board model is
// a string, as the device tree gives it; test/node/bridge-doctor.test.ts runs the stand-ins.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import { classifyDeviceModel, type DeviceModel } from '../../packages/node-bridge/src/process/device-model.js';
import { h264OutputArgs } from '../../packages/node-bridge/src/process/ffmpeg-args.js';
import { chooseCameraEncoder, chooseRawEncoder } from '../../packages/node-bridge/src/process/h264-encoder-choice.js';
import {
  assertH264Level,
  assertH264Profile,
  parseBitrate,
  x264Params,
} from '../../packages/node-bridge/src/process/h264-settings.js';
import { firstError } from '../../packages/node-bridge/src/process/hardware-encoder-probe.js';
import { piCameraArgs } from '../../packages/node-bridge/src/sources/pi-camera-source.js';

const invalid =
  (message: RegExp) =>
  (error: unknown): boolean =>
    error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION' && message.test(error.message);

const device = (model: string | undefined): DeviceModel => ({ model, file: 'model', kind: classifyDeviceModel(model) });
const PI4 = device('Raspberry Pi 4 Model B Rev 1.4');
const PI5 = device('Raspberry Pi 5 Model B Rev 1.0');
const OTHER = device(undefined);
const WORKS = { listed: true, works: true, detail: 'ok' };
const FAILS = { listed: true, works: false, detail: 'Could not find a valid device' };

/** The value after `flag` in `args`. */
const after = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('classifyDeviceModel', () => {
  for (const [model, kind] of [
    ['Raspberry Pi 5 Model B Rev 1.0', 'pi5'],
    ['Raspberry Pi 500 Rev 1.0', 'pi5'],
    ['Raspberry Pi Compute Module 5 Rev 1.0', 'pi5'],
    ['Raspberry Pi 4 Model B Rev 1.4', 'pi'],
    ['Raspberry Pi Zero 2 W Rev 1.0', 'pi'],
    ['Raspberry Pi Compute Module 4 Rev 1.0', 'pi'],
    ['Raspberry Pi 3 Model B Plus Rev 1.3', 'pi'],
    ['Pine64 RockPro64 v2.1', 'other'],
    [undefined, 'other'],
  ] as const) {
    it(`${String(model)} → ${kind}`, () => assert.equal(classifyDeviceModel(model), kind));
  }
});

describe('chooseCameraEncoder and chooseRawEncoder', () => {
  it('a Pi 5 encodes in software, with the reason', () => {
    const camera = chooseCameraEncoder(PI5);
    assert.equal(camera.encoder, 'software');
    assert.match(camera.reason, /Raspberry Pi 5.*no hardware H\.264 encoder/);
    assert.equal(chooseRawEncoder(PI5, WORKS).encoder, 'libx264');
  });
  it('a Pi 4 uses the hardware encoder; raw sources only when h264_v4l2m2m passed its test encode', () => {
    assert.equal(chooseCameraEncoder(PI4).encoder, 'hardware');
    assert.equal(chooseRawEncoder(PI4, WORKS).encoder, 'h264_v4l2m2m');
    const failed = chooseRawEncoder(PI4, FAILS);
    assert.equal(failed.encoder, 'libx264');
    assert.match(failed.reason, /test encode with h264_v4l2m2m failed \(Could not find a valid device\)/);
    assert.match(chooseRawEncoder(PI4, { listed: false, works: false, detail: 'x' }).reason, /no h264_v4l2m2m/);
  });
  it('off a Pi, nothing changes: the camera tool default and libx264', () => {
    assert.equal(chooseCameraEncoder(OTHER).encoder, 'hardware');
    assert.match(chooseCameraEncoder(OTHER).reason, /not a Raspberry Pi/);
    assert.equal(chooseRawEncoder(OTHER, WORKS).encoder, 'libx264');
  });
  it('--h264-encoder hardware or software wins', () => {
    assert.equal(chooseCameraEncoder(PI5, 'hardware').encoder, 'hardware');
    assert.equal(chooseCameraEncoder(PI4, 'software').encoder, 'software');
    assert.equal(chooseRawEncoder(OTHER, FAILS, 'hardware').encoder, 'h264_v4l2m2m');
    assert.equal(chooseRawEncoder(PI4, WORKS, 'software').encoder, 'libx264');
  });
});

describe('H.264 settings', () => {
  it('parseBitrate takes bits per second with k and M', () => {
    assert.equal(parseBitrate('2000000', '--bitrate'), 2_000_000);
    assert.equal(parseBitrate('2M', '--bitrate'), 2_000_000);
    assert.equal(parseBitrate('2.5m', '--bitrate'), 2_500_000);
    assert.equal(parseBitrate('800k', '--bitrate'), 800_000);
    for (const bad of ['', 'fast', '2G', '-1', '2 M'])
      assert.throws(() => parseBitrate(bad, '--bitrate'), invalid(/--bitrate must be bits per second/));
  });
  it('profiles and levels are checked, naming the option', () => {
    assertH264Profile('main', '--h264-profile');
    assert.throws(() => assertH264Profile('high10', '--h264-profile'), invalid(/--h264-profile must be baseline/));
    assertH264Level('4.1', '--h264-level');
    assert.throws(() => assertH264Level('4.3', '--h264-level'), invalid(/--h264-level must be one of/));
    assert.throws(() => assertH264Level('41', '--h264-level'), invalid(/--h264-level/));
  });
  it('x264Params: SPS/PPS repeated on request, CABAC for main, the 8x8 transform for high', () => {
    assert.equal(x264Params('baseline', true), 'repeat-headers=1');
    assert.equal(x264Params('baseline', false), '');
    assert.equal(x264Params('main', true), 'repeat-headers=1:cabac=1');
    assert.equal(x264Params('high', false), 'cabac=1:8x8dct=1');
  });
  it('firstError keeps the cause and drops the codec prefix', () => {
    const stderr =
      "[h264_v4l2m2m @ 0x55b5] Could not find a valid device\n[h264_v4l2m2m @ 0x55b5] can't configure encoder\n";
    assert.equal(firstError(stderr, 'x'), 'Could not find a valid device');
    assert.equal(firstError('', 'exit code 1'), 'exit code 1');
  });
});

describe('piCameraArgs per encoder', () => {
  it('hardware: rpicam-vid h264 with --inline, the level when asked', () => {
    const args = piCameraArgs({ encoder: 'hardware', profile: 'main', level: '4.2' });
    assert.equal(after(args, '--codec'), 'h264');
    assert.ok(args.includes('--inline'));
    assert.equal(after(args, '--profile'), 'main');
    assert.equal(after(args, '--level'), '4.2');
    assert.ok(!piCameraArgs({}).includes('--level'), 'no --level unless asked');
  });
  it('software: libx264 through rpicam-vid libav, low latency, SPS/PPS before every keyframe', () => {
    const args = piCameraArgs({ encoder: 'software', profile: 'high', level: '5.1', keyframeIntervalFrames: 15 });
    assert.equal(after(args, '--codec'), 'libav');
    assert.equal(after(args, '--libav-format'), 'h264');
    assert.equal(after(args, '--libav-video-codec'), 'libx264');
    assert.ok(args.includes('--low-latency'));
    assert.equal(after(args, '--libav-video-codec-opts'), 'x264-params=repeat-headers=1:cabac=1:8x8dct=1');
    assert.equal(after(args, '--intra'), '15');
    assert.equal(after(args, '--level'), '5.1');
  });
  it('refuses a level the hardware encoder lacks, a bad level or encoder', () => {
    assert.throws(
      () => piCameraArgs({ encoder: 'hardware', level: '3.1' }),
      invalid(/level must be one of 4, 4.1, 4.2/),
    );
    piCameraArgs({ encoder: 'software', level: '3.1' });
    assert.throws(() => piCameraArgs({ level: 'x' }), invalid(/level/));
    assert.throws(
      () => piCameraArgs({ encoder: 'gpu' as 'hardware' }),
      invalid(/encoder must be hardware or software/),
    );
  });
});

describe('h264OutputArgs per encoder', () => {
  it('libx264 by default: baseline, no level, as before', () => {
    const args = h264OutputArgs({});
    assert.equal(after(args, '-c:v'), 'libx264');
    assert.equal(after(args, '-profile:v'), 'baseline');
    assert.ok(!args.includes('-level:v') && !args.includes('-x264-params'));
  });
  it('libx264 main at level 4.1 turns CABAC on', () => {
    const args = h264OutputArgs({ profile: 'main', level: '4.1' });
    assert.equal(after(args, '-profile:v'), 'main');
    assert.equal(after(args, '-level:v'), '4.1');
    assert.equal(after(args, '-x264-params'), 'cabac=1');
  });
  it('h264_v4l2m2m takes numeric profile and level', () => {
    const args = h264OutputArgs({ encoder: 'h264_v4l2m2m', profile: 'high', level: '4.2' });
    assert.equal(after(args, '-c:v'), 'h264_v4l2m2m');
    assert.equal(after(args, '-profile:v'), '100');
    assert.equal(after(args, '-level:v'), '42');
    assert.ok(!args.includes('-preset'));
  });
  it('refuses bad profiles, levels and encoders', () => {
    assert.throws(() => h264OutputArgs({ profile: 'extended' as 'main' }), invalid(/h264.profile/));
    assert.throws(() => h264OutputArgs({ level: '7' }), invalid(/h264.level/));
    assert.throws(() => h264OutputArgs({ encoder: 'h264_nvenc' as 'libx264' }), invalid(/h264.encoder/));
  });
});
