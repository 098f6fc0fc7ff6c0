import { trackEndS, type PresentationDescription, type TrackDescription } from '../package-model.js';

/** An ISO 8601 duration with millisecond precision, e.g. `PT6.000S`. */
export function isoDuration(seconds: number): string {
  return `PT${Math.max(0, seconds).toFixed(3)}S`;
}

const attrs = (values: Record<string, string | number | undefined>): string =>
  Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}="${String(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`)
    .join('');

/** `<S t d r>` runs: consecutive segments of equal duration with no gap collapse into one `S` with `r`. */
export function segmentTimeline(track: TrackDescription): string[] {
  const lines: string[] = [];
  let run: { t: number; d: number; r: number } | undefined;
  let expected: number | undefined;
  const flush = (): void => {
    if (run) lines.push(`<S${attrs({ t: run.t, d: run.d, r: run.r > 0 ? run.r : undefined })}/>`);
  };
  for (const segment of track.segments) {
    if (segment.durationTicks === run?.d && segment.startTicks === expected) {
      run.r++;
    } else {
      flush();
      run = { t: segment.startTicks, d: segment.durationTicks, r: 0 };
    }
    expected = segment.startTicks + segment.durationTicks;
  }
  flush();
  return lines;
}

function representation(track: TrackDescription): string[] {
  const first = track.segments[0]?.number ?? 1;
  const rep =
    track.type === 'video'
      ? {
          id: track.id,
          bandwidth: track.bandwidthBps,
          codecs: track.codec,
          width: track.width,
          height: track.height,
          frameRate: track.frameRate === undefined ? undefined : Number(track.frameRate.toFixed(3)),
          sar: '1:1',
        }
      : { id: track.id, bandwidth: track.bandwidthBps, codecs: track.codec, audioSamplingRate: track.sampleRate };
  const template = attrs({
    timescale: track.timescale,
    initialization: '$RepresentationID$/init.mp4',
    media: '$RepresentationID$/seg-$Number$.m4s',
    startNumber: first,
  });
  return [
    `<Representation${attrs(rep)}>`,
    ...(track.type === 'audio' && track.channels
      ? [
          `  <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${track.channels}"/>`,
        ]
      : []),
    `  <SegmentTemplate${template}>`,
    '    <SegmentTimeline>',
    ...segmentTimeline(track).map((s) => `      ${s}`),
    '    </SegmentTimeline>',
    '  </SegmentTemplate>',
    '</Representation>',
  ];
}

function adaptationSet(id: number, tracks: readonly TrackDescription[]): string[] {
  const video = tracks[0]?.type === 'video';
  const set = video
    ? {
        id,
        contentType: 'video',
        mimeType: 'video/mp4',
        segmentAlignment: 'true',
        startWithSAP: 1,
        maxWidth: Math.max(...tracks.map((t) => t.width ?? 0)),
        maxHeight: Math.max(...tracks.map((t) => t.height ?? 0)),
      }
    : { id, contentType: 'audio', mimeType: 'audio/mp4', segmentAlignment: 'true', startWithSAP: 1, lang: 'und' };
  return [
    `<AdaptationSet${attrs(set)}>`,
    ...tracks.flatMap((t) => representation(t).map((line) => `  ${line}`)),
    '</AdaptationSet>',
  ];
}

/**
 * A DASH MPD (ISO/IEC 23009-1, DASH-IF live profile) over the package's CMAF segments: one AdaptationSet for the
 * video renditions and one for the audio, each Representation with a `SegmentTemplate` (`$Number$`) and a
 * `SegmentTimeline`. VOD: `type="static"` with `mediaPresentationDuration`. Live: `type="dynamic"` with
 * `availabilityStartTime`, `publishTime`, `minimumUpdatePeriod`, `timeShiftBufferDepth`,
 * `suggestedPresentationDelay` and a `UTCTiming` (direct) element; an ended live presentation gets
 * `mediaPresentationDuration` and loses `minimumUpdatePeriod`.
 */
export function writeMpd(presentation: PresentationDescription): string {
  const video = presentation.tracks.filter((t) => t.type === 'video');
  const audio = presentation.tracks.filter((t) => t.type === 'audio');
  const durationS = Math.max(...presentation.tracks.map(trackEndS), 0);
  const seg = presentation.segmentDurationS;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const mpd = presentation.live
    ? {
        xmlns: 'urn:mpeg:dash:schema:mpd:2011',
        profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
        type: 'dynamic',
        availabilityStartTime: iso(presentation.availabilityStartTimeMs),
        publishTime: iso(presentation.publishTimeMs),
        mediaPresentationDuration: presentation.ended ? isoDuration(durationS) : undefined,
        minimumUpdatePeriod: presentation.ended ? undefined : isoDuration(seg),
        timeShiftBufferDepth: isoDuration(presentation.timeShiftBufferDepthS),
        suggestedPresentationDelay: isoDuration(seg * 3),
        minBufferTime: isoDuration(seg),
      }
    : {
        xmlns: 'urn:mpeg:dash:schema:mpd:2011',
        profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
        type: 'static',
        mediaPresentationDuration: isoDuration(durationS),
        minBufferTime: isoDuration(seg),
      };
  const sets = [video, audio].filter((tracks) => tracks.length > 0);
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<MPD${attrs(mpd)}>`,
    '  <Period id="0" start="PT0S">',
    ...sets.flatMap((tracks, i) => adaptationSet(i, tracks).map((line) => `    ${line}`)),
    '  </Period>',
    ...(presentation.live
      ? [`  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${iso(presentation.publishTimeMs)}"/>`]
      : []),
    '</MPD>',
  ];
  return `${lines.join('\n')}\n`;
}
