// The manifest writers are pure functions over a description of the package: their text output is checked here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { segmentTimeline, writeMpd } from '../../packages/browser-sdk/src/outputs/packager/dash/mpd-writer.js';
import {
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../../packages/browser-sdk/src/outputs/packager/hls/hls-playlist-writer.js';
import type {
  PresentationDescription,
  TrackDescription,
} from '../../packages/browser-sdk/src/outputs/packager/package-model.js';

const segments = (first: number, count: number, ticks: number, startTicks = (first - 1) * ticks) =>
  Array.from({ length: count }, (_, i) => ({
    number: first + i,
    startTicks: startTicks + i * ticks,
    durationTicks: ticks,
    bytes: 10_000,
  }));

const video: TrackDescription = {
  id: 'v0',
  type: 'video',
  codec: 'avc1.64000d',
  bandwidthBps: 400_000,
  averageBandwidthBps: 300_000,
  width: 320,
  height: 240,
  frameRate: 30,
  timescale: 90_000,
  segments: segments(1, 3, 180_000),
};
const audio: TrackDescription = {
  id: 'a0',
  type: 'audio',
  codec: 'mp4a.40.2',
  bandwidthBps: 130_000,
  averageBandwidthBps: 128_000,
  sampleRate: 48_000,
  channels: 2,
  timescale: 48_000,
  segments: segments(1, 3, 96_000),
};
const vod: PresentationDescription = {
  live: false,
  ended: true,
  segmentDurationS: 2,
  targetDurationS: 2,
  availabilityStartTimeMs: 0,
  publishTimeMs: Date.UTC(2026, 0, 1),
  timeShiftBufferDepthS: 10,
  tracks: [video, audio],
};
const live: PresentationDescription = {
  ...vod,
  live: true,
  ended: false,
  availabilityStartTimeMs: Date.UTC(2026, 0, 1, 12),
  publishTimeMs: Date.UTC(2026, 0, 1, 12, 0, 20),
  tracks: [{ ...video, segments: segments(7, 3, 180_000) }, audio],
};

describe('Packager manifests', () => {
  it('Packager manifests, SegmentTimeline collapses equal contiguous segments into r and restarts after a gap', () => {
    assert.deepEqual(segmentTimeline(video), ['<S t="0" d="180000" r="2"/>']);
    const gappy = {
      ...video,
      segments: [...segments(1, 2, 100), { number: 3, startTicks: 250, durationTicks: 90, bytes: 1 }],
    };
    assert.deepEqual(segmentTimeline(gappy), ['<S t="0" d="100" r="1"/>', '<S t="250" d="90"/>']);
  });

  it('Packager manifests, a VOD MPD is static with its duration, one AdaptationSet per type, $Number$ templates', () => {
    const mpd = writeMpd(vod);
    assert.match(mpd, /^<\?xml version="1.0" encoding="utf-8"\?>\n<MPD /);
    assert.match(mpd, / type="static"/);
    assert.match(mpd, / mediaPresentationDuration="PT6.000S"/);
    assert.match(mpd, / profiles="urn:mpeg:dash:profile:isoff-live:2011"/);
    assert.doesNotMatch(mpd, /availabilityStartTime|minimumUpdatePeriod|UTCTiming/);
    assert.match(
      mpd,
      /<AdaptationSet id="0" contentType="video" mimeType="video\/mp4" segmentAlignment="true" startWithSAP="1"/,
    );
    assert.match(
      mpd,
      /<Representation id="v0" bandwidth="400000" codecs="avc1.64000d" width="320" height="240" frameRate="30"/,
    );
    assert.match(mpd, /<Representation id="a0" bandwidth="130000" codecs="mp4a.40.2" audioSamplingRate="48000">/);
    assert.match(
      mpd,
      /<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"\/>/,
    );
    assert.match(
      mpd,
      /initialization="\$RepresentationID\$\/init.mp4" media="\$RepresentationID\$\/seg-\$Number\$.m4s" startNumber="1"/,
    );
  });

  it('Packager manifests, a live MPD is dynamic with availability, publish time, update period, time shift and UTCTiming', () => {
    const mpd = writeMpd(live);
    assert.match(mpd, / type="dynamic"/);
    assert.match(mpd, / availabilityStartTime="2026-01-01T12:00:00.000Z"/);
    assert.match(mpd, / publishTime="2026-01-01T12:00:20.000Z"/);
    assert.match(mpd, / minimumUpdatePeriod="PT2.000S"/);
    assert.match(mpd, / timeShiftBufferDepth="PT10.000S"/);
    assert.match(mpd, / suggestedPresentationDelay="PT6.000S"/);
    assert.doesNotMatch(mpd, /mediaPresentationDuration/);
    assert.match(
      mpd,
      /<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2026-01-01T12:00:20.000Z"\/>\n<\/MPD>/,
    );
    assert.match(mpd, /startNumber="7"[^]*<S t="1080000" d="180000" r="2"\/>/);
    const ended = writeMpd({ ...live, ended: true });
    assert.match(ended, / mediaPresentationDuration="PT18.000S"/);
    assert.doesNotMatch(ended, /minimumUpdatePeriod/);
  });

  it('Packager manifests, the HLS master lists audio as EXT-X-MEDIA and each rendition with peak bandwidth and codecs', () => {
    assert.equal(
      writeMasterPlaylist(vod),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="a0",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a0/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=530000,AVERAGE-BANDWIDTH=428000,CODECS="avc1.64000d,mp4a.40.2",RESOLUTION=320x240,FRAME-RATE=30.000,AUDIO="audio"',
        'v0/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('Packager manifests, a VOD media playlist has TARGETDURATION, the init map, EXTINFs, PLAYLIST-TYPE:VOD and ENDLIST', () => {
    assert.equal(
      writeMediaPlaylist(vod, video),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:1',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MAP:URI="init.mp4"',
        '#EXTINF:2.00000,',
        'seg-1.m4s',
        '#EXTINF:2.00000,',
        'seg-2.m4s',
        '#EXTINF:2.00000,',
        'seg-3.m4s',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('Packager manifests, a live media playlist slides: MEDIA-SEQUENCE is the first listed number, PROGRAM-DATE-TIME per segment', () => {
    const playlist = writeMediaPlaylist(live, live.tracks[0]!);
    assert.match(playlist, /#EXT-X-MEDIA-SEQUENCE:7\n/);
    assert.doesNotMatch(playlist, /PLAYLIST-TYPE|ENDLIST/);
    assert.deepEqual(
      [...playlist.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(.+)/g)].map((m) => m[1]),
      ['2026-01-01T12:00:12.000Z', '2026-01-01T12:00:14.000Z', '2026-01-01T12:00:16.000Z'],
    );
    assert.deepEqual(
      [...playlist.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1])),
      [7, 8, 9],
    );
    assert.match(writeMediaPlaylist({ ...live, ended: true }, live.tracks[0]!), /#EXT-X-ENDLIST\n$/);
  });
});
