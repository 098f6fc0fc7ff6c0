import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FramewireError, assertOption } from '@framewire/core';
import type { ServiceFlags } from './service-flags.js';
import { renderServiceUnit } from './service-unit.js';
import { environmentFileLine } from './systemd-quote.js';

/** Options of {@link ServiceInstaller}. */
export interface ServiceInstallerOptions {
  /** Folder of the unit file. Default: /etc/systemd/system (which needs root). */
  readonly unitDir?: string | undefined;
  /** The environment file for secrets (mode 0600). Default: /etc/framewire-bridge/framewire-bridge.env. */
  readonly environmentFile?: string | undefined;
  /** The systemctl executable. Default: systemctl (from PATH). */
  readonly systemctl?: string | undefined;
  /** The useradd executable. Default: useradd (from PATH). */
  readonly useradd?: string | undefined;
  /** Print the unit, the environment file's variable names and the commands instead of doing them. Default: false. */
  readonly dryRun?: boolean | undefined;
  /** Enable and (re)start the service after installing it (`systemctl enable`, `systemctl restart`). Default: true. */
  readonly start?: boolean | undefined;
  /** Where progress lines go. Default: standard output. */
  readonly print?: ((line: string) => void) | undefined;
  /** Whether the process runs as root. Default: `process.getuid() === 0`. */
  readonly isRoot?: boolean | undefined;
}

/** The service's name: the unit is `<SERVICE_NAME>.service`, its state directory /var/lib/<SERVICE_NAME>. */
export const SERVICE_NAME = 'framewire-bridge';
/** The system user the service runs as. */
export const SERVICE_USER = 'framewire';
/** useradd's exit status when the user already exists. */
const USERADD_EXISTS = 9;

/**
 * Installs and removes the bridge's systemd service: the system user, the unit, the environment file of secrets,
 * and the systemctl calls around them. Writing to the default /etc paths needs root: without it (and without
 * `unitDir` or `dryRun`) both methods throw `FW_ERR_NEEDS_ROOT`.
 */
export class ServiceInstaller {
  readonly #unitDir: string;
  readonly #environmentFile: string;
  readonly #systemctl: string;
  readonly #useradd: string;
  readonly #dryRun: boolean;
  readonly #start: boolean;
  readonly #print: (line: string) => void;
  readonly #needsRoot: boolean;

