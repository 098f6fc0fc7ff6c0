import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AnnexBSplitter,
  FfmpegTranscoder,
  FlvH264Demuxer,
  findSps,
  jpegSize,
  listV4l2Devices,
  parseV4l2Formats,
  piCameraArgs,
  urlInputArgs,
  v4l2InputArgs,
  type SourceFrame,
} from '@framewire/node-bridge';
import { ffprobe, makeMediaFile, tempDir, waitUntil } from '../helpers/node.js';

const run = promisify(execFile);

/** Makes a raw Annex B .h264 file (SPS/PPS repeated before each keyframe) of `frames` frames. */
async function makeH264(path: string, frames: number, size = '320x240', gop = 10): Promise<Buffer> {
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=30`,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-bf',
    '0',
    '-x264-params',
    'repeat-headers=1',
    '-f',
    'h264',
    path,
  ]);
  return readFile(path);
}

describe('bridge media parsing', () => {
  it('AnnexBSplitter, splits ffmpeg H.264 into one access unit per frame, keyframes where ffprobe sees them', async () => {
    const dir = await tempDir();
    try {
      const stream = await makeH264(join(dir.path, 'in.h264'), 25);
      for (const step of [1000, 4096, 65536]) {
        const splitter = new AnnexBSplitter();
        const units = [];
        for (let i = 0; i < stream.length; i += step) units.push(...splitter.push(stream.subarray(i, i + step)));
        units.push(...splitter.flush());
        assert.equal(units.length, 25, `chunk size ${step}`);
        assert.deepEqual(
          units.map((u, i) => (u.key ? i : -1)).filter((i) => i >= 0),
          [0, 10, 20],
        );
        // Written back out, the units are a stream ffprobe decodes frame by frame.
        const out = join(dir.path, `out-${step}.h264`);
        await writeFile(out, Buffer.concat(units.map((u) => u.data)));
        const probed = await ffprobe(out, ['-count_frames']);
        assert.equal(probed.streams[0]?.nb_read_frames, '25');
      }
      assert.deepEqual(findSps(stream), { codec: 'avc1.42c00d', width: 320, height: 240 });
    } finally {
      await dir.remove();
    }
  });

  it('AnnexBSplitter and FlvH264Demuxer, garbage and oversize input is dropped without throwing out of the splitter', () => {
    const splitter = new AnnexBSplitter(1000);
    const garbage = Buffer.alloc(50_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 251;
    assert.doesNotThrow(() => splitter.push(garbage));
    const big = Buffer.concat([
      Buffer.from([0, 0, 0, 1, 0x65, 0x88]),
      Buffer.alloc(5000, 1),
      Buffer.from([0, 0, 0, 1, 0x65, 0x88, 1]),
    ]);
    const units = [...splitter.push(big), ...splitter.flush()];
    assert.ok(splitter.oversizeDropped >= 1, 'the oversize unit is dropped');
    assert.ok(units.every((unit) => unit.data.length <= 1000));
    assert.throws(() => new FlvH264Demuxer().push(Buffer.from('this is not an FLV stream')), RangeError);
    assert.equal(findSps(garbage), undefined);
    assert.equal(jpegSize(garbage), undefined);
  });

  it('FlvH264Demuxer, turns ffmpeg FLV into Annex B access units with SPS/PPS before each keyframe', async () => {
    const dir = await tempDir();
    try {
      const flv = join(dir.path, 'in.flv');
      await run('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=30',
        '-frames:v',
        '20',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '8',
        '-bf',
        '0',
        '-f',
        'flv',
        flv,
      ]);
      const demuxer = new FlvH264Demuxer();
      const data = await readFile(flv);
      const packets = [];
      for (let i = 0; i < data.length; i += 333) packets.push(...demuxer.push(data.subarray(i, i + 333)));
      assert.equal(packets.length, 20);
      assert.deepEqual(
        packets.map((p, i) => (p.key ? i : -1)).filter((i) => i >= 0),
        [0, 8, 16],
      );
      for (const key of packets.filter((p) => p.key)) assert.equal(findSps(key.data)?.width, 320);
      const out = join(dir.path, 'late-join.h264');
      await writeFile(out, Buffer.concat(packets.slice(8).map((p) => p.data)));
      assert.equal(
        (await ffprobe(out, ['-count_frames'])).streams[0]?.nb_read_frames,
        '12',
        'a late joiner decodes from a keyframe',
      );
    } finally {
      await dir.remove();
    }
  });

  it('FfmpegTranscoder, encodes JPEG to H.264 and decodes H.264 to I420 and BGR24, keeping capture times in order', async () => {
    const dir = await tempDir();
    try {
      const stream = await makeH264(join(dir.path, 'in.h264'), 12, '160x120', 6);
      const splitter = new AnnexBSplitter();
      const units = [...splitter.push(stream), ...splitter.flush()];
      for (const output of ['I420', 'BGR24', 'jpeg'] as const) {
        const transcoder = new FfmpegTranscoder({
          name: `test ${output}`,
          output,
          ...(output === 'jpeg' ? { width: 80 } : {}),
        });
        const frames: SourceFrame[] = [];
        transcoder.on('frame', ({ frame }) => frames.push(frame));
        try {
          // Paced like a live source (a burst would overflow the bounded capture-time queue).
          for (const [n, unit] of units.entries()) {
            transcoder.push({ codec: 'h264', key: unit.key, data: unit.data, timestampUs: n, captureTimeMs: 1000 + n });
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          // The decoder holds a few frames back until more input arrives: 8 of 12 must be out.
          await waitUntil(() => frames.length >= 8, `${output} frames`);
        } finally {
          await transcoder.close();
        }
        const first = frames[0]!;
        if ('format' in first) {
          assert.deepEqual([first.width, first.height, first.format], [160, 120, output]);
          assert.equal(first.data.length, output === 'I420' ? 160 * 120 * 1.5 : 160 * 120 * 3);
        } else assert.deepEqual(jpegSize(first.data), { width: 80, height: 60 });
        const times = frames.map((f) => f.captureTimeMs);
        assert.deepEqual(
          times,
          [...times].sort((a, b) => a - b),
          'capture times keep their order',
        );
        assert.equal(times[0], 1000);
      }
    } finally {
      await dir.remove();
    }
  });
});

describe('bridge source arguments', () => {
  it('v4l2InputArgs and parseV4l2Formats, build the ffmpeg input and read its format list', () => {
    assert.deepEqual(
      v4l2InputArgs({ device: '/dev/video2', inputFormat: 'mjpeg', width: 1280, height: 720, frameRate: 30 }),
      [
        '-fflags',
        'nobuffer',
        '-flags',
        'low_delay',
        '-f',
        'v4l2',
        '-input_format',
        'mjpeg',
        '-video_size',
        '1280x720',
        '-framerate',
        '30',
        '-i',
        '/dev/video2',
      ],
    );
    assert.throws(() => v4l2InputArgs({ device: 'video0; rm -rf /' }), {
      code: 'FW_ERR_INVALID_OPTION',
      message: /device/,
    });
    assert.throws(() => v4l2InputArgs({ width: 640 }), { code: 'FW_ERR_INVALID_OPTION', message: /width and height/ });
    const text = [
      '[video4linux2,v4l2 @ 0x5581] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 320x240 160x120',
      '[video4linux2,v4l2 @ 0x5581] Compressed:       mjpeg :          Motion-JPEG : 1280x720 640x480',
      '[video4linux2,v4l2 @ 0x5581] Compressed:        h264 :                H.264 : {32-1920, 2}x{32-1080, 2}',
      '/dev/video0: Immediate exit requested',
    ].join('\n');
    assert.deepEqual(parseV4l2Formats(text), [
      { type: 'raw', format: 'yuyv422', description: 'YUYV 4:2:2', sizes: ['640x480', '320x240', '160x120'] },
      { type: 'compressed', format: 'mjpeg', description: 'Motion-JPEG', sizes: ['1280x720', '640x480'] },
      { type: 'compressed', format: 'h264', description: 'H.264', sizes: ['{32-1920, 2}x{32-1080, 2}'] },
    ]);
  });

  it('listV4l2Devices, lists devices from a sysfs tree in numeric order, and nothing when there is none', async () => {
    const dir = await tempDir();
    try {
      for (const [entry, name] of [
        ['video10', 'Grabber'],
        ['video2', 'HD Webcam'],
        ['media0', 'not a video node'],
      ]) {
        await mkdir(join(dir.path, entry!));
        await writeFile(join(dir.path, entry!, 'name'), `${name}\n`);
      }
      assert.deepEqual(await listV4l2Devices(dir.path), [
        { device: '/dev/video2', name: 'HD Webcam' },
        { device: '/dev/video10', name: 'Grabber' },
      ]);
      assert.deepEqual(await listV4l2Devices(join(dir.path, 'missing')), []);
    } finally {
      await dir.remove();
    }
  });

  it('piCameraArgs and urlInputArgs, map options to rpicam-vid and ffmpeg flags and refuse bad ones', () => {
    const args = piCameraArgs({
      width: 640,
      height: 480,
      frameRate: 25,
      rotation: 180,
      hflip: true,
      controls: { shutter: 8000, awb: 'indoor', denoise: false },
    });
    for (const expected of [
      ['--width', '640'],
      ['--framerate', '25'],
      ['--intra', '25'],
      ['--rotation', '180'],
      ['--shutter', '8000'],
      ['--awb', 'indoor'],
      ['--output', '-'],
    ])
      assert.ok(args.join(' ').includes(expected.join(' ')), expected.join(' '));
    assert.ok(
      args.includes('--inline') && args.includes('--flush') && args.includes('--hflip') && !args.includes('--denoise'),
    );
    assert.throws(() => piCameraArgs({ controls: { 'x; reboot': 1 } }), {
      code: 'FW_ERR_INVALID_OPTION',
      message: /controls/,
    });
    assert.throws(() => piCameraArgs({ rotation: 90 as 0 }), { code: 'FW_ERR_INVALID_OPTION', message: /rotation/ });
    assert.deepEqual(urlInputArgs({ url: 'rtsp://127.0.0.1:8554/cam' }), [
      '-fflags',
      'nobuffer',
      '-flags',
      'low_delay',
      '-rtsp_transport',
      'tcp',
      '-i',
      'rtsp://127.0.0.1:8554/cam',
    ]);
    assert.deepEqual(urlInputArgs({ url: 'file:///tmp/a%20b.mp4', loop: true }), [
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      '/tmp/a b.mp4',
    ]);
    assert.throws(() => urlInputArgs({ url: 'gopher://x/' }), { code: 'FW_ERR_INVALID_OPTION', message: /scheme/ });
  });

  it('makeMediaFile stand-in check, the helper still makes playable media (used by the URL source tests)', async () => {
    const dir = await tempDir();
    try {
      const file = await makeMediaFile({ path: join(dir.path, 'clip.mp4'), durationS: 1 });
      assert.equal((await ffprobe(file)).streams[0]?.codec_name, 'h264');
    } finally {
      await dir.remove();
    }
  });
});
