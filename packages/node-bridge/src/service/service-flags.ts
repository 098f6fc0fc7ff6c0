import { isAbsolute, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FramewireError, assertOption } from '@framewire/core';

/** The bridge's option table, as `parseArgs` takes it (cli.ts passes its own). */
export type BridgeOptionTable = NonNullable<ParseArgsConfig['options']>;

/** The bridge flags of a service, split into its command line and its environment file. */
export interface ServiceFlags {
  /** The flags for `ExecStart=`, in the order given, secrets removed and relative paths made absolute. */
  readonly args: string[];
  /** Environment variables for the `EnvironmentFile=` (secrets and the bridge's `FRAMEWIRE_*` settings). */
  readonly environment: Record<string, string>;
  /** The absolute directories the bridge writes (`--record`), which the service must be allowed to write. */
  readonly writableDirs: string[];
}

/** Flags whose value is a secret: they go to the environment file under the variable the bridge reads instead. */
const SECRET_FLAGS: Readonly<Record<string, string>> = {
  token: 'FRAMEWIRE_TOKEN',
  'room-token': 'FRAMEWIRE_ROOM_TOKEN',
  'whip-push-token': 'FRAMEWIRE_WHIP_PUSH_TOKEN',
  'janus-secret': 'FRAMEWIRE_JANUS_SECRET',
};

/** The variables the bridge reads: copied from the installing shell, since a service does not inherit it. */
const BRIDGE_VARIABLES = [
  'FRAMEWIRE_TOKEN',
  'FRAMEWIRE_ROOM_TOKEN',
  'FRAMEWIRE_WHIP_PUSH_TOKEN',
  'FRAMEWIRE_JANUS_SECRET',
  'FRAMEWIRE_TURN_CREDENTIAL',
  'FRAMEWIRE_MQTT_PASSWORD',
  'FRAMEWIRE_BRIDGE_PORT',
  'FRAMEWIRE_BRIDGE_HOST',
  'FRAMEWIRE_LOG_LEVEL',
];

/** Flags naming a file or directory: made absolute, since the service runs in its state directory. */
const PATH_FLAGS = new Set(['config', 'static', 'record', 'tls-cert', 'tls-key']);
/** Flags naming an executable: made absolute only when relative with a slash (a bare name is looked up in PATH). */
const EXECUTABLE_FLAGS = new Set(['ffmpeg', 'camera-command']);
/** Flags naming a directory the bridge writes. */
const WRITABLE_FLAGS = new Set(['record']);

/**
 * Checks `bridgeArgs` against the bridge's own option table (so a typo fails now, not at every boot) and splits
 * them: secret flags (`--token`, `--room-token`, `--whip-push-token`, `--janus-secret`) and the bridge's
 * `FRAMEWIRE_*` variables of `env` go to the environment (a flag wins over the variable, as in the CLI); relative
 * paths of `--config`, `--static`, `--record`, `--tls-cert`, `--tls-key` (and of `--ffmpeg`, `--camera-command`
 * when they hold a slash) are resolved against `cwd`. Every other flag is kept as written.
 * Throws `FW_ERR_INVALID_OPTION` for an unknown flag, a missing value or a positional argument.
 */
export function serviceFlags(
  bridgeArgs: readonly string[],
  table: BridgeOptionTable,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ServiceFlags {
  let tokens;
  try {
    tokens = parseArgs({ args: [...bridgeArgs], options: table, strict: true, tokens: true }).tokens;
  } catch (error) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `bridge flags of the service: ${(error as Error).message}`);
  }
  const environment: Record<string, string> = {};
  for (const name of BRIDGE_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') environment[name] = value;
  }
  const args: string[] = [];
  const writableDirs: string[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option') continue; // parseArgs refused positionals already; '--' adds nothing.
    const secret = SECRET_FLAGS[token.name];
    if (secret !== undefined && token.value !== undefined) {
      environment[secret] = token.value;
      continue;
    }
    if (token.value === undefined) {
      args.push(token.rawName);
      continue;
    }
    const absolute =
      PATH_FLAGS.has(token.name) || (EXECUTABLE_FLAGS.has(token.name) && token.value.includes('/'))
        ? isAbsolute(token.value)
          ? token.value
          : resolve(cwd, token.value)
        : token.value;
    if (WRITABLE_FLAGS.has(token.name)) writableDirs.push(absolute);
    if (token.inlineValue) args.push(`${token.rawName}=${absolute}`);
    else args.push(token.rawName, absolute);
  }
  return { args, environment, writableDirs };
}

/**
 * Throws `FW_ERR_INVALID_OPTION` when `path` lies in a home directory: the service's sandbox (`ProtectHome=yes`)
 * hides those, and its user could not read them anyway (an npx cache, nvm's Node, a checkout in /home/pi).
 */
export function assertOutsideHome(path: string, what: string): void {
  assertOption(
    !/^\/(home|root|run\/user)(\/|$)/.test(path),
    `${what} is ${path}, in a home directory, which the service cannot read: install Node and the bridge ` +
      `system-wide (apt's nodejs; sudo npm install --global @framewire/node-bridge) and run that one`,
  );
}
