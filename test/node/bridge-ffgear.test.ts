// FFGear on the bridge, with real ffmpeg: a source's filtergraph (`#vf=`) runs in the ffmpeg that reads the source
// (no extra encoder; H.264 that would be passed through is decoded and encoded once), refused graphs never reach
// ffmpeg, a graph ffmpeg rejects fails the source with its reason in /health; and the picture type (I/P/B) of every
// access unit reaches WebSocket viewers in the frame header.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { createUrlSource, type BridgeHealth, type FramewireError } from '@framewire/node-bridge';
import { WsViewer, runningEncodersOf, writeH264 } from '../helpers/bridge.js';
import { makeMediaFile, runCli, startCli, tempDir, waitUntil } from '../helpers/node.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';
const run = promisify(execFile);

/** The mean gray level of the left and right halves of a JPEG, decoded by ffmpeg. */
async function halves(jpeg: Buffer): Promise<[number, number]> {
  const gray = await new Promise<Buffer>((resolve, reject) => {
    const child = execFile(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', 'pipe:0'],
        ...['-vf', 'scale=2:1:flags=area', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
      ],
      { encoding: 'buffer' },
      (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout)),
    );
    child.stdin?.end(jpeg);
  });
  return [gray[0] ?? -1, gray[1] ?? -1];
}

describe('bridge source filtergraphs (FFGear)', () => {
  it('videoFilter runs in the source’s ffmpeg: a white-left clip comes out white-right with hflip', async () => {
    const dir = await tempDir();
    try {
      const clip = join(dir.path, 'halves.mp4');
      await run('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i'],
        'color=c=white:s=80x120:r=15:d=30[a];color=c=black:s=80x120:r=15:d=30[b];[a][b]hstack',
        ...['-c:v', 'libx264', '-bf', '0', '-pix_fmt', 'yuv420p', clip],
      ]);
      for (const [videoFilter, bright] of [
        [undefined, 'left'],
        ['hflip', 'right'],
        ["hflip,eq=gamma='1.2'", 'right'],
      ] as const) {
        const source = createUrlSource({
          id: 'halves',
          url: `file:${clip}`,
          videoPassthrough: 'never',
          ...(videoFilter === undefined ? {} : { videoFilter }),
        });
        const jpegs: Buffer[] = [];
        source.on('frame', ({ frame }) => {
          if ('codec' in frame && frame.codec === 'jpeg') jpegs.push(frame.data);
        });
        await source.start();
        try {
          await waitUntil(() => jpegs.length >= 3, 'three JPEG frames', 60_000);
          const [left, right] = await halves(jpegs[2] ?? Buffer.alloc(0));
          const [light, dark] = bright === 'left' ? [left, right] : [right, left];
          assert.ok(
            light > 200 && dark < 55,
            `${String(videoFilter)}: ${bright} half bright (left ${left}, right ${right})`,
          );
          assert.equal(source.health.videoFilter?.graph, videoFilter);
          const ffmpegArgs = source.args.join(' ');
          if (videoFilter) assert.ok(source.args.includes(videoFilter), ffmpegArgs);
        } finally {
          await source.close();
        }
      }
    } finally {
      await dir.remove();
    }
  });

  it('a file whose H.264 would pass through is decoded and encoded once by its own ffmpeg; a rejected graph fails with ffmpeg’s reason', async () => {
    const dir = await tempDir();
    try {
      const plain = await makeMediaFile({
        path: join(dir.path, 'plain.mp4'),
        durationS: 60,
        frameRate: 15,
        bFrames: false,
      });
      const cli = await startCli(
        CLI,
        [
          ...['--source', `file:${plain}#id=plain`, '--source', `file:${plain}#id=flip&vf=hflip,eq=gamma=1.2`],
          ...['--source', `file:${plain}#id=bad&vf=hflip,nosuchfilter=3`],
          ...['--source', `file:${plain}#id=badvalue&vf=eq=gamma=abc`],
          ...['--port', '0'],
        ],
        /listening on (http:\/\/[\d.:]+)/,
      );
      try {
        const url = cli.match[1] ?? '';
        const health = async (): Promise<BridgeHealth> => (await (await fetch(`${url}/health`)).json()) as BridgeHealth;
        const ws = new WsViewer(`${url.replace('http:', 'ws:')}/sources/flip/ws`);
        await ws.waitForFrames(10);
        const config = ws.messages.find((m) => m.type === 'config');
        assert.match(config && 'codec' in config ? config.codec : '', /^avc1\.42/, 'encoded by the source’s ffmpeg');
        const metrics = await (await fetch(`${url}/metrics`)).text();
        assert.deepEqual(runningEncodersOf(metrics, 'flip'), [], 'no second encoder in the bridge');
        ws.close();
        const sources = await waitUntil(
          async () => {
            const all = (await health()).sources;
            const failed = all.filter((s) => s.state === 'failed').length === 2;
            return failed && all.find((s) => s.id === 'flip')?.videoFilter ? all : undefined;
          },
          'the bad graphs to fail and the good one to be probed',
          60_000,
        );
        const byId = new Map(sources.map((s) => [s.id, s]));
        assert.equal(byId.get('plain')?.videoMode, 'passthrough');
        assert.equal(byId.get('plain')?.videoFilter, undefined);
        assert.deepEqual(
          [byId.get('flip')?.videoMode, byId.get('flip')?.videoFilter],
          ['encode', { graph: 'hflip,eq=gamma=1.2', reencoded: true }],
        );
        const bad = byId.get('bad');
        assert.deepEqual([bad?.state, bad?.lastError], ['failed', 'FW_ERR_FILTER_REJECTED']);
        assert.match(bad?.videoFilter?.rejected ?? '', /No such filter: 'nosuchfilter'/);
        const badValue = byId.get('badvalue');
        assert.deepEqual([badValue?.state, badValue?.lastError], ['failed', 'FW_ERR_FILTER_REJECTED']);
        assert.match(badValue?.videoFilter?.rejected ?? '', /gamma/);
        assert.equal(badValue?.restarts, 0, 'not restarted: it would fail the same way');
        assert.match(cli.output(), /"flip": video decoded and encoded again for its filter/);
      } finally {
        await cli.stop();
      }
    } finally {
      await dir.remove();
    }
  });

  it('createUrlSource refuses a filter that opens files with FW_ERR_INVALID_OPTION, before any ffmpeg runs', () => {
    for (const videoFilter of ['movie=/etc/passwd', 'drawtext=textfile=/etc/shadow', 'zmq', ''])
      assert.throws(
        () => createUrlSource({ url: 'file:/tmp/x.mp4', videoFilter }),
        (error: FramewireError) => error.code === 'FW_ERR_INVALID_OPTION',
        videoFilter,
      );
  });

  for (const source of [
    'file:/tmp/x.mp4#vf=movie=/etc/passwd[m];[in][m]overlay',
    'file:/tmp/x.mp4#id=a&vf=sendcmd=f=/tmp/cmds',
    'file:/tmp/x.mp4#vf=azmq',
    'file:/tmp/x.mp4#vf=',
    'file:/tmp/x.mp4#vf=hflip&vf=vflip',
    'testpattern#vf=hflip',
    'picamera#vf=hflip',
  ]) {
    it(`the CLI refuses --source ${source} with FW_ERR_INVALID_OPTION`, async () => {
      const result = await runCli(CLI, ['--port', '0', '--source', source]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^framewire-bridge: FW_ERR_INVALID_OPTION: .*(vf|filter)/);
    });
  }
});

