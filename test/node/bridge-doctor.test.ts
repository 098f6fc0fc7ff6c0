// The right H.264 encoder on every Pi, and `framewire-bridge doctor`. There is no Raspberry Pi here: the board is a
// stand-in device-tree model file (test/fixtures/device-models) given with --device-model-file, and the camera tool
// is test/fixtures/fake-rpicam-vid.sh, which records its arguments, lists a Camera Module 3 and makes its H.264 with
// ffmpeg. The streams are checked by an independent reader (ffprobe) and NAL by NAL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { splitNalUnits } from '@framewire/node-bridge';
import { WsViewer, writeH264 } from '../helpers/bridge.js';
import { runCli, startCli, startServer, tempDir, waitUntil } from '../helpers/node.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const FAKE_RPICAM = 'test/fixtures/fake-rpicam-vid.sh';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const MODELS = {
  pi4: 'test/fixtures/device-models/raspberry-pi-4',
  pi5: 'test/fixtures/device-models/raspberry-pi-5',
  other: 'test/fixtures/device-models/not-a-pi',
};

interface Report {
  ok: boolean;
  device: { model: string; kind: string };
  cameraTool: { found: boolean; command: string; cameras: string[] };
  hardwareEncoder: { listed: boolean; works: boolean; detail: string };
  softwareEncoder: { fps: number | undefined; frameRate: number; width: number; height: number };
  ffmpeg: { found: boolean; version: string; encoders: Record<string, boolean> };
  port: { free: boolean; detail: string };
  choices: {
    picamera: { encoder: string; reason: string; args: string[] };
    rawSources: { encoder: string; reason: string; args: string[] };
  };
  problems: { severity: string; message: string }[];
}

const NAL_NAMES: Record<number, string> = { 1: 'slice', 5: 'idr', 6: 'sei', 7: 'sps', 8: 'pps', 9: 'aud' };

/** The NAL unit types of an Annex B buffer, by name. */
function nalNames(data: Uint8Array): string[] {
  return splitNalUnits(data).map((unit) => NAL_NAMES[(unit[0] ?? 0) & 0x1f] ?? 'other');
}

/** Asserts every IDR slice run in `units` follows an SPS and a PPS, and returns the number of keyframes seen. */
function assertParameterSetsBeforeEveryKeyframe(units: string[], label: string): number {
  let keyframes = 0;
  units.forEach((name, index) => {
    if (name !== 'idr' || units[index - 1] === 'idr') return;
    keyframes += 1;
    const before = units.slice(Math.max(0, index - 4), index);
    assert.ok(
      before.includes('sps') && before.includes('pps'),
      `${label}: keyframe ${keyframes} after ${before.join(',')}`,
    );
  });
  return keyframes;
}

/** Runs the camera tool stand-in with `args` until it has written `keyframes` keyframes, and returns its raw H.264. */
async function cameraOutput(args: string[], keyframes: number): Promise<Buffer> {
  const child = spawn(FAKE_RPICAM, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FAKE_RPICAM_ARGS_FILE: '' },
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const idrs = (): number =>
    nalNames(Buffer.concat(chunks)).filter((name, index, names) => name === 'idr' && names[index - 1] !== 'idr').length;
  try {
    // One keyframe more than asked, so that the last one asked for is whole.
    await waitUntil(() => idrs() > keyframes, `the camera stand-in to write ${keyframes} keyframes`, 60_000);
  } finally {
    child.kill();
  }
  return Buffer.concat(chunks);
}

/** ffprobe's profile and level of the first video stream of `path`. */
async function profileAndLevel(path: string): Promise<[string, number]> {
  const probed = await runFfprobe(path);
  return [probed.profile, probed.level];
}

async function runFfprobe(path: string): Promise<{ profile: string; level: number }> {
  const child = spawn('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=profile,level',
    '-of',
    'json',
    path,
  ]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `ffprobe ${path}`);
  const stream = (JSON.parse(out) as { streams: { profile: string; level: number }[] }).streams[0];
  assert.ok(stream, 'a video stream');
  return stream;
}

