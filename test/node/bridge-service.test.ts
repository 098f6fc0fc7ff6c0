// `framewire-bridge service install|uninstall` (packages/node-bridge/src/service/): the units it writes pass the
// real `systemd-analyze verify`, their ExecStart= gives the bridge exactly the flags it was installed with, secrets
// sit in a 0600 environment file, and uninstall removes what install wrote. There is no running systemd here:
// systemctl and useradd are stand-in executables that record how they were called.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readFile, realpath, stat, writeFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/node.js';
import { splitSystemdCommandLine } from '../helpers/systemd-command-line.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args` with exactly `env` (plus PATH); the timeout only bounds a hang. */
async function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: 60_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Writes a stand-in executable that appends its name and arguments (one JSON array a line) to `log`. */
async function standIn(path: string, log: string, exitCode = 0): Promise<void> {
  await writeFile(
    path,
    `#!${process.execPath}\n` +
      `require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify([require('node:path').basename(process.argv[1]), ...process.argv.slice(2)]) + '\\n');\n` +
      `process.exit(${exitCode});\n`,
  );
  await chmod(path, 0o755);
}

async function calls(log: string): Promise<string[][]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as string[]);
}

/** The value of the one `key=` line of a unit. */
function setting(unit: string, key: string): string {
  const lines = unit.split('\n').filter((line) => line.startsWith(`${key}=`));
  assert.equal(lines.length, 1, `one ${key}= line in\n${unit}`);
  return lines[0]!.slice(key.length + 1);
}

/** systemd-analyze verify of a unit file: exit status and everything it said. */
async function verify(unitPath: string): Promise<Run> {
  return run(SYSTEMD_ANALYZE, ['verify', '--man=no', unitPath]);
}

/** Flags that systemd would mangle unquoted, kept as written (absolute paths, no secrets). */
const AWKWARD_FLAGS = [
  '--source',
  'file:/srv/my videos/garden "west" 50%.mp4#id=garden',
  '--source=v4l2:/dev/video0#id=desk',
  '--static',
  '/srv/web site/$out\\dir',
  '--size',
  '640x480',
];

const USERADD_CALL = [
  'useradd',
  '--system',
  '--user-group',
  '--no-create-home',
  '--home-dir',
  '/var/lib/framewire-bridge',
  '--shell',
  '/usr/sbin/nologin',
  '--groups',
  'video,audio',
  'framewire',
];

