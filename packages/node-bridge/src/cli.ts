import { parseArgs } from 'node:util';
import { FramewireError, assertOption } from '@framewire/core';
import { applyCliLogLevel, runCli } from '@framewire/core/node';
import { BridgeServer } from './bridge-server.js';
import { createTestPatternSource } from './sources/test-pattern-source.js';
import { VERSION } from './version.js';

const USAGE = `Usage: framewire-bridge [options]

Serves video sources to browsers. Endpoints: /health, /video (MJPEG), /snapshot.jpg,
/sources/<id>/video and /sources/<id>/snapshot.jpg.

Options:
  --host <address>     interface to bind (default 127.0.0.1; 0.0.0.0 serves the LAN)
  --port <number>      TCP port, 0 for any free port (default 8090)
  --source <kind>      source to serve: testpattern (default testpattern)
  --size <WxH>         frame size (default 1280x720)
  --fps <number>       frames per second (default 30)
  --ffmpeg <path>      ffmpeg executable (default ffmpeg)
  --log-level <level>  debug, info, warn, error or silent (default info)
  --version            print the version
  --help               print this help

Environment: FRAMEWIRE_BRIDGE_PORT, FRAMEWIRE_BRIDGE_HOST and FRAMEWIRE_LOG_LEVEL set defaults.`;

function parseSize(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  assertOption(match, `--size must look like 1280x720; got ${text}`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  source: { type: 'string', default: 'testpattern' },
  size: { type: 'string', default: '1280x720' },
  fps: { type: 'string', default: '30' },
  ffmpeg: { type: 'string' },
  'log-level': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

await runCli('framewire-bridge', async () => {
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
  assertOption(values.source === 'testpattern', `--source must be testpattern; got ${values.source}`);
  const port = Number(values.port ?? process.env['FRAMEWIRE_BRIDGE_PORT'] ?? 8090);
  const host = values.host ?? process.env['FRAMEWIRE_BRIDGE_HOST'] ?? '127.0.0.1';
  const fps = Number(values.fps);
  const source = createTestPatternSource({
    ...parseSize(values.size),
    frameRate: fps,
    ...(values.ffmpeg ? { ffmpegPath: values.ffmpeg } : {}),
  });
  return BridgeServer.start({ host, port, sources: [source] });
});
