import { assertOption } from '@framewire/core';
import { cliNumber } from '@framewire/core/node';
import type { RecordingOptions } from './recording-options.js';

/** The CLI flags of recording, in `node:util` `parseArgs` form. */
export const RECORD_CLI_OPTIONS = {
  record: { type: 'string' },
  'record-segment-minutes': { type: 'string' },
  'record-max-age-hours': { type: 'string' },
  'record-max-bytes': { type: 'string' },
  'record-source': { type: 'string', multiple: true },
  'record-on': { type: 'string' },
  'record-pre-roll': { type: 'string' },
  'record-post-roll': { type: 'string' },
} as const;

/** The `--help` lines of the recording flags. */
export const RECORD_USAGE = `  --record <dir>       record every source to fragmented MP4 files in <dir> (created when missing): the
                       source's H.264 as is (no encode when the source is H.264) and its Opus audio, one file per
                       segment starting on a keyframe, named <UTC start>_<source id>.mp4, listed in <dir>/index.json
                       and at GET /recordings (JSON), served at /recordings/<name> (byte ranges); a killed bridge
                       leaves every file readable up to its last fragment (about a second); write failures show as
                       FW_ERR_WRITE_FAILED in /health while the streams go on
  --record-segment-minutes <m>  length of each file in minutes, fractions allowed (default 10)
  --record-max-age-hours <h>    delete recordings older than this (default: keep)
  --record-max-bytes <n>        delete the oldest recordings while all of them exceed n bytes (default: no limit)
  --record-source <id> record only this source; repeat for several (default: every source)
  --record-on <always|motion>   always (default), or only around motion: a pre-roll (from the keyframe before it)
                       and a post-roll, driven by motion detection (--motion and its options; on with its
                       defaults when --motion is not given)
  --record-pre-roll <s>  seconds kept before a motion trigger (default 5)
  --record-post-roll <s> seconds recorded after the motion ends (default 5)`;

/** The values `parseArgs` gives for {@link RECORD_CLI_OPTIONS}. */
export type RecordCliValues = Partial<Record<keyof typeof RECORD_CLI_OPTIONS, string | boolean | string[]>>;

/** The `record` option of the bridge from the CLI flags; `undefined` without `--record`. Throws `FW_ERR_INVALID_OPTION`. */
export function recordOptionsFromCli(values: RecordCliValues): RecordingOptions | undefined {
  const dir = values.record;
  const flags = Object.keys(RECORD_CLI_OPTIONS).filter((k) => k !== 'record' && k in values && values[k as never]);
  assertOption(dir !== undefined || flags.length === 0, `--${flags[0] ?? ''} needs --record <dir>`);
  if (dir === undefined) return undefined;
  assertOption(typeof dir === 'string' && dir !== '', '--record needs a directory');
  const number = (name: keyof typeof RECORD_CLI_OPTIONS): number | undefined => cliNumber(values, name);

  const on = values['record-on'];
  assertOption(
    on === undefined || on === 'always' || on === 'motion',
    `--record-on must be always or motion; got ${String(on)}`,
  );
  const segmentMinutes = number('record-segment-minutes');
  const maxAgeHours = number('record-max-age-hours');
  const maxBytes = number('record-max-bytes');
  const preRollSeconds = number('record-pre-roll');
  const postRollSeconds = number('record-post-roll');
  const sources = values['record-source'];
  return {
    dir,
    ...(segmentMinutes === undefined ? {} : { segmentMinutes }),
    ...(maxAgeHours === undefined ? {} : { maxAgeHours }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(Array.isArray(sources) ? { sources } : {}),
    ...(on === 'motion' ? { mode: 'triggered' as const } : {}),
    ...(preRollSeconds === undefined ? {} : { preRollSeconds }),
    ...(postRollSeconds === undefined ? {} : { postRollSeconds }),
  };
}
