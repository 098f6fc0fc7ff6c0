/** Launches the Debian Chromium with the flags that work headless here (see DEVELOPERS.md). */
import puppeteer, { type Browser } from 'puppeteer-core';
import { CHROMIUM_ARGS } from '../../web-test-runner.config.mjs';

/**
 * Starts headless Chromium (`CHROMIUM_PATH` or /usr/bin/chromium) with a fake camera and loopback-only WebRTC;
 * `extraArgs` are added to the usual flags.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}