describe('picture types in the WebSocket frame header', () => {
  it('a passed-through file with B-frames: I on every keyframe, P and B between, as many of each as ffprobe finds in them', async () => {
    const dir = await tempDir();
    try {
      const clip = await makeMediaFile({ path: join(dir.path, 'b.mp4'), durationS: 60, frameRate: 15 });
      const cli = await startCli(
        CLI,
        ['--source', `file:${clip}#id=b`, '--video-passthrough', 'always', '--port', '0'],
        /listening on (http:\/\/[\d.:]+)/,
      );
      try {
        const url = cli.match[1] ?? '';
        const ws = new WsViewer(`${url.replace('http:', 'ws:')}/sources/b/ws`, {}, { ack: true });
        const frames = await ws.waitForFrames(40);
        ws.close();
        const types = frames.map((frame) => frame.header.frameType);
        for (const frame of frames)
          assert.equal(frame.header.frameType === 'I', frame.header.flags % 2 === 1, 'I exactly on keyframes (IDR)');
        assert.equal(types[0], 'I', 'a viewer starts at a keyframe');
        assert.ok(types.includes('P') && types.includes('B'), types.join(''));
        // An independent reader: ffprobe decodes the access units received and names each picture's type.
        const received = await writeH264(join(dir.path, 'received.h264'), frames);
        const { stdout } = await run('ffprobe', [
          ...['-v', 'error', '-f', 'h264', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', received],
        ]);
        // A picture's line may carry further fields (its side data), on a line of its own too: the type is the first.
        const expected = stdout
          .split('\n')
          .map((line) => line.split(',')[0])
          .filter((type) => type !== '');
        const count = (list: readonly (string | undefined)[], type: string): number =>
          list.filter((t) => t === type).length;
        assert.equal(expected.length, frames.length, 'ffprobe decodes every access unit received');
        for (const type of ['I', 'P', 'B'])
          assert.equal(count(types, type), count(expected, type), `${type}: ${types.join('')} / ${expected.join('')}`);
      } finally {
        await cli.stop();
      }
    } finally {
      await dir.remove();
    }
  });
});
