// A source's ffmpeg filtergraph (packages/node-bridge/src/process/video-filter.ts): graphs that only filter pictures
// pass; filters and options that open files, sockets or libraries are refused, however they are spelled; ffmpeg's
// stderr on a rejected graph gives its reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import {
  assertSafeVideoFilter,
  filterFailureReason,
  parseFilterGraph,
} from '../../packages/node-bridge/src/process/video-filter.js';

const invalid = (error: unknown): boolean => error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION';

describe('parseFilterGraph', () => {
  it('reads names, named and positional options, quotes and escapes', () => {
    const filters = parseFilterGraph("scale=320:-2,eq@a=gamma=1.2:contrast='1.1',drawtext=text='a\\:b, c'");
    assert.deepEqual(
      filters.map((filter) => [filter.name, [...filter.named], filter.positional]),
      [
        ['scale', [], ['320', '-2']],
        [
          'eq',
          [
            ['gamma', '1.2'],
            ['contrast', '1.1'],
          ],
          [],
        ],
        ['drawtext', [['text', 'a:b, c']], []],
      ],
    );
  });
  it('skips link labels', () => {
    assert.deepEqual(
      parseFilterGraph('[in]split[a][b];[a]hflip[c];[b][c]hstack[out]').map((filter) => filter.name),
      ['split', 'hflip', 'hstack'],
    );
  });
});

describe('assertSafeVideoFilter', () => {
  for (const graph of [
    'hflip',
    'hflip,eq=gamma=1.2',
    'scale=640:360,format=yuv420p',
    "drawtext=text='hello':x=10:y=10",
    'curves=preset=vintage',
    'crop=iw/2:ih:0:0,transpose=1',
  ]) {
    it(`accepts ${graph}`, () => assert.equal(assertSafeVideoFilter(graph), graph));
  }
  for (const graph of [
    '',
    '   ',
    'movie=/etc/passwd',
    "movie='/etc/passwd'[m];[in][m]overlay",
    'hflip,amovie=http://example.com/a.mp3',
    'sendcmd=f=cmds.txt,hflip',
    'sendcmd=filename=cmds.txt',
    'zmq',
    'azmq=bind_address=tcp\\://*\\:5555',
    'subtitles=/etc/passwd',
    'MOVIE=/etc/passwd',
    'movie@x=/etc/passwd',
    'mo\\vie=/etc/passwd',
    'drawtext=fontfile=/etc/passwd:text=a',
    'drawtext=font\\file=/etc/passwd',
    "drawtext='fontfile'=/etc/passwd",
    'drawtext=/etc/passwd',
    'drawtext=textfile=/etc/shadow',
    'metadata=mode=print:file=/tmp/out',
    'curves=psfile=/tmp/x.acv',
    'lut3d=/tmp/x.cube',
    'frei0r=filter_name=/tmp/evil.so',
    'hflip,eq=gamma=1.2;',
    "eq=gamma='1.2",
    'hflip,$(reboot)',
    'a b',
    `hflip${',hflip'.repeat(500)}`,
    'hflip\nvflip',
  ]) {
    it(`refuses ${JSON.stringify(graph.slice(0, 60))} with FW_ERR_INVALID_OPTION`, () =>
      assert.throws(() => assertSafeVideoFilter(graph), invalid));
  }
});

describe('filterFailureReason', () => {
  it("reads ffmpeg 5's unknown filter", () => {
    const stderr =
      "[AVFilterGraph @ 0x55dda23a7640] No such filter: 'nosuch'\nError reinitializing filters!\n" +
      'Failed to inject frame into filter network: Invalid argument\n';
    assert.equal(filterFailureReason(stderr), "No such filter: 'nosuch'");
  });
  it('reads a bad option value', () => {
    const stderr =
      "[Parsed_eq_0 @ 0x55e81a2ff140] [Eval @ 0x7ffd2809dd80] Undefined constant or missing '(' in 'abc'\n" +
      "[Parsed_eq_0 @ 0x55e81a2ff140] Error when parsing the expression 'abc' for gamma\n" +
      "[AVFilterGraph @ 0x55e81a2fe640] Error initializing filter 'eq' with args 'gamma=abc'\n" +
      'Error reinitializing filters!\n';
    assert.equal(
      filterFailureReason(stderr),
      "Undefined constant or missing '(' in 'abc'; Error when parsing the expression 'abc' for gamma; " +
        "Error initializing filter 'eq' with args 'gamma=abc'",
    );
  });
  it('reads the stderr quoted after a failure message', () => {
    const message =
      'url source "x": exited (code 1, signal none): [AVFilterGraph @ 0x5] No such filter: \'x\'\nError reinitializing filters!';
    assert.equal(filterFailureReason(message), "No such filter: 'x'");
  });
  it('says nothing of other failures', () => {
    assert.equal(filterFailureReason('/tmp/x.mp4: No such file or directory\n'), undefined);
    assert.equal(filterFailureReason(''), undefined);
  });
});