async function doctor(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const result = await runCli(BRIDGE, ['doctor', '--json', '--size', '320x240', '--fps', '15', ...args]);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

/** The doctor's arguments for the camera stand-in on the board of `modelFile`. */
const cameraOn = (modelFile: string): string[] => [
  '--source',
  'picamera',
  '--camera-command',
  FAKE_RPICAM,
  '--device-model-file',
  modelFile,
  '--port',
  '0',
];

describe('framewire-bridge doctor', () => {
  it('on a Pi 5 stand-in: software encode in rpicam-vid, the cameras listed, and the honest hardware answer', async () => {
    const { code, report } = await doctor(cameraOn(MODELS.pi5));
    assert.equal(code, 0, JSON.stringify(report.problems));
    assert.equal(report.ok, true);
    assert.deepEqual([report.device.model, report.device.kind], ['Raspberry Pi 5 Model B Rev 1.0', 'pi5']);
    assert.equal(report.cameraTool.found, true);
    assert.deepEqual(report.cameraTool.cameras, [
      '0 : imx708 [4608x2592 10-bit RGGB] (/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a)',
    ]);
    assert.equal(report.choices.picamera.encoder, 'software');
    assert.match(report.choices.picamera.reason, /no hardware H\.264 encoder/);
    assert.ok(report.choices.picamera.args.includes('libx264'));
    assert.equal(report.choices.rawSources.encoder, 'libx264');
    // This machine has ffmpeg's h264_v4l2m2m wrapper but no V4L2 encoder device: the test encode fails.
    assert.equal(report.hardwareEncoder.listed, report.ffmpeg.encoders['h264_v4l2m2m']);
    assert.equal(typeof report.hardwareEncoder.works, 'boolean');
    if (!report.hardwareEncoder.works) assert.notEqual(report.hardwareEncoder.detail, 'ok');
    assert.ok((report.softwareEncoder.fps ?? 0) > 0, 'libx264 was measured');
    assert.deepEqual(
      [report.softwareEncoder.width, report.softwareEncoder.height, report.softwareEncoder.frameRate],
      [320, 240, 15],
    );
    assert.match(report.ffmpeg.version, /^ffmpeg version/);
    assert.equal(report.ffmpeg.encoders['libx264'], true);
    assert.deepEqual([report.port.free, report.port.detail], [true, 'free']);
  });

  it('on a Pi 4 stand-in: the hardware encoder for the camera; raw sources on h264_v4l2m2m only if it works', async () => {
    const { code, report } = await doctor(cameraOn(MODELS.pi4));
    assert.equal(code, 0, JSON.stringify(report.problems));
    assert.equal(report.device.kind, 'pi');
    assert.equal(report.choices.picamera.encoder, 'hardware');
    assert.match(report.choices.picamera.reason, /has the hardware H\.264 encoder/);
    assert.equal(report.choices.picamera.args[report.choices.picamera.args.indexOf('--codec') + 1], 'h264');
    assert.equal(report.choices.rawSources.encoder, report.hardwareEncoder.works ? 'h264_v4l2m2m' : 'libx264');
    if (!report.hardwareEncoder.works)
      assert.match(report.choices.rawSources.reason, /h264_v4l2m2m (failed|was not)|no h264_v4l2m2m/);
  });

  it('off a Pi (stand-in model and text output): the defaults, with the reason', async () => {
    const { code, report } = await doctor(['--device-model-file', MODELS.other, '--port', '0']);
    assert.equal(code, 0, JSON.stringify(report.problems));
    assert.equal(report.device.kind, 'other');
    assert.equal(report.choices.picamera.encoder, 'hardware');
    assert.match(report.choices.picamera.reason, /"Pine64 RockPro64 v2\.1" is not a Raspberry Pi/);
    assert.equal(report.choices.rawSources.encoder, 'libx264');
    const text = await runCli(BRIDGE, [
      'doctor',
      '--size',
      '320x240',
      '--fps',
      '15',
      '--device-model-file',
      MODELS.other,
      '--port',
      '0',
      '--camera-command',
      FAKE_RPICAM,
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Board: +Pine64 RockPro64 v2\.1/m);
    assert.match(text.stdout, /^Camera tool: +test\/fixtures\/fake-rpicam-vid\.sh, 1 camera\(s\)/m);
    assert.match(text.stdout, /^raw sources: +libx264 \(.*not a Raspberry Pi\)/m);
  });

  it('exits 1 when the configuration cannot work: picamera without a camera tool, a port in use', async () => {
    const busy = await startServer((_request, response) => response.end());
    try {
      const { code, report } = await doctor([
        '--source',
        'picamera',
        '--camera-command',
        'test/fixtures/no-such-rpicam-vid',
        '--device-model-file',
        MODELS.pi5,
        '--port',
        String(busy.port),
      ]);
      assert.equal(code, 1);
      assert.equal(report.ok, false);
      assert.equal(report.cameraTool.found, false);
      const errors = report.problems.filter((p) => p.severity === 'error').map((p) => p.message);
      assert.ok(
        errors.some((m) => m.includes('--source picamera needs a camera tool')),
        errors.join('\n'),
      );
      assert.ok(
        errors.some((m) => new RegExp(`port ${busy.port} .* not free \\(in use\\)`).test(m)),
        errors.join('\n'),
      );
    } finally {
      await busy.close();
    }
  });

  it('refuses bad H.264 options with FW_ERR_INVALID_OPTION (exit 2), in doctor and in the bridge', async () => {
    for (const [args, message] of [
      [['doctor', '--h264-profile', 'extended'], /--h264-profile must be baseline, main or high/],
      [['doctor', '--h264-encoder', 'gpu'], /--h264-encoder must be auto, hardware or software/],
      [['doctor', '--bitrate', 'fast'], /--bitrate must be bits per second/],
      [['doctor', '--h264-level', '9', '--port', '0'], /level must be one of/],
      [['--port', '0', '--h264-level', '4.3'], /--h264-level must be one of/],
      [['--port', '0', '--h264-profile', 'high10'], /--h264-profile must be baseline, main or high/],
      [['--port', '0', '--h264-encoder', 'gpu'], /--h264-encoder must be auto, hardware or software/],
      [['--port', '0', '--bitrate', '2G'], /--bitrate must be bits per second/],
      [
        [
          '--port',
          '0',
          '--source',
          'picamera',
          '--device-model-file',
          MODELS.pi4,
          '--h264-level',
          '3.1',
          '--camera-command',
          FAKE_RPICAM,
        ],
        /level must be one of 4, 4\.1, 4\.2/,
      ],
    ] as const) {
      const result = await runCli(BRIDGE, [...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /FW_ERR_INVALID_OPTION/);
      assert.match(result.stderr, message);
    }
  });
});

describe('the Pi camera encoder per board (stand-ins)', () => {
  for (const board of ['pi5', 'pi4'] as const) {
    it(`${board}: the camera tool gets the ${board === 'pi5' ? 'software' : 'hardware'} arguments; its stream has SPS/PPS before every keyframe`, async () => {
      const dir = await tempDir();
      const argsFile = join(dir.path, 'args.txt');
      process.env['FAKE_RPICAM_ARGS_FILE'] = argsFile;
      const bridge = await startCli(
        BRIDGE,
        [
          '--port',
          '0',
          '--source',
          'picamera',
          '--camera-command',
          FAKE_RPICAM,
          '--device-model-file',
          MODELS[board],
          '--size',
          '320x240',
          '--fps',
          '15',
          '--keyframe-interval',
          '5',
          '--bitrate',
          '800k',
          '--h264-profile',
          'main',
          '--h264-level',
          '4.1',
        ],
        LISTENING,
      );
      let viewer: WsViewer | undefined;
      try {
        await waitUntil(() => existsSync(argsFile), 'the camera tool to start', 60_000);
        const args = (await readFile(argsFile, 'utf8')).trim().split('\n');
        const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
        assert.deepEqual(
          [value('--profile'), value('--level'), value('--intra'), value('--bitrate')],
          ['main', '4.1', '5', '800000'],
        );
        assert.ok(args.includes('--inline'));
        if (board === 'pi5') {
          assert.deepEqual(
            [value('--codec'), value('--libav-format'), value('--libav-video-codec')],
            ['libav', 'h264', 'libx264'],
          );
          assert.ok(args.includes('--low-latency'));
          assert.equal(value('--libav-video-codec-opts'), 'x264-params=repeat-headers=1:cabac=1');
        } else {
          assert.equal(value('--codec'), 'h264');
          assert.ok(!args.includes('--libav-video-codec'));
        }
        // The stand-in's own stream for those arguments, read NAL by NAL and by ffprobe.
        const raw = await cameraOutput(args, 3);
        assert.ok(
          assertParameterSetsBeforeEveryKeyframe(nalNames(raw), 'camera stream') >= 2,
          'at least two keyframes',
        );
        if (board === 'pi5') {
          // libx264 inside rpicam-vid is ffmpeg's encoder: the profile and level asked for are in the SPS.
          await writeFile(join(dir.path, 'camera.h264'), raw);
          assert.deepEqual(await profileAndLevel(join(dir.path, 'camera.h264')), ['Main', 41]);
        }
        // A viewer joining late (the camera has been running since the bridge started) gets SPS/PPS with its first
        // keyframe.
        viewer = new WsViewer(`ws://127.0.0.1:${bridge.match[1]}/ws`);
        const frames = await viewer.waitForFrames(12);
        const firstKey = frames.findIndex((frame) => nalNames(frame.payload).includes('idr'));
        assert.ok(firstKey >= 0, 'a keyframe among the first frames');
        const units = nalNames(frames[firstKey]?.payload ?? Buffer.alloc(0));
        assert.ok(units.includes('sps') && units.indexOf('sps') < units.indexOf('idr'), units.join(','));
        assert.ok(units.includes('pps') && units.indexOf('pps') < units.indexOf('idr'), units.join(','));
      } finally {
        delete process.env['FAKE_RPICAM_ARGS_FILE'];
        viewer?.close();
        assert.equal(await bridge.stop(), 0, bridge.output());
        await dir.remove();
      }
      assert.match(bridge.output(), new RegExp(`picamera encodes with ${board === 'pi5' ? 'software' : 'hardware'}`));
    });
  }

  it("the bridge's own encode of a raw source: the profile and level asked for, SPS/PPS before every keyframe", async () => {
    const dir = await tempDir();
    const bridge = await startCli(
      BRIDGE,
      [
        '--port',
        '0',
        '--size',
        '320x240',
        '--fps',
        '15',
        '--keyframe-interval',
        '5',
        '--h264-profile',
        'high',
        '--h264-level',
        '3.1',
        '--device-model-file',
        MODELS.pi5,
      ],
      LISTENING,
    );
    const viewer = new WsViewer(`ws://127.0.0.1:${bridge.match[1]}/ws`);
    let late: WsViewer | undefined;
    try {
      const frames = await viewer.waitForFrames(20);
      const units = frames.flatMap((frame) => nalNames(frame.payload));
      assert.ok(assertParameterSetsBeforeEveryKeyframe(units, 'bridge encode') >= 2, 'at least two keyframes');
      const path = await writeH264(join(dir.path, 'raw.h264'), frames);
      assert.deepEqual(await profileAndLevel(path), ['High', 31]);
      // A viewer joining the running encode gets SPS/PPS with its first keyframe.
      late = new WsViewer(`ws://127.0.0.1:${bridge.match[1]}/ws`);
      const lateFrames = await late.waitForFrames(6);
      const first = nalNames(
        lateFrames.find((frame) => nalNames(frame.payload).includes('idr'))?.payload ?? Buffer.alloc(0),
      );
      assert.ok(
        first.includes('sps') && first.includes('pps') && first.indexOf('pps') < first.indexOf('idr'),
        first.join(','),
      );
    } finally {
      late?.close();
      viewer.close();
      assert.equal(await bridge.stop(), 0, bridge.output());
      await dir.remove();
    }
    assert.match(bridge.output(), /raw sources encode with libx264: .*Raspberry Pi 5.*no hardware H\.264 encoder/);
  });
});
