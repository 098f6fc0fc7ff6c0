import {
  mediaPlaylistPath,
  segmentSeconds,
  type PresentationDescription,
  type TrackDescription,
} from '../package-model.js';

const AUDIO_GROUP = 'audio';

/**
 * The HLS master playlist (RFC 8216): `EXT-X-INDEPENDENT-SEGMENTS`, the audio track as an `EXT-X-MEDIA` rendition
 * of group `audio`, and one `EXT-X-STREAM-INF` per video rendition with `BANDWIDTH` (peak, audio included),
 * `AVERAGE-BANDWIDTH`, `CODECS`, `RESOLUTION` and `FRAME-RATE`.
 */
export function writeMasterPlaylist(presentation: PresentationDescription): string {
  const audio = presentation.tracks.find((t) => t.type === 'audio');
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio) {
    const channels = audio.channels ? `,CHANNELS="${audio.channels}"` : '';
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="${audio.id}",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES${channels},URI="${mediaPlaylistPath(audio.id)}"`,
    );
  }
  for (const video of presentation.tracks.filter((t) => t.type === 'video')) {
    const codecs = audio ? `${video.codec},${audio.codec}` : video.codec;
    const attributes = [
      `BANDWIDTH=${video.bandwidthBps + (audio?.bandwidthBps ?? 0)}`,
      `AVERAGE-BANDWIDTH=${video.averageBandwidthBps + (audio?.averageBandwidthBps ?? 0)}`,
      `CODECS="${codecs}"`,
      `RESOLUTION=${video.width ?? 0}x${video.height ?? 0}`,
      ...(video.frameRate ? [`FRAME-RATE=${video.frameRate.toFixed(3)}`] : []),
      ...(audio ? [`AUDIO="${AUDIO_GROUP}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, mediaPlaylistPath(video.id));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * An HLS media playlist for one track over its CMAF segments (`EXT-X-MAP` to the init segment). VOD:
 * `EXT-X-PLAYLIST-TYPE:VOD` and `EXT-X-ENDLIST`. Live: the sliding window, `EXT-X-MEDIA-SEQUENCE` = the first
 * listed segment's number, an `EXT-X-PROGRAM-DATE-TIME` on every segment; `EXT-X-ENDLIST` once it has ended.
 */
export function writeMediaPlaylist(presentation: PresentationDescription, track: TrackDescription): string {
  const first = track.segments[0]?.number ?? 1;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${presentation.targetDurationS}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    ...(presentation.live ? [] : ['#EXT-X-PLAYLIST-TYPE:VOD']),
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MAP:URI="init.mp4"',
  ];
  for (const segment of track.segments) {
    if (presentation.live) {
      const atMs = presentation.availabilityStartTimeMs + (segment.startTicks / track.timescale) * 1000;
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(atMs).toISOString()}`);
    }
    lines.push(`#EXTINF:${segmentSeconds(track, segment).toFixed(5)},`, `seg-${segment.number}.m4s`);
  }
  if (!presentation.live || presentation.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
