// Recording file names (packages/node-bridge/src/recording/recording-names.ts): made from the source id and the UTC
// start time, sortable by time, and the only names the /recordings endpoint serves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRecordingName, recordingName } from '../../packages/node-bridge/src/recording/recording-names.js';

describe('recording names', () => {
  it('carry the UTC start time to the millisecond, then the source id', () => {
    const start = Date.UTC(2026, 11, 7, 22, 5, 1, 123);
    assert.equal(recordingName('cam1', start), '20261207T220501123Z_cam1.mp4');
    assert.deepEqual(parseRecordingName('20261207T220501123Z_cam1.mp4'), { sourceId: 'cam1', startMs: start });
    assert.deepEqual(parseRecordingName(recordingName('room-a.b_c', start)), {
      sourceId: 'room-a.b_c',
      startMs: start,
    });
  });

  it('sort by start time across sources', () => {
    const names = [
      recordingName('zeta', Date.UTC(2026, 0, 1, 10)),
      recordingName('alpha', Date.UTC(2026, 0, 1, 11)),
      recordingName('mid', Date.UTC(2025, 11, 31, 23, 59, 59, 999)),
    ];
    assert.deepEqual(
      [...names].sort().map((n) => parseRecordingName(n)?.sourceId),
      ['mid', 'zeta', 'alpha'],
    );
  });

  const refused = [
    ['', 'empty'],
    ['index.json', 'the index'],
    ['../20261207T220501123Z_cam1.mp4', 'a parent path'],
    ['20261207T220501123Z_../x.mp4', 'a slash in the id'],
    ['a/20261207T220501123Z_cam1.mp4', 'a folder'],
    ['20261207T220501123Z_.hidden.mp4', 'a hidden id'],
    ['20261207T220501123Z_cam1.mp4\0', 'a NUL byte'],
    ['20261207T220501123Z_cam1.webm', 'another extension'],
    ['20261307T220501123Z_cam1.mp4', 'a month 13'],
    ['20261207T220501Z_cam1.mp4', 'no milliseconds'],
    [`20261207T220501123Z_${'x'.repeat(129)}.mp4`, 'an id too long'],
  ] as const;
  for (const [name, what] of refused) {
    it(`refuse ${what}`, () => assert.equal(parseRecordingName(name), undefined));
  }
});
