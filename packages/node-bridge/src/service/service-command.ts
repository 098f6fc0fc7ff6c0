import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertOption } from '@framewire/core';
import { runCli, type Stoppable } from '@framewire/core/node';
import { assertOutsideHome, serviceFlags, type BridgeOptionTable } from './service-flags.js';
import { SERVICE_NAME, ServiceInstaller, type ServiceInstallerOptions } from './service-installer.js';

/** What the one-shot service command hands to runCli: nothing to stop. */
const DONE: Stoppable = { close: () => Promise.resolve() };

const USAGE = `Usage: framewire-bridge service install [service options] [bridge options]
       framewire-bridge service uninstall [service options]

install writes the systemd unit ${SERVICE_NAME}.service that runs the bridge with the bridge options given here
(checked now), as the system user framewire (created with useradd unless it exists; groups video and audio),
restarting on failure, logging to the journal (journalctl -u ${SERVICE_NAME}), with /var/lib/${SERVICE_NAME} as
its writable state directory (recordings) and a sandbox that keeps camera and sound devices. Secrets
(--token, --room-token, --whip-push-token, --janus-secret, and the FRAMEWIRE_* variables of this shell) go to an
environment file of mode 0600, not on the command line. Then: systemctl daemon-reload, enable and restart
(installing again applies new options).
uninstall stops and disables the service and removes the unit and the environment file; the user and
/var/lib/${SERVICE_NAME} stay. Both need root (sudo) unless --dry-run or --unit-dir is given.

Service options:
  --dry-run            print the unit and the commands instead of doing them
  --no-start           install and reload systemd, but do not enable or start the service
  --unit-dir <dir>     folder of the unit file (default /etc/systemd/system)
  --environment-file <path>    the environment file of secrets (default /etc/${SERVICE_NAME}/${SERVICE_NAME}.env)
  --systemctl <path>   the systemctl executable (default systemctl)
  --useradd <path>     the useradd executable (default useradd)
  --help               print this help
  --                   everything after it is a bridge option`;

const VALUE_FLAGS = ['unit-dir', 'environment-file', 'systemctl', 'useradd'] as const;
const BOOLEAN_FLAGS = ['dry-run', 'no-start', 'help'] as const;

interface ServiceArgs {
  readonly action: string | undefined;
  readonly values: Partial<Record<(typeof VALUE_FLAGS)[number], string>>;
  readonly switches: ReadonlySet<string>;
  readonly bridgeArgs: string[];
}

/** Takes the service's own options out of `args`; the rest (and all after `--`) are bridge options. */
function splitArgs(args: readonly string[]): ServiceArgs {
  const [action, ...rest] = args;
  const values: Partial<Record<(typeof VALUE_FLAGS)[number], string>> = {};
  const switches = new Set<string>();
  const bridgeArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (arg === '--') {
      bridgeArgs.push(...rest.slice(i + 1));
      break;
    }
    const [, name = '', inline] = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg) ?? [];
    if ((BOOLEAN_FLAGS as readonly string[]).includes(name) && inline === undefined) {
      switches.add(name);
    } else if ((VALUE_FLAGS as readonly string[]).includes(name)) {
      const value = inline ?? rest[++i];
      assertOption(value !== undefined && value !== '', `--${name} needs a value`);
      values[name as (typeof VALUE_FLAGS)[number]] = value;
    } else {
      bridgeArgs.push(arg);
    }
  }
  return { action: action === '--help' ? 'help' : action, values, switches, bridgeArgs };
}

/**
 * Runs `framewire-bridge service …` (`args` are the words after `service`): install or uninstall the systemd unit,
 * with `bridgeOptions` (the bridge CLI's option table) to check the bridge flags. Exits the process when done; a
 * {@link FramewireError} is printed as `framewire-bridge: CODE: message` with exit status 2 (bad option) or 1.
 */
export async function runServiceCommand(args: readonly string[], bridgeOptions: BridgeOptionTable): Promise<void> {
  await runCli('framewire-bridge', async () => {
    const parsed = splitArgs(args);
    if (parsed.action === 'help' || parsed.switches.has('help')) {
      process.stdout.write(`${USAGE}\n`);
      return DONE;
    }
    assertOption(
      parsed.action === 'install' || parsed.action === 'uninstall',
      `framewire-bridge service needs install or uninstall; got ${parsed.action ?? 'nothing'}\n\n${USAGE}`,
    );
    const options: ServiceInstallerOptions = {
      unitDir: parsed.values['unit-dir'] === undefined ? undefined : resolve(parsed.values['unit-dir']),
      environmentFile:
        parsed.values['environment-file'] === undefined ? undefined : resolve(parsed.values['environment-file']),
      systemctl: parsed.values.systemctl,
      useradd: parsed.values.useradd,
      dryRun: parsed.switches.has('dry-run'),
      start: !parsed.switches.has('no-start'),
    };
    const installer = new ServiceInstaller(options);
    if (parsed.action === 'uninstall') {
      assertOption(
        parsed.bridgeArgs.length === 0,
        `service uninstall takes no bridge options; got ${parsed.bridgeArgs.join(' ')}`,
      );
      await installer.uninstall();
    } else {
      const flags = serviceFlags(parsed.bridgeArgs, bridgeOptions, process.env, process.cwd());
      const node = realpathSync(process.execPath);
      const binScript = realpathSync(process.argv[1] ?? '');
      assertOutsideHome(node, 'Node');
      assertOutsideHome(binScript, 'the bridge');
      await installer.install(node, binScript, flags);
    }
    return DONE;
  });
  process.exit(0);
}
