import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BridgeHealth } from '@framewire/node-bridge';
import type { SignalingHealth } from '@framewire/signaling';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, startCli, startServer, tempDir } from '../helpers/node.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const SIGNALING = 'packages/signaling/bin/framewire-signaling.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

describe('CLIs', () => {
  it('framewire-bridge and framewire-signaling start, answer /health, and stop cleanly on SIGTERM', async () => {
    const bridge = await startCli(BRIDGE, ['--port', '0', '--size', '320x240', '--fps', '15'], LISTENING);
    const signaling = await startCli(SIGNALING, ['--port', '0'], LISTENING);
    try {
      const bridgeHealth = (await (await fetch(`http://127.0.0.1:${bridge.match[1]}/health`)).json()) as BridgeHealth;
      assert.equal(bridgeHealth.service, 'framewire-bridge');
      assert.equal(bridgeHealth.sources[0]?.id, 'testpattern');
      const signalingResponse = await fetch(`http://127.0.0.1:${signaling.match[1]}/health`);
      assert.equal(signalingResponse.status, 200);
      const signalingHealth = (await signalingResponse.json()) as SignalingHealth;
      assert.deepEqual([signalingHealth.service, signalingHealth.status], ['framewire-signaling', 'ok']);
      assert.match(signalingHealth.version, /^\d+\.\d+\.\d+/);
    } finally {
      assert.equal(await bridge.stop(), 0, bridge.output());
      assert.equal(await signaling.stop(), 0, signaling.output());
    }
    assert.match(bridge.output(), /SIGTERM received, shutting down/);
  });

  for (const [name, script] of [
    ['framewire-bridge', BRIDGE],
    ['framewire-signaling', SIGNALING],
  ] as const) {
    it(`${name}, --help and --version print and exit 0`, async () => {
      const help = await runCli(script, ['--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Usage: ${name}`));
      const version = await runCli(script, ['--version']);
      assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
    });

    it(`${name}, a bad option exits 2 with FW_ERR_INVALID_OPTION and no stack trace`, async () => {
      for (const args of [['--port', 'abc'], ['--no-such-flag'], ['--log-level', 'loud']]) {
        const result = await runCli(script, args);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^${name}: FW_ERR_INVALID_OPTION: `));
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      }
    });

    it(`${name}, a port in use exits 1 with FW_ERR_LISTEN_FAILED`, async () => {
      const occupier = await startServer((_, response) => response.end());
      try {
        const result = await runCli(script, ['--port', String(occupier.port)]);
        assert.equal(result.code, 1);
        assert.match(result.stderr, /FW_ERR_LISTEN_FAILED: Cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);
      } finally {
        await occupier.close();
      }
    });
  }
});

describe('framewire-bridge options', () => {
  it('framewire-bridge, a config file, --token and FRAMEWIRE_TOKEN protect every endpoint but /health', async () => {
    const dir = await tempDir();
    try {
      const config = join(dir.path, 'bridge.json');
      await writeFile(
        config,
        JSON.stringify({ source: ['testpattern#id=pattern'], size: '160x120', fps: 10, ws: true }),
      );
      process.env['FRAMEWIRE_TOKEN'] = 'from-the-environment';
      const bridge = await startCli(BRIDGE, ['--port', '0', '--config', config], LISTENING);
      delete process.env['FRAMEWIRE_TOKEN'];
      const base = `http://127.0.0.1:${bridge.match[1]}`;
      try {
        const health = (await (await fetch(`${base}/health`)).json()) as BridgeHealth;
        assert.deepEqual([health.sources[0]?.id, health.outputs], ['pattern', ['websocket']]);
        assert.equal((await fetch(`${base}/metrics`)).status, 401);
        assert.equal((await fetch(`${base}/metrics?token=from-the-environment`)).status, 200);
      } finally {
        assert.equal(await bridge.stop(), 0, bridge.output());
      }
      await writeFile(config, JSON.stringify({ source: 'gopher://nowhere' }));
      const bad = await runCli(BRIDGE, ['--config', config]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /FW_ERR_INVALID_OPTION: --source must be/);
    } finally {
      delete process.env['FRAMEWIRE_TOKEN'];
      await dir.remove();
    }
  });
});
