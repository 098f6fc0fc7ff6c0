import { assertOption } from '@framewire/core';
import { cliNumber } from '@framewire/core/node';
import { parseMotionMask, type MotionOptions } from './motion/motion-options.js';

/** The CLI's motion flags, as `parseArgs` gives them (strings; `--motion-mask` repeated). */
export interface MotionCliValues {
  motion?: boolean;
  'motion-fps'?: string;
  'motion-size'?: string;
  'motion-threshold'?: string;
  'motion-min-area'?: string;
  'motion-mask'?: string[];
  'motion-start-frames'?: string;
  'motion-end-seconds'?: string;
  'motion-webhook'?: string;
}

/** The `parseArgs` declarations of the motion flags. */
export const MOTION_CLI_OPTIONS = {
  motion: { type: 'boolean' },
  'motion-fps': { type: 'string' },
  'motion-size': { type: 'string' },
  'motion-threshold': { type: 'string' },
  'motion-min-area': { type: 'string' },
  'motion-mask': { type: 'string', multiple: true },
  'motion-start-frames': { type: 'string' },
  'motion-end-seconds': { type: 'string' },
  'motion-webhook': { type: 'string' },
} as const;

/** The `--help` lines of the motion flags. */
export const MOTION_USAGE = `  --motion             detect motion on every source: frame difference of a small gray copy (one ffmpeg decode and
                       scale per source, only while detection runs; an H.264 source's own H.264 is decoded); events
                       motion-start/motion-end at GET /events (Server-Sent Events), in /metrics
                       (framewire_motion_active, framewire_motion_events_total), /health, to --motion-webhook and to
                       MQTT <prefix>/<source id>/motion with --mqtt-url (docs/guides/motion-detection.md)
  --motion-fps <n>     gray frames compared per second (default 5)
  --motion-size <WxH>  size of the gray frames (default 160x90)
  --motion-threshold <n>   per-pixel gray-level difference that counts as a change, 1..255 (default 25)
  --motion-min-area <f>    fraction of the watched pixels that must change, (0, 1] (default 0.01)
  --motion-mask <x,y,w,h>  a rectangle to ignore, in fractions of the frame (e.g. 0,0,1,0.1 the top tenth); with
                       watch: in front (watch:0.5,0.5,0.5,0.5) only watched rectangles count; repeat for several
  --motion-start-frames <n>  changed frames in a row that start an event (default 2)
  --motion-end-seconds <s>   quiet seconds that end an event (default 5)
  --motion-webhook <url>     POST every event as JSON to this http(s) URL, with retries and backoff; a failure shows
                       as FW_ERR_WEBHOOK_FAILED in /health and never stops the stream`;

/**
 * The bridge's {@link MotionOptions} from the CLI flags, or `undefined` without `--motion`. Throws
 * `FW_ERR_INVALID_OPTION` naming the flag for malformed values, and for motion flags given without `--motion`.
 */
export function motionOptionsFromCli(values: MotionCliValues): MotionOptions | undefined {
  const given = (Object.keys(MOTION_CLI_OPTIONS) as (keyof MotionCliValues)[]).filter(
    (name) => name !== 'motion' && values[name] !== undefined,
  );
  if (values.motion !== true) {
    assertOption(given.length === 0, `--${given[0] ?? ''} needs --motion`);
    return undefined;
  }
  const flag = (name: keyof MotionCliValues, ok: (n: number) => boolean, range: string): number | undefined => {
    const value = cliNumber(values, name);
    assertOption(value === undefined || ok(value), `--${name} must be ${range}; got ${String(values[name])}`);
    return value;
  };
  const frameRate = flag('motion-fps', (n) => n >= 0.1 && n <= 30, 'in 0.1..30');
  const threshold = flag('motion-threshold', (n) => Number.isInteger(n) && n >= 1 && n <= 255, 'an integer in 1..255');
  const minArea = flag('motion-min-area', (n) => n > 0 && n <= 1, 'a fraction in (0, 1]');
  const startFrames = flag(
    'motion-start-frames',
    (n) => Number.isInteger(n) && n >= 1 && n <= 100,
    'an integer in 1..100',
  );
  const endSeconds = flag('motion-end-seconds', (n) => n >= 0 && n <= 3600, 'in 0..3600');
  let size: { width: number; height: number } | undefined;
  if (values['motion-size'] !== undefined) {
    const match = /^(\d+)x(\d+)$/.exec(values['motion-size']);
    const [width, height] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
    assertOption(
      width >= 16 && width <= 1920 && height >= 16 && height <= 1080,
      `--motion-size must look like 160x90 (16..1920 by 16..1080); got ${values['motion-size']}`,
    );
    size = { width, height };
  }
  const webhook = values['motion-webhook'];
  if (webhook !== undefined) {
    const url = URL.canParse(webhook) ? new URL(webhook) : undefined;
    assertOption(
      url && (url.protocol === 'http:' || url.protocol === 'https:'),
      `--motion-webhook must be an http:// or https:// URL; got ${webhook}`,
    );
  }
  return {
    ...(frameRate === undefined ? {} : { frameRate }),
    ...(size ?? {}),
    ...(threshold === undefined ? {} : { threshold }),
    ...(minArea === undefined ? {} : { minArea }),
    ...(values['motion-mask'] === undefined ? {} : { mask: values['motion-mask'].map(parseMotionMask) }),
    ...(startFrames === undefined ? {} : { startFrames }),
    ...(endSeconds === undefined ? {} : { endQuietMs: endSeconds * 1000 }),
    ...(webhook === undefined ? {} : { webhookUrl: webhook }),
  };
}
