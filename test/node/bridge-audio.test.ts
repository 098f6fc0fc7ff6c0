import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BridgeHealth } from '@framewire/node-bridge';
import { runCli, startCli, waitUntil } from '../helpers/node.js';

const BRIDGE = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

async function health(port: string): Promise<BridgeHealth> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as BridgeHealth;
}

describe('bridge audio sources', () => {
  it('--audio tone: the test pattern produces Opus packets beside its frames', async () => {
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '320x240', '--fps', '15', '--audio', 'tone'],
      LISTENING,
    );
    try {
      const port = bridge.match[1] ?? '';
      await waitUntil(
        async () => {
          const source = (await health(port)).sources[0];
          return (source?.audioPackets ?? 0) >= 50 && (source?.frames ?? 0) >= 15;
        },
        'audio packets and frames in /health',
        60_000,
      );
      assert.equal((await health(port)).sources[0]?.lastError, undefined);
    } finally {
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  it('a missing ALSA device is reported as FW_ERR_DEVICE_NOT_FOUND in /health and the video keeps flowing', async () => {
    const bridge = await startCli(
      BRIDGE,
      ['--port', '0', '--size', '320x240', '--fps', '15', '--source', 'testpattern#id=cam&audio=alsa:hw:97,0'],
      LISTENING,
    );
    try {
      const port = bridge.match[1] ?? '';
      await waitUntil(
        async () => (await health(port)).sources[0]?.lastError === 'FW_ERR_DEVICE_NOT_FOUND',
        'FW_ERR_DEVICE_NOT_FOUND in /health',
        60_000,
      );
      const before = (await health(port)).sources[0]?.frames ?? 0;
      await waitUntil(
        async () => ((await health(port)).sources[0]?.frames ?? 0) > before + 15,
        'frames after the audio failure',
        60_000,
      );
      const source = (await health(port)).sources[0];
      assert.deepEqual([source?.id, source?.state, source?.audioPackets], ['cam', 'running', 0]);
      const snapshot = await fetch(`http://127.0.0.1:${port}/snapshot.jpg`);
      assert.equal(snapshot.status, 200);
    } finally {
      assert.equal(await bridge.stop(), 0, bridge.output());
    }
  });

  for (const args of [
    ['--audio', 'beep'],
    ['--audio', 'source'], // the test pattern has no audio track
    ['--source', 'file:clip.mp4', '--audio', 'tone'], // only the test pattern beeps
    ['--source', 'testpattern#audio=alsa:'],
    ['--source', 'testpattern#id=a&volume=3'],
  ]) {
    it(`refuses ${args.join(' ')} with FW_ERR_INVALID_OPTION`, async () => {
      const result = await runCli(BRIDGE, ['--port', '0', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^framewire-bridge: FW_ERR_INVALID_OPTION: .*(audio|suffix)/);
    });
  }
});
