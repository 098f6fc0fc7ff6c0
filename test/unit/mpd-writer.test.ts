// The DASH MPD writer (packages/browser-sdk/src/outputs/packager/dash/mpd-writer.ts): SegmentTimeline runs, ISO
// durations, and the MPD's attributes for each kind of presentation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isoDuration,
  segmentTimeline,
  writeMpd,
} from '../../packages/browser-sdk/src/outputs/packager/dash/mpd-writer.js';
import type {
  PresentationDescription,
  TrackDescription,
} from '../../packages/browser-sdk/src/outputs/packager/package-model.js';
import { presentation as presentationOf, segs, videoTrack } from './package-fixtures.js';

/** The video track with two equal 2 s segments, with `over` applied. */
const track = (over: Partial<TrackDescription>): TrackDescription =>
  videoTrack({
    segments: segs(1, [
      [0, 180_000],
      [180_000, 180_000],
    ]),
    ...over,
  });

/** A presentation of {@link track} by default, with `over` applied. */
const presentation = (over: Partial<PresentationDescription>): PresentationDescription =>
  presentationOf(over.tracks ?? [track({})], over);

/** The attributes of the first `<tag …>` in `xml`. */
function attributesOf(xml: string, tag: string): Record<string, string> {
  const element = new RegExp(`<${tag}((?: [\\w:]+="[^"]*")*)\\s*/?>`).exec(xml);
  assert.ok(element, `<${tag}> present`);
  return Object.fromEntries(
    [...(element[1] ?? '').matchAll(/ ([\w:]+)="([^"]*)"/g)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']),
  );
}

describe('isoDuration', () => {
  for (const [seconds, text] of [
    [0, 'PT0.000S'],
    [2, 'PT2.000S'],
    [6.0004, 'PT6.000S'],
    [59.9996, 'PT60.000S'],
    [3725.5, 'PT3725.500S'],
    [-1, 'PT0.000S'],
  ] as const) {
    it(`${seconds} s → ${text}`, () => assert.equal(isoDuration(seconds), text));
  }
});

describe('segmentTimeline', () => {
  const cases: { name: string; spans: [number, number][]; lines: string[] }[] = [
    { name: 'no segments', spans: [], lines: [] },
    { name: 'one segment', spans: [[0, 90]], lines: ['<S t="0" d="90"/>'] },
    {
      name: 'equal contiguous segments collapse into r',
      spans: [
        [0, 90],
        [90, 90],
        [180, 90],
      ],
      lines: ['<S t="0" d="90" r="2"/>'],
    },
    {
      name: 'a shorter last segment starts a new S',
      spans: [
        [0, 90],
        [90, 90],
        [180, 45],
      ],
      lines: ['<S t="0" d="90" r="1"/>', '<S t="180" d="45"/>'],
    },
    {
      name: 'a gap restarts the run with an explicit t',
      spans: [
        [0, 90],
        [90, 90],
        [300, 90],
        [390, 90],
      ],
      lines: ['<S t="0" d="90" r="1"/>', '<S t="300" d="90" r="1"/>'],
    },
    {
      name: 'alternating durations never collapse',
      spans: [
        [1000, 10],
        [1010, 20],
        [1030, 10],
      ],
      lines: ['<S t="1000" d="10"/>', '<S t="1010" d="20"/>', '<S t="1030" d="10"/>'],
    },
  ];
  for (const { name, spans, lines } of cases) {
    it(name, () => assert.deepEqual(segmentTimeline(track({ segments: segs(1, spans) })), lines));
  }
});

