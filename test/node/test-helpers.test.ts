import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { distinctColours } from '../helpers/demo-page.js';
import { isLoopbackCandidate, loopbackOnlySdp } from '../helpers/ice-loopback.js';
import { ffprobe, makeMediaFile, startServer, tempDir, waitForEvent } from '../helpers/node.js';

describe('test helpers', () => {
  it('distinctColours, counts one colour in a blank picture and many in a test pattern (the blank-screenshot check)', async () => {
    const dir = await tempDir();
    try {
      const make = async (name: string, source: string): Promise<string> => {
        const path = join(dir.path, name);
        await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', source, '-frames:v', '1', path]);
        return path;
      };
      assert.equal(await distinctColours(await make('white.png', 'color=white:size=320x240')), 1);
      assert.ok((await distinctColours(await make('pattern.png', 'testsrc2=size=320x240'))) >= 16);
    } finally {
      await dir.remove();
    }
  });

  it('isLoopbackCandidate, keeps 127.0.0.1 and ::1 candidates and drops every other address', () => {
    assert.ok(isLoopbackCandidate('candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0'));
    assert.ok(isLoopbackCandidate({ candidate: 'candidate:2 1 udp 2122262783 ::1 50001 typ host' }));
    assert.ok(!isLoopbackCandidate('candidate:3 1 udp 2122260223 192.168.1.20 50002 typ host'));
    assert.ok(!isLoopbackCandidate('candidate:4 1 udp 2122260223 1f0c2a3e-aaaa.local 50003 typ host'));
    assert.ok(!isLoopbackCandidate({ candidate: '' }));
    assert.ok(!isLoopbackCandidate(null));
    const sdp = [
      'v=0',
      'a=candidate:1 1 udp 1 127.0.0.1 5000 typ host',
      'a=candidate:2 1 udp 1 10.0.0.2 5000 typ host',
      '',
    ].join('\r\n');
    assert.equal(loopbackOnlySdp(sdp), ['v=0', 'a=candidate:1 1 udp 1 127.0.0.1 5000 typ host', ''].join('\r\n'));
  });

  it('makeMediaFile, writes media that ffprobe reads with the requested size and tracks', async () => {
    const dir = await tempDir();
    try {
      const mp4 = await makeMediaFile({ path: join(dir.path, 'clip.mp4'), durationS: 1, size: '160x120', audio: true });
      const info = await ffprobe(mp4);
      const video = info.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, 'h264');
      assert.equal(video.width, 160);
      assert.ok(info.streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'));
      const webm = await makeMediaFile({ path: join(dir.path, 'clip.webm'), durationS: 1, size: '160x120' });
      assert.equal((await ffprobe(webm)).streams[0]?.codec_name, 'vp9');
    } finally {
      await dir.remove();
    }
  });

  it('startServer and waitForEvent, serve on a free loopback port and time out cleanly', async () => {
    const server = await startServer((_, response) => response.end('hi'));
    try {
      assert.ok(server.port > 0);
      assert.equal(await (await fetch(server.url)).text(), 'hi');
    } finally {
      await server.close();
    }
    const emitter = new EventEmitter();
    setTimeout(() => emitter.emit('ready', 42), 10);
    assert.equal(await waitForEvent<number>(emitter, 'ready'), 42);
    await assert.rejects(waitForEvent(emitter, 'never', 50), { name: 'AbortError' });
  });
});
