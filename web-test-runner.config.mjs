// Browser tests: real Chromium (the Debian package), every file in test/browser/, one browser, files in series.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter, summaryReporter } from '@web/test-runner';
import { mediaTestMiddleware } from './test/helpers/media-test-server.mjs';

/** Chromium flags that work headless on a machine without GPU or network (see DEVELOPERS.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export default {
  rootDir: '.',
  files: ['test/browser/**/*.test.ts'],
  // Tests import the SDK through its public, built entry (`npm test` builds first).
  nodeResolve: { exportConditions: ['browser', 'import', 'default'] },
  // /__fw/…: ffmpeg-made media, ffprobe, and small loopback servers started by the tests (test/helpers/media-test-server.mjs).
  middleware: [mediaTestMiddleware],
  plugins: [
    esbuildPlugin({ ts: true, target: 'auto', tsconfig: 'test/tsconfig.json' }),
    {
      // mediabunny's module build maps a Node-only file to `false` in its "browser" field, which this dev server's
      // resolver cannot serve; its self-contained ES bundle is the same code (bundlers handle either).
      name: 'mediabunny-bundle',
      resolveImport: ({ source }) =>
        source === 'mediabunny' ? '/node_modules/mediabunny/dist/bundles/mediabunny.mjs' : undefined,
    },
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: CHROMIUM_ARGS,
      },
    }),
  ],
  concurrency: 1,
  concurrentBrowsers: 1,
  browserStartTimeout: 60_000,
  testsStartTimeout: 60_000,
  // Deadlines that only bound a hang: a loaded 2-core machine can take much longer than an idle one.
  testsFinishTimeout: 900_000,
  testFramework: { config: { timeout: 120_000, ui: 'bdd' } },
  reporters: [defaultReporter(), summaryReporter({ flatten: false })],
};