describe('writeMpd', () => {
  it('VOD: static, with its duration and no live attributes', () => {
    const mpd = writeMpd(presentation({}));
    assert.deepEqual(attributesOf(mpd, 'MPD'), {
      xmlns: 'urn:mpeg:dash:schema:mpd:2011',
      profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
      type: 'static',
      mediaPresentationDuration: 'PT4.000S',
      minBufferTime: 'PT2.000S',
    });
    assert.doesNotMatch(mpd, /UTCTiming/);
    assert.ok(mpd.startsWith('<?xml version="1.0" encoding="utf-8"?>\n') && mpd.endsWith('</MPD>\n'));
  });

  it('live, running: dynamic with availability, update period, time shift, presentation delay and UTCTiming', () => {
    const mpd = writeMpd(presentation({ live: true, ended: false }));
    assert.deepEqual(attributesOf(mpd, 'MPD'), {
      xmlns: 'urn:mpeg:dash:schema:mpd:2011',
      profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
      type: 'dynamic',
      availabilityStartTime: '2026-01-01T12:00:00.000Z',
      publishTime: '2026-01-01T12:01:00.000Z',
      minimumUpdatePeriod: 'PT2.000S',
      timeShiftBufferDepth: 'PT30.000S',
      suggestedPresentationDelay: 'PT6.000S',
      minBufferTime: 'PT2.000S',
    });
    assert.match(mpd, /<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2026-01-01T12:01:00.000Z"\/>/);
  });

  it('live, ended: gains mediaPresentationDuration, loses minimumUpdatePeriod', () => {
    const attributes = attributesOf(writeMpd(presentation({ live: true, ended: true })), 'MPD');
    assert.equal(attributes['mediaPresentationDuration'], 'PT4.000S');
    assert.equal(attributes['minimumUpdatePeriod'], undefined);
    assert.equal(attributes['type'], 'dynamic');
  });

  it('the duration is the end of the longest track', () => {
    const audio = track({
      id: 'a0',
      type: 'audio',
      codec: 'mp4a.40.2',
      timescale: 48_000,
      segments: segs(1, [[0, 240_000]]),
    });
    assert.equal(
      attributesOf(writeMpd(presentation({ tracks: [track({}), audio] })), 'MPD')['mediaPresentationDuration'],
      'PT5.000S',
    );
  });

  it('renditions share one video AdaptationSet whose max size is the largest; audio gets its own', () => {
    const small = track({ id: 'v1', width: 640, height: 360, bandwidthBps: 800_000, frameRate: 29.97002997 });
    const audio = track({
      id: 'a0',
      type: 'audio',
      codec: 'mp4a.40.2',
      timescale: 48_000,
      sampleRate: 48_000,
      channels: 2,
    });
    const mpd = writeMpd(presentation({ tracks: [track({}), small, audio] }));
    const sets = [...mpd.matchAll(/<AdaptationSet[^>]*>/g)].map((m) => m[0]);
    assert.equal(sets.length, 2);
    assert.match(
      sets[0]!,
      /id="0" contentType="video" mimeType="video\/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="1280" maxHeight="720"/,
    );
    assert.match(sets[1]!, /id="1" contentType="audio" mimeType="audio\/mp4" .*lang="und"/);
    assert.match(
      mpd,
      /<Representation id="v1" bandwidth="800000" codecs="avc1.64001f" width="640" height="360" frameRate="29.97" sar="1:1">/,
    );
    assert.match(
      mpd,
      /<Representation id="a0" bandwidth="2000000" codecs="mp4a.40.2" audioSamplingRate="48000">\n\s+<AudioChannelConfiguration [^>]*value="2"\/>/,
    );
  });

  it('an audio-only package has one AdaptationSet, numbered 0', () => {
    const audio = track({ id: 'a0', type: 'audio', codec: 'mp4a.40.2', timescale: 48_000 });
    const mpd = writeMpd(presentation({ tracks: [audio] }));
    assert.deepEqual(
      [...mpd.matchAll(/<AdaptationSet id="(\d)" contentType="(\w+)"/g)].map((m) => [m[1], m[2]]),
      [['0', 'audio']],
    );
  });

  it('a live window: startNumber is the first listed segment, the timeline starts at its time', () => {
    const windowed = track({
      segments: segs(41, [
        [7_200_000, 180_000],
        [7_380_000, 180_000],
      ]),
    });
    const mpd = writeMpd(presentation({ live: true, ended: false, tracks: [windowed] }));
    assert.deepEqual(attributesOf(mpd, 'SegmentTemplate'), {
      timescale: '90000',
      initialization: '$RepresentationID$/init.mp4',
      media: '$RepresentationID$/seg-$Number$.m4s',
      startNumber: '41',
    });
    assert.match(mpd, /<S t="7200000" d="180000" r="1"\/>/);
  });

  it('attribute values are escaped', () => {
    const mpd = writeMpd(presentation({ tracks: [track({ id: 'a"b&c', codec: 'avc1"x' })] }));
    assert.match(mpd, /<Representation id="a&quot;b&amp;c" bandwidth="2000000" codecs="avc1&quot;x"/);
  });
});