describe('framewire-bridge service', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let node: string;
  let bin: string;

  before(async () => {
    dir = await tempDir();
    node = await realpath(process.execPath);
    bin = await realpath(BRIDGE);
  });
  after(async () => dir.remove());

  /** A fresh unit folder, env file path, call log and stand-ins (systemctl exits `systemctlExit`). */
  async function setup(name: string, options: { systemctlExit?: number; useraddExit?: number } = {}) {
    const base = join(dir.path, name);
    const units = join(base, 'units');
    const envFile = join(base, 'etc', 'framewire-bridge.env');
    const log = join(base, 'calls.log');
    await run('/bin/mkdir', ['-p', base]);
    await standIn(join(base, 'systemctl'), log, options.systemctlExit ?? 0);
    await standIn(join(base, 'useradd'), log, options.useraddExit ?? 0);
    const serviceArgs = [
      '--unit-dir',
      units,
      '--environment-file',
      envFile,
      '--systemctl',
      join(base, 'systemctl'),
      '--useradd',
      join(base, 'useradd'),
    ];
    return { base, units, unitPath: join(units, 'framewire-bridge.service'), envFile, log, serviceArgs };
  }

  const FLAG_SETS: {
    name: string;
    flags: string[];
    env?: Record<string, string>;
    execFlags: string[];
    environment?: Record<string, string>;
  }[] = [
    {
      name: 'plain flags, no secrets',
      flags: ['--source', 'testpattern', '--port', '8090', '--host', '0.0.0.0', '--webrtc'],
      execFlags: ['--source', 'testpattern', '--port', '8090', '--host', '0.0.0.0', '--webrtc'],
    },
    {
      name: 'tokens, kept off the command line',
      flags: ['--token', 'bridge "secret" $HOME 100%', '--webrtc', '--room-token=room`jwt`', '--mjpeg'],
      env: { FRAMEWIRE_MQTT_PASSWORD: "mq'tt\\pass", FRAMEWIRE_TOKEN: 'loses-to-the-flag' },
      execFlags: ['--webrtc', '--mjpeg'],
      environment: {
        FRAMEWIRE_TOKEN: 'bridge "secret" $HOME 100%',
        FRAMEWIRE_ROOM_TOKEN: 'room`jwt`',
        FRAMEWIRE_MQTT_PASSWORD: "mq'tt\\pass",
      },
    },
    {
      name: 'spaces, quotes, %, $ and backslashes in paths and specs',
      flags: AWKWARD_FLAGS,
      execFlags: AWKWARD_FLAGS,
    },
  ];

  for (const set of FLAG_SETS) {
    it(`install with ${set.name}: systemd-analyze verify passes and ExecStart round-trips the flags`, async () => {
      const s = await setup(set.name.replace(/\W+/g, '-'));
      const result = await run(node, [BRIDGE, 'service', 'install', ...s.serviceArgs, ...set.flags], set.env);
      assert.equal(result.code, 0, result.stderr);
      const unit = await readFile(s.unitPath, 'utf8');

      const verified = await verify(s.unitPath);
      assert.equal(verified.code, 0, `${verified.stderr}\n${unit}`);
      assert.equal(verified.stderr + verified.stdout, '', 'systemd-analyze verify has nothing to say');

      assert.deepEqual(splitSystemdCommandLine(setting(unit, 'ExecStart')), [node, bin, ...set.execFlags]);
      for (const [key, value] of [
        ['User', 'framewire'],
        ['SupplementaryGroups', 'video audio'],
        ['Restart', 'on-failure'],
        ['RestartSec', '5'],
        ['StandardOutput', 'journal'],
        ['StandardError', 'journal'],
        ['SyslogIdentifier', 'framewire-bridge'],
        ['StateDirectory', 'framewire-bridge'],
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['NoNewPrivileges', 'yes'],
        ['DevicePolicy', 'closed'],
      ]) {
        assert.equal(setting(unit, key!), value, key);
      }
      const devices = unit.split('\n').filter((line) => line.startsWith('DeviceAllow='));
      assert.deepEqual(devices, [
        'DeviceAllow=char-video4linux rw',
        'DeviceAllow=char-media rw',
        'DeviceAllow=char-dma_heap rw',
        'DeviceAllow=char-alsa rw',
      ]);
      assert.doesNotMatch(unit, /PrivateDevices|MemoryDenyWriteExecute/, 'nothing that hides the camera or breaks V8');

      if (set.environment === undefined) {
        assert.doesNotMatch(unit, /EnvironmentFile=/);
        await assert.rejects(stat(s.envFile), { code: 'ENOENT' });
      } else {
        assert.equal(setting(unit, 'EnvironmentFile'), s.envFile);
        assert.equal((await stat(s.envFile)).mode & 0o777, 0o600);
        for (const secret of Object.values(set.environment)) {
          assert.ok(!unit.includes(secret), `${secret} is not in the unit`);
        }
        // Read back by a shell, independently of the code that wrote it.
        const names = Object.keys(set.environment);
        const shell = await run('/bin/sh', [
          '-c',
          `set -a; . "$0"; for n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`,
          s.envFile,
        ]);
        assert.equal(shell.code, 0, shell.stderr);
        assert.deepEqual(shell.stdout.split('\0').slice(0, -1), Object.values(set.environment));
      }

      assert.deepEqual(await calls(s.log), [
        USERADD_CALL,
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'enable', 'framewire-bridge.service'],
        ['systemctl', 'restart', 'framewire-bridge.service'],
      ]);
    });
  }

  it('systemd-analyze verify refuses a unit whose ExecStart quoting is broken (the check can fail)', async () => {
    const s = await setup('broken');
    const result = await run(node, [BRIDGE, 'service', 'install', ...s.serviceArgs, '--source', 'file:/a b.mp4']);
    assert.equal(result.code, 0, result.stderr);
    const unit = await readFile(s.unitPath, 'utf8');
    await writeFile(s.unitPath, unit.replace('"file:/a b.mp4"', '"file:/a b.mp4'));
    const verified = await verify(s.unitPath);
    assert.notEqual(verified.code, 0);
    assert.match(verified.stderr, /Unbalanced quoting/);
  });

  it('resolves relative paths against the current folder, since the service runs in /var/lib/framewire-bridge', async () => {
    const s = await setup('relative');
    const config = join(s.base, 'bridge.json');
    await writeFile(config, JSON.stringify({ source: ['testpattern'] }));
    const script = await realpath(BRIDGE);
    const result = await new Promise<Run>((resolve) => {
      execFile(
        node,
        [script, 'service', 'install', '--no-start', ...s.serviceArgs, '--config', 'bridge.json'],
        { cwd: s.base, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : 1, stdout, stderr }),
      );
    });
    assert.equal(result.code, 0, result.stderr);
    const unit = await readFile(s.unitPath, 'utf8');
    assert.deepEqual(splitSystemdCommandLine(setting(unit, 'ExecStart')), [node, bin, '--config', config]);
    assert.equal(setting(unit, 'WorkingDirectory'), '/var/lib/framewire-bridge');
    assert.deepEqual(await calls(s.log), [USERADD_CALL, ['systemctl', 'daemon-reload']], '--no-start: no enable');
    assert.match(result.stdout, /start it with: systemctl enable --now framewire-bridge\.service/);
  });

  it('an existing user (useradd exits 9) is fine; uninstall stops, disables and removes what install wrote', async () => {
    const s = await setup('uninstall', { useraddExit: 9 });
    const installed = await run(node, [BRIDGE, 'service', 'install', ...s.serviceArgs, '--token', 'tok']);
    assert.equal(installed.code, 0, installed.stderr);
    assert.deepEqual((await readdir(s.units)).sort(), ['framewire-bridge.service']);
    await stat(s.envFile);

    const removed = await run(node, [BRIDGE, 'service', 'uninstall', ...s.serviceArgs]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await readdir(s.units), []);
    await assert.rejects(stat(s.envFile), { code: 'ENOENT' });
    await assert.rejects(stat(join(s.base, 'etc')), { code: 'ENOENT' }, 'the emptied env folder goes too');
    assert.deepEqual((await calls(s.log)).slice(4), [
      ['systemctl', 'disable', '--now', 'framewire-bridge.service'],
      ['systemctl', 'daemon-reload'],
    ]);

    const again = await run(node, [BRIDGE, 'service', 'uninstall', ...s.serviceArgs]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /is not installed/);
    assert.equal((await calls(s.log)).length, 6, 'nothing to uninstall: no systemctl call');
  });

  it('--dry-run prints the unit and the commands, writes nothing and runs nothing', async () => {
    const s = await setup('dry-run');
    const result = await run(node, [
      BRIDGE,
      'service',
      'install',
      '--dry-run',
      ...s.serviceArgs,
      '--token',
      'dry-secret',
      '--webrtc',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /# would run: \S+useradd --system/);
    assert.match(result.stdout, /# would write \S+framewire-bridge\.env \(mode 0600\): FRAMEWIRE_TOKEN\n/);
    assert.match(result.stdout, /\nExecStart=\S+ \S+framewire-bridge\.js --webrtc\n/);
    assert.match(
      result.stdout,
      /# would run: \S+systemctl enable framewire-bridge\.service\n# would run: \S+systemctl restart framewire-bridge\.service/,
    );
    assert.doesNotMatch(result.stdout, /dry-secret/, 'a dry run does not print secrets');
    await assert.rejects(stat(s.units), { code: 'ENOENT' });
    assert.deepEqual(await calls(s.log), []);
  });

  it('not root and no --unit-dir: FW_ERR_NEEDS_ROOT, exit 1, nothing written or run', async () => {
    const s = await setup('not-root');
    // setpriv drops to nobody (uid 65534); the tests themselves run as root here. nobody must reach the checkout: a
    // fresh clone in a mktemp folder sits below a mode-0700 folder, which gets search permission for others (only
    // that bit, restored after the test).
    const opened: { path: string; mode: number }[] = [];
    for (let dir = process.cwd(); ; dir = dirname(dir)) {
      const { mode } = await stat(dir);
      if ((mode & 0o001) === 0) {
        opened.push({ path: dir, mode });
        await chmod(dir, mode | 0o001);
      }
      if (dir === dirname(dir)) break;
    }
    try {
      for (const action of ['install', 'uninstall']) {
        const result = await run('/usr/bin/setpriv', [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          node,
          BRIDGE,
          'service',
          action,
          '--systemctl',
          join(s.base, 'systemctl'),
          '--useradd',
          join(s.base, 'useradd'),
          ...(action === 'install' ? ['--webrtc'] : []),
        ]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, new RegExp(`^framewire-bridge: FW_ERR_NEEDS_ROOT: service ${action} .*sudo`));
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      for (const { path, mode } of opened) await chmod(path, mode);
    }
    assert.deepEqual(await calls(s.log), []);
  });

  it('bad bridge flags or service options exit 2 with FW_ERR_INVALID_OPTION before anything is done', async () => {
    const s = await setup('bad-flags');
    for (const args of [
      ['install', ...s.serviceArgs, '--no-such-flag'],
      ['install', ...s.serviceArgs, '--port'],
      ['install', ...s.serviceArgs, 'picamera'],
      ['uninstall', ...s.serviceArgs, '--webrtc'],
      ['reinstall'],
      ['install', '--unit-dir'],
    ]) {
      const result = await run(node, [BRIDGE, 'service', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^framewire-bridge: FW_ERR_INVALID_OPTION: /);
    }
    await assert.rejects(stat(s.units), { code: 'ENOENT' });
    assert.deepEqual(await calls(s.log), []);
  });

  it('a failing systemctl exits 1 with FW_ERR_PROCESS_FAILED and its message', async () => {
    const s = await setup('systemctl-fails', { systemctlExit: 1 });
    const result = await run(node, [BRIDGE, 'service', 'install', ...s.serviceArgs]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^framewire-bridge: FW_ERR_PROCESS_FAILED: \S+systemctl daemon-reload failed/);
  });

  it('service --help prints its usage and exits 0; the bridge --help names the subcommand', async () => {
    const help = await run(node, [BRIDGE, 'service', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: framewire-bridge service install/);
    const bridgeHelp = await run(node, [BRIDGE, '--help']);
    assert.match(bridgeHelp.stdout, /framewire-bridge service install/);
  });
});
