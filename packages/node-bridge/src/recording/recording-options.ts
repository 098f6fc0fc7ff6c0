import { assertOption } from '@framewire/core';

/** When a recorder writes: all the time, or only while triggered (motion) with a pre-roll and a post-roll. */
export type RecordingMode = 'continuous' | 'triggered';

/** Options of the bridge's recording (`record` of `BridgeServer.start`, CLI `--record`). */
export interface RecordingOptions {
  /** The directory of the recordings; created when missing. Required. */
  dir: string;
  /** Length of each file, in minutes (fractions allowed); a file ends at the first keyframe after it. Default: 10. */
  segmentMinutes?: number;
  /** Delete finished recordings older than this, in hours. Default: keep them. */
  maxAgeHours?: number;
  /** Delete the oldest finished recordings while all of them exceed this many bytes. Default: no limit. */
  maxBytes?: number;
  /** The ids of the sources to record. Default: every source the bridge starts with. */
  sources?: string[];
  /**
   * `continuous` (default) writes all the time; `triggered` writes only around `BridgeRecorder.setTriggered(true)`
   * (the motion detector's events), starting with the pre-roll.
   */
  mode?: RecordingMode;
  /** Triggered mode: seconds kept before the trigger (from the keyframe before them). Default: 5. */
  preRollSeconds?: number;
  /** Triggered mode: seconds written after the trigger ends. Default: 5. */
  postRollSeconds?: number;
}

/** {@link RecordingOptions} with every default applied. */
export type ResolvedRecordingOptions = Required<Omit<RecordingOptions, 'maxAgeHours' | 'maxBytes' | 'sources'>> &
  Pick<RecordingOptions, 'maxAgeHours' | 'maxBytes' | 'sources'>;

/** The defaults of {@link RecordingOptions}. */
export const RECORDING_DEFAULTS = { segmentMinutes: 10, preRollSeconds: 5, postRollSeconds: 5 } as const;

const positive = (value: number | undefined): boolean =>
  value === undefined || (typeof value === 'number' && Number.isFinite(value) && value > 0);

/** Validates `options` (throws `FW_ERR_INVALID_OPTION` naming the option) and applies the defaults. */
export function resolveRecordingOptions(options: RecordingOptions): ResolvedRecordingOptions {
  assertOption(typeof options.dir === 'string' && options.dir !== '', 'record.dir must be a directory path');
  assertOption(positive(options.segmentMinutes), `record.segmentMinutes must be > 0; got ${options.segmentMinutes}`);
  assertOption(positive(options.maxAgeHours), `record.maxAgeHours must be > 0; got ${options.maxAgeHours}`);
  assertOption(positive(options.maxBytes), `record.maxBytes must be > 0; got ${options.maxBytes}`);
  const mode: unknown = options.mode;
  assertOption(
    mode === undefined || mode === 'continuous' || mode === 'triggered',
    `record.mode must be continuous or triggered; got ${String(mode)}`,
  );
  for (const name of ['preRollSeconds', 'postRollSeconds'] as const) {
    const value = options[name];
    assertOption(
      value === undefined || (Number.isFinite(value) && value >= 0),
      `record.${name} must be >= 0; got ${value}`,
    );
  }
  assertOption(
    options.sources === undefined || (Array.isArray(options.sources) && options.sources.length > 0),
    'record.sources must list at least one source id',
  );
  return {
    dir: options.dir,
    segmentMinutes: options.segmentMinutes ?? RECORDING_DEFAULTS.segmentMinutes,
    mode: options.mode ?? 'continuous',
    preRollSeconds: options.preRollSeconds ?? RECORDING_DEFAULTS.preRollSeconds,
    postRollSeconds: options.postRollSeconds ?? RECORDING_DEFAULTS.postRollSeconds,
    ...(options.maxAgeHours === undefined ? {} : { maxAgeHours: options.maxAgeHours }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.sources === undefined ? {} : { sources: options.sources }),
  };
}