  /** Validates the options; throws `FW_ERR_INVALID_OPTION` for a relative path. */
  constructor(options: ServiceInstallerOptions = {}) {
    this.#unitDir = options.unitDir ?? '/etc/systemd/system';
    this.#environmentFile = options.environmentFile ?? `/etc/${SERVICE_NAME}/${SERVICE_NAME}.env`;
    assertOption(this.#unitDir.startsWith('/'), `--unit-dir must be an absolute path; got ${this.#unitDir}`);
    assertOption(
      /^\/[^\s"'\\]*$/.test(this.#environmentFile),
      `--environment-file must be an absolute path without spaces, quotes or backslashes; got ${this.#environmentFile}`,
    );
    this.#systemctl = options.systemctl ?? 'systemctl';
    this.#useradd = options.useradd ?? 'useradd';
    this.#dryRun = options.dryRun ?? false;
    this.#start = options.start ?? true;
    this.#print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
    const isRoot = options.isRoot ?? process.getuid?.() === 0;
    this.#needsRoot = !isRoot && !this.#dryRun && options.unitDir === undefined;
  }

  /** The unit file's path. */
  get unitPath(): string {
    return join(this.#unitDir, `${SERVICE_NAME}.service`);
  }

  /**
   * Creates the system user (in groups video and audio) unless it exists, writes the environment file (mode 0600,
   * only when `flags` has variables) and the unit running `[node, binScript, ...flags.args]`, reloads systemd and,
   * unless `start` is false, enables and (re)starts the service, so that installing again applies new flags.
   */
  async install(node: string, binScript: string, flags: ServiceFlags): Promise<void> {
    this.#assertRoot('install');
    const hasEnvironment = Object.keys(flags.environment).length > 0;
    const unit = renderServiceUnit({
      command: [node, binScript, ...flags.args],
      user: SERVICE_USER,
      stateDirectory: SERVICE_NAME,
      environmentFile: hasEnvironment ? this.#environmentFile : undefined,
      writableDirs: flags.writableDirs,
    });
    await this.#run(
      this.#useradd,
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        `/var/lib/${SERVICE_NAME}`,
        '--shell',
        '/usr/sbin/nologin',
        '--groups',
        'video,audio',
        SERVICE_USER,
      ],
      [USERADD_EXISTS],
    );
    if (hasEnvironment) {
      const text = Object.entries(flags.environment)
        .map(([name, value]) => environmentFileLine(name, value))
        .join('\n');
      if (this.#dryRun) {
        this.#print(`# would write ${this.#environmentFile} (mode 0600): ${Object.keys(flags.environment).join(', ')}`);
      } else {
        await mkdir(dirname(this.#environmentFile), { recursive: true, mode: 0o755 });
        await writeFile(this.#environmentFile, `${text}\n`, { mode: 0o600 });
        await chmod(this.#environmentFile, 0o600); // an existing file keeps its old mode otherwise
        this.#print(`wrote ${this.#environmentFile} (mode 0600)`);
      }
    }
    if (this.#dryRun) {
      this.#print(`# would write ${this.unitPath}:`);
      this.#print(unit);
    } else {
      await mkdir(this.#unitDir, { recursive: true });
      await writeFile(this.unitPath, unit, { mode: 0o644 });
      this.#print(`wrote ${this.unitPath}`);
    }
    await this.#run(this.#systemctl, ['daemon-reload']);
    if (this.#start) {
      // enable --now would leave a running service on its old flags: restart starts it or applies the new unit.
      await this.#run(this.#systemctl, ['enable', `${SERVICE_NAME}.service`]);
      await this.#run(this.#systemctl, ['restart', `${SERVICE_NAME}.service`]);
    } else {
      this.#print(`start it with: systemctl enable --now ${SERVICE_NAME}.service`);
    }
    this.#print(`logs: journalctl -u ${SERVICE_NAME} -f`);
  }

  /**
   * Stops and disables the service, removes the unit and the environment file it names (and that file's folder when
   * empty), and reloads systemd. The system user and /var/lib/<name> (recordings) stay. Does nothing when no unit is
   * installed.
   */
  async uninstall(): Promise<void> {
    this.#assertRoot('uninstall');
    let unit: string;
    try {
      unit = await readFile(this.unitPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#print(`${SERVICE_NAME}.service is not installed (no ${this.unitPath})`);
      return;
    }
    const environmentFile = /^EnvironmentFile=-?(.+)$/m.exec(unit)?.[1]?.replaceAll('%%', '%');
    await this.#run(this.#systemctl, ['disable', '--now', `${SERVICE_NAME}.service`]);
    await this.#remove(this.unitPath);
    if (environmentFile !== undefined) {
      await this.#remove(environmentFile);
      if (!this.#dryRun) {
        // The folder goes only if nothing else is in it.
        await rmdir(dirname(environmentFile)).catch(() => undefined);
      }
    }
    await this.#run(this.#systemctl, ['daemon-reload']);
    this.#print(`the user ${SERVICE_USER} and /var/lib/${SERVICE_NAME} (recordings) were kept`);
  }

  #assertRoot(action: string): void {
    if (this.#needsRoot) {
      throw new FramewireError(
        'FW_ERR_NEEDS_ROOT',
        `service ${action} writes to /etc and calls systemctl: run it as root (sudo framewire-bridge service ${action} …)`,
      );
    }
  }

  async #remove(path: string): Promise<void> {
    if (this.#dryRun) {
      this.#print(`# would remove ${path}`);
      return;
    }
    await rm(path, { force: true });
    this.#print(`removed ${path}`);
  }

  /** Runs a command (prints it instead with `dryRun`); exit statuses in `accepted` count as success too. */
  async #run(file: string, args: readonly string[], accepted: readonly number[] = []): Promise<void> {
    const line = [file, ...args].map(shellWord).join(' ');
    if (this.#dryRun) {
      this.#print(`# would run: ${line}`);
      return;
    }
    this.#print(`running: ${line}`);
    await new Promise<void>((resolve, reject) => {
      execFile(file, [...args], (error, _stdout, stderr) => {
        const status = typeof error?.code === 'number' ? error.code : undefined;
        if (error === null || (status !== undefined && accepted.includes(status))) resolve();
        else
          reject(
            new FramewireError('FW_ERR_PROCESS_FAILED', `${line} failed: ${stderr.trim() || error.message}`, {
              cause: error,
            }),
          );
      });
    });
  }
}

/** `word` as a POSIX shell reads it back: as is when plain, else single-quoted (for printed commands). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
