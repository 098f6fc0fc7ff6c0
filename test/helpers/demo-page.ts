/** Helpers for the demo's end-to-end tests: the demo server on port 0, the bridge CLI, screenshots. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import type { Page } from 'puppeteer-core';
import { startDemoServer } from '../../scripts/demo-server.mjs';
import { startCli, type StartedCli } from './node.js';

export const BRIDGE_CLI = 'packages/node-bridge/bin/framewire-bridge.js';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

/**
 * The demo server on 127.0.0.1, port 0; `bridgeUrl` and `signaling.config` go to the page's `/config.json` (read
 * on every request, so the caller may fill it in later); with `signaling.secret` it mints room tokens at
 * POST /room-token.
 */
export async function serveDemo(
  bridgeUrl = 'http://127.0.0.1:9/',
  signaling: { config?: { signalingUrl: string }; secret?: string } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const config = Object.assign(signaling.config ?? { signalingUrl: 'http://127.0.0.1:9/' }, { bridgeUrl });
  const server: Server = await startDemoServer({
    port: 0,
    config,
    ...(signaling.secret ? { signalingSecret: signaling.secret } : {}),
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts the bridge CLI (MJPEG, WebSocket and loopback WebRTC) with a small test pattern on `port` (0: any free port) and resolves once it listens. */
export async function startBridge(port = 0, extraArgs: string[] = []): Promise<StartedCli & { port: number }> {
  const bridge = await startCli(
    BRIDGE_CLI,
    [
      ...['--port', String(port), '--size', '320x240', '--fps', '15', '--webrtc', '--webrtc-ice-address', '127.0.0.1'],
      ...extraArgs,
    ],
    LISTENING,
  );
  return { ...bridge, port: Number(bridge.match[1]) };
}

/** Fewer distinct colours than this in a screenshot means nothing was drawn (a blank page has one). */
const MIN_SCREENSHOT_COLOURS = 16;

/**
 * Saves a screenshot of `page` as test-results/<name>.png and asserts that it is not blank: ffmpeg decodes the PNG
 * and it must hold at least 16 distinct colours.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir('test-results', { recursive: true });
  const path = `test-results/${name}.png`;
  await page.screenshot({ path });
  const colours = await distinctColours(path);
  assert.ok(colours >= MIN_SCREENSHOT_COLOURS, `${path} is blank: ${colours} distinct colour(s)`);
}

/** The number of distinct RGB colours of an image file, decoded by ffmpeg (an independent reader). */
export async function distinctColours(path: string): Promise<number> {
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const colours = new Set<number>();
  for (let i = 0; i + 2 < stdout.length; i += 3)
    colours.add((stdout[i]! << 16) | (stdout[i + 1]! << 8) | stdout[i + 2]!);
  return colours.size;
}

/** Collects uncaught page errors, to assert there were none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}
