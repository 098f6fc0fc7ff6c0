import { parseArgs } from 'node:util';
import { FramewireError } from '@framewire/core';
import { applyCliLogLevel, runCli } from '@framewire/core/node';
import { SignalingServer } from './signaling-server.js';
import { VERSION } from './version.js';

const USAGE = `Usage: framewire-signaling [options]

Introduces framewire peers. Endpoints: /health.

Options:
  --host <address>     interface to bind (default 127.0.0.1)
  --port <number>      TCP port, 0 for any free port (default 8443)
  --log-level <level>  debug, info, warn, error or silent (default info)
  --version            print the version
  --help               print this help

Environment: FRAMEWIRE_SIGNALING_PORT, FRAMEWIRE_SIGNALING_HOST and FRAMEWIRE_LOG_LEVEL set defaults.`;

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  'log-level': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

await runCli('framewire-signaling', async () => {
  let values;
  try {
    values = parseArgs({ options, strict: true }).values;
  } catch (error) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help || values.version) {
    process.stdout.write(`${values.help ? USAGE : VERSION}\n`);
    process.exit(0);
  }
  applyCliLogLevel(values['log-level']);
  const port = Number(values.port ?? process.env['FRAMEWIRE_SIGNALING_PORT'] ?? 8443);
  const host = values.host ?? process.env['FRAMEWIRE_SIGNALING_HOST'] ?? '127.0.0.1';
  return SignalingServer.start({ host, port });
});
