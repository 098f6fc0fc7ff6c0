import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { launchChromium } from '../helpers/chromium.js';
import { serveDemo } from '../helpers/demo-page.js';
import { docSnippets, isNodeSnippet, whyNotRun, withPredecessors, type DocSnippet } from '../helpers/doc-snippets.js';
import {
  SNIPPET_SIGNALING_SECRET,
  startSnippetFixtures,
  withFixtures,
  type SnippetFixtures,
} from '../helpers/snippet-fixtures.js';

/** DOCS_SNIPPETS_ONLY=<part of a path>: only the blocks of those files (a quick run while writing docs). */
const only = process.env['DOCS_SNIPPETS_ONLY'];
const snippets = docSnippets(only);
/** The least number of blocks of a kind the whole docs hold (a broken parser finds none); any number with a filter. */
const atLeast = (count: number): number => (only === undefined ? count : 0);
const code = snippets.filter((s) => s.lang === 'js' || s.lang === 'ts');
const runnable = snippets.filter((s) => s.run);
const isScript = (s: DocSnippet): boolean => s.lang === 'js' || s.lang === 'ts';
const browserSnippets = runnable.filter((s) => (isScript(s) && !isNodeSnippet(s)) || s.lang === 'html');
const nodeSnippets = runnable.filter((s) => isScript(s) && isNodeSnippet(s));
/** A `live` snippet passes when it runs this long without an error, and is then stopped. */
const LIVE_MS = 5000;
/** The environment of shell, Python and Node snippets: the secrets the guides read from it (DEVELOPERS.md). */
const SNIPPET_ENV = {
  ...process.env,
  npm_config_offline: 'true',
  SECRET: SNIPPET_SIGNALING_SECRET,
  FRAMEWIRE_SIGNALING_SECRET: SNIPPET_SIGNALING_SECRET,
  TURN_SECRET: 'docs-snippet-turn-secret',
  PYTHONPATH: 'examples/python',
  // A documented bridge command binds its default port 8090 unless told otherwise: any free port here, so that a
  // snippet never fails because another process on this machine holds 8090.
  FRAMEWIRE_BRIDGE_PORT: '0',
};

/** A snippet's code as a browser script: TypeScript transpiled, SDK imports read from the `Framewire` global. */
function browserScript(source: string, lang: string): string {
  const js =
    lang === 'ts'
      ? ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText
      : source;
  return js.replace(/import\s*(\{[^}]*\})\s*from\s*'@framewire\/browser-sdk';?/g, 'const $1 = Framewire;');
}

/**
 * Runs a process, which must exit with 0 — or, if `live`, still run after LIVE_MS (it is then stopped) — and must not
 * log a framewire warning or error: those go to stderr as `[framewire:<scope>] …` (info goes to stdout), so a
 * server that only retries an unreachable broker fails too.
 */
function runProcess(command: string, args: string[], live: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: SNIPPET_ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let stderr = '';
    let stopped = false;
    child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => {
      output += String(chunk);
      stderr += String(chunk);
    });
    const timer = setTimeout(
      () => {
        stopped = live;
        process.kill(-child.pid!, live ? 'SIGTERM' : 'SIGKILL');
      },
      live ? LIVE_MS : 90_000,
    );
    child.on('exit', (status) => {
      clearTimeout(timer);
      if (!stopped && status !== 0) reject(new Error(`exited with ${status}:\n${output}`));
      else if (/^\[framewire:/m.test(stderr)) reject(new Error(`logged a warning or an error:\n${stderr}`));
      else resolve();
    });
  });
}

