// The HLS playlist writers (packages/browser-sdk/src/outputs/packager/hls/hls-playlist-writer.ts): the master
// playlist's renditions and the media playlist for VOD, live and ended live presentations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../../packages/browser-sdk/src/outputs/packager/hls/hls-playlist-writer.js';
import type {
  PresentationDescription,
  TrackDescription,
} from '../../packages/browser-sdk/src/outputs/packager/package-model.js';
import { audioTrack as audio, presentation, segs, videoTrack as video } from './package-fixtures.js';

describe('writeMasterPlaylist', () => {
  const cases: { name: string; tracks: TrackDescription[]; lines: string[] }[] = [
    {
      name: 'video only',
      tracks: [video()],
      lines: [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,CODECS="avc1.64001f",RESOLUTION=1280x720,FRAME-RATE=30.000',
        'v0/index.m3u8',
      ],
    },
    {
      name: 'two renditions and audio: audio bandwidth added to each, codecs joined, AUDIO group named',
      tracks: [
        video(),
        video({
          id: 'v1',
          width: 640,
          height: 360,
          bandwidthBps: 700_000,
          averageBandwidthBps: 600_000,
          frameRate: 29.97,
        }),
        audio(),
      ],
      lines: [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="a0",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a0/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=2130000,AVERAGE-BANDWIDTH=1628000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="audio"',
        'v0/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=830000,AVERAGE-BANDWIDTH=728000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO="audio"',
        'v1/index.m3u8',
      ],
    },
    {
      name: 'no frame rate, audio without a channel count',
      tracks: [video({ frameRate: undefined }), audio({ channels: undefined })],
      lines: [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="a0",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES,URI="a0/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=2130000,AVERAGE-BANDWIDTH=1628000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,AUDIO="audio"',
        'v0/index.m3u8',
      ],
    },
  ];
  for (const { name, tracks, lines } of cases) {
    it(name, () => assert.equal(writeMasterPlaylist(presentation(tracks)), `${lines.join('\n')}\n`));
  }
});

describe('writeMediaPlaylist', () => {
  const head = (first: number, vod: boolean): string[] => [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-TARGETDURATION:2',
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    ...(vod ? ['#EXT-X-PLAYLIST-TYPE:VOD'] : []),
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MAP:URI="init.mp4"',
  ];
  const cases: { name: string; track: TrackDescription; over: Partial<PresentationDescription>; lines: string[] }[] = [
    {
      name: 'VOD: PLAYLIST-TYPE:VOD, EXTINF to 5 decimals, ENDLIST',
      track: video(),
      over: {},
      lines: [...head(1, true), '#EXTINF:2.00000,', 'seg-1.m4s', '#EXTINF:1.90000,', 'seg-2.m4s', '#EXT-X-ENDLIST'],
    },
    {
      name: 'live: MEDIA-SEQUENCE is the first listed segment, a PROGRAM-DATE-TIME per segment, no ENDLIST',
      track: video({
        segments: segs(31, [
          [5_400_000, 180_000],
          [5_580_000, 180_000],
        ]),
      }),
      over: { live: true, ended: false },
      lines: [
        ...head(31, false),
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:01:00.000Z',
        '#EXTINF:2.00000,',
        'seg-31.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:01:02.000Z',
        '#EXTINF:2.00000,',
        'seg-32.m4s',
      ],
    },
    {
      name: 'live, ended: the same window closed with ENDLIST',
      track: audio({ segments: segs(5, [[384_000, 1_000]]) }),
      over: { live: true, ended: true },
      lines: [
        ...head(5, false),
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:08.000Z',
        '#EXTINF:0.02083,',
        'seg-5.m4s',
        '#EXT-X-ENDLIST',
      ],
    },
    {
      name: 'live with no segment yet: sequence 1, nothing listed',
      track: video({ segments: [] }),
      over: { live: true, ended: false },
      lines: head(1, false),
    },
  ];
  for (const { name, track, over, lines } of cases) {
    it(name, () => assert.equal(writeMediaPlaylist(presentation([track], over), track), `${lines.join('\n')}\n`));
  }
});
