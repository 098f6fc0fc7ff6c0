// Runs node:test files with TypeScript through tsx (Node 20's --test takes no globs, so this script lists them).
//
//   node scripts/run-node-tests.mjs [--unit] [node --test options…] [files or folders…]
//
// Without files it runs every *.test.ts under test/node (or test/unit with --unit); with files or folders, only
// those. Other arguments (--test-name-pattern=…, --test-only, …) go to `node --test`.
//
// test/node (against the built packages): files that start no browser run 2 at a time, files that launch Chromium
// one at a time (two `node --test` runs, one after the other; the exit code fails if either fails).
// test/unit (--unit): pure modules straight from their sources (the `source` export condition), no build needed.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * test/node files that start no browser but must not run beside another file, each with the reason. None today:
 * every server, broker, redis-server, coturn and Python peer of those files listens on port 0 or on a port that
 * `freePort()` found free a moment before, temporary files live in per-test `mkdtemp` folders, and shared-memory
 * names carry the process id. (Two processes asking `freePort()` at once could in principle be handed the same
 * port between its check and its use; the kernel's randomised choice of ephemeral ports makes that rare.)
 * @type {Record<string, string>}
 */
const SERIAL = {};

/** True when a test/node file launches Chromium (through test/helpers/chromium.ts or puppeteer itself). */
const startsBrowser = (file) => /\blaunchChromium\s*\(|from\s+'puppeteer-core'/.test(readFileSync(file, 'utf8'));

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const rest = args.filter((arg) => arg !== '--unit');
const isPath = (arg) => !arg.startsWith('-') && (arg.endsWith('.ts') || exists(arg));
const paths = rest.filter(isPath);
const nodeOptions = rest.filter((arg) => !isPath(arg));
const root = unit ? 'test/unit' : 'test/node';

function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every *.test.ts under `dir`, sorted. */
const testFilesIn = (dir) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));

const files = (paths.length > 0 ? paths : [root]).flatMap((path) => {
  if (!exists(path)) {
    console.error(`no such test file or folder: ${path}`);
    process.exit(1);
  }
  return statSync(path).isDirectory() ? testFilesIn(path) : [relative('.', path)];
});
if (files.length === 0) {
  console.error(`no test files found in ${(paths.length > 0 ? paths : [root]).join(', ')}`);
  process.exit(1);
}

/** Runs one `node --test` over `group`; returns its exit status. */
function run(group, concurrency, loaderArgs = []) {
  const { status } = spawnSync(
    process.execPath,
    [
      ...loaderArgs,
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-reporter=spec',
      ...nodeOptions,
      ...group,
    ],
    { stdio: 'inherit' },
  );
  return status ?? 1;
}

if (unit) {
  // Sources, not dist: workspace imports (@framewire/core, …) resolve to src/ through the `source` condition.
  process.exit(run(files, 2, ['--conditions=source']));
}

const browser = files.filter((file) => startsBrowser(file) || Object.hasOwn(SERIAL, file.replaceAll('\\', '/')));
const noBrowser = files.filter((file) => !browser.includes(file));
let failed = 0;
if (noBrowser.length > 0) {
  console.log(`# ${noBrowser.length} file(s) without a browser, 2 at a time`);
  if (run(noBrowser, 2) !== 0) failed++;
}
if (browser.length > 0) {
  console.log(`# ${browser.length} file(s) with Chromium (or kept serial), one at a time`);
  if (run(browser, 1) !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