describe('docs snippets', () => {
  let fixtures: SnippetFixtures;
  before(async () => {
    fixtures = await startSnippetFixtures();
  });
  after(() => fixtures.stop());

  it('every block runs, or says why it cannot (norun: <reason>), or is text or a generated signature', () => {
    const unaccounted = snippets.filter((s) => whyNotRun(s) === undefined && !s.run).map((s) => s.where);
    assert.deepEqual(unaccounted, []);
    const unknownRunner = runnable.filter((s) => !['js', 'ts', 'sh', 'html', 'python'].includes(s.lang));
    assert.deepEqual(
      unknownRunner.map((s) => s.where),
      [],
    );
    const vague = snippets.filter((s) => s.noRunReason !== undefined && s.noRunReason.length < 15);
    assert.deepEqual(
      vague.map((s) => s.where),
      [],
      'a norun block states its reason',
    );
  });

  it('every js and ts block of the docs parses (as a module, top-level await allowed)', () => {
    assert.ok(code.length >= atLeast(20), `found ${code.length} blocks`);
    for (const snippet of code) {
      const { diagnostics = [] } = ts.transpileModule(snippet.code, {
        fileName: `snippet.${snippet.lang}`,
        reportDiagnostics: true,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      const messages = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      assert.deepEqual(messages, [], snippet.where);
    }
  });

  it('every runnable browser block runs in Chromium against the built SDK without throwing or failing a console.assert', async () => {
    assert.ok(browserSnippets.length >= atLeast(15), `found ${browserSnippets.length} runnable blocks`);
    const demo = await serveDemo();
    const browser = await launchChromium();
    try {
      for (const snippet of browserSnippets) {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('pageerror', (error) => problems.push(String(error)));
        page.on('console', (message) => {
          // (The browser's own favicon request is not the snippet's.)
          if (message.location().url?.endsWith('/favicon.ico')) return;
          if (message.type() === 'assert' || message.type() === 'error') problems.push(message.text());
          // The SDK's own warnings (a stream that retries, a fallback taken) count too.
          if (message.type() === 'warn' && message.text().startsWith('[framewire:')) problems.push(message.text());
        });
        // A page of the demo's origin that loads the <script> bundle as the guides say, with the elements the
        // snippets draw on and a file input holding the fixture clip.
        await page.goto(`${demo.url}sdk/framewire.min.js`);
        if (snippet.lang === 'html') {
          // The block as a page of the demo's origin (its module script may await a camera forever, so the page
          // is not waited for beyond its DOM).
          const html = withFixtures(snippet.code, fixtures).replace(
            'src="framewire.min.js"',
            'src="/sdk/framewire.min.js"',
          );
          await page.setRequestInterception(true);
          page.on('request', (request) =>
            request.url().endsWith('/snippet.html')
              ? void request.respond({ status: 200, contentType: 'text/html', body: `<!doctype html>${html}` })
              : void request.continue(),
          );
          await page.goto(`${demo.url}snippet.html`, { waitUntil: 'domcontentloaded' });
          await new Promise((resolve) => setTimeout(resolve, LIVE_MS));
        } else {
          await page.setContent(
            '<!doctype html><script src="/sdk/framewire.min.js"></script>' +
              '<canvas width="640" height="360"></canvas><video muted></video><input type="file" id="input">',
          );
          const input = await page.$('#input');
          await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(fixtures.clipPath);
          const script = browserScript(withFixtures(withPredecessors(snippets, snippet), fixtures), snippet.lang);
          // The snippet in a block of an async function (top-level await works), after the documented globals.
          await page.evaluate(
            `window.snippetOutcome = undefined; (async () => {
              const ctx = document.querySelector('canvas').getContext('2d');
              const url = ${JSON.stringify(fixtures.clipUrl)};
              {\n${script}\n}
            })().then(() => { window.snippetOutcome = 'ok'; }, (error) => { window.snippetOutcome = 'threw: ' + String(error); }); undefined`,
          );
          if (snippet.live) await new Promise((resolve) => setTimeout(resolve, LIVE_MS));
          else
            await page.waitForFunction(() => 'snippetOutcome' in window && window.snippetOutcome, { timeout: 90_000 });
          const outcome = await page.evaluate(() => (window as { snippetOutcome?: string }).snippetOutcome);
          assert.ok(outcome === 'ok' || (snippet.live && outcome === undefined), `${snippet.where}: ${outcome}`);
        }
        assert.deepEqual(problems, [], snippet.where);
        await page.close();
      }
    } finally {
      await browser.close();
      await demo.close();
    }
  });

  it('every runnable Node block runs against the built bridge and signaling packages', async () => {
    assert.ok(nodeSnippets.length >= atLeast(3), `found ${nodeSnippets.length} runnable Node blocks`);
    // Inside the repository, so that `@framewire/*` resolves to the workspace packages.
    await mkdir('test-results/snippets', { recursive: true });
    for (const [index, snippet] of nodeSnippets.entries()) {
      const file = `test-results/snippets/node-${index}.mts`;
      const source = withFixtures(withPredecessors(snippets, snippet), fixtures).replace(/port: 8090\b/g, 'port: 0');
      // A finished snippet ends its process (servers it started would keep it alive).
      await writeFile(file, `${source}\n${snippet.live ? '' : 'process.exit(0);\n'}`);
      await runProcess('node', ['--import', 'tsx', file], snippet.live).catch((error: unknown) =>
        assert.fail(`${snippet.where}: ${String(error)}`),
      );
      await rm(file);
    }
  });

  it('every runnable sh and python block succeeds in the repository root (offline)', async () => {
    const programs = runnable.filter((s) => s.lang === 'sh' || s.lang === 'python');
    assert.ok(programs.length >= atLeast(3), `found ${programs.length} runnable shell and Python blocks`);
    for (const snippet of programs) {
      const source = withFixtures(snippet.code, fixtures);
      const [command, args] =
        snippet.lang === 'sh' ? ['bash', ['-euo', 'pipefail', '-c', source]] : ['/usr/bin/python3', ['-c', source]];
      await runProcess(command, args, snippet.live).catch((error: unknown) =>
        assert.fail(`${snippet.where}: ${String(error)}`),
      );
    }
  });
});
