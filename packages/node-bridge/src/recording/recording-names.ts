/** File name suffix of every recording. */
export const RECORDING_EXTENSION = '.mp4';

// 20261207T220501123Z_cam1.mp4: the UTC start time first (names sort by time across sources), then the source id.
const NAME = /^(\d{8}T\d{9}Z)_([\w.-]{1,128})\.mp4$/;

/**
 * The file name of a recording of source `sourceId` that starts at `startMs` (ms since the Unix epoch):
 * `<UTC start, YYYYMMDDTHHMMSSmmmZ>_<source id>.mp4`, so that names sort by start time.
 */
export function recordingName(sourceId: string, startMs: number): string {
  const stamp = new Date(startMs).toISOString().replace(/[-:.]/g, '');
  return `${stamp}_${sourceId}${RECORDING_EXTENSION}`;
}

/**
 * The source id and start time of recording file name `name`; `undefined` for anything that is not such a name
 * (other files, paths, hidden files, `..`): the only names the recordings endpoint serves.
 */
export function parseRecordingName(name: string): { sourceId: string; startMs: number } | undefined {
  const match = NAME.exec(name);
  if (!match?.[1] || !match[2] || match[2].startsWith('.')) return undefined;
  const s = match[1];
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
  const startMs = Date.parse(iso);
  return Number.isNaN(startMs) ? undefined : { sourceId: match[2], startMs };
}
