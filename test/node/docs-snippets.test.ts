import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import ts from 'typescript';
import { launchChromium } from '../helpers/chromium.js';
import { serveDemo } from '../helpers/demo-page.js';
import { docSnippets } from '../helpers/doc-snippets.js';

const run = promisify(execFile);
const snippets = docSnippets();
const code = snippets.filter((s) => s.lang === 'js' || s.lang === 'ts');

describe('docs snippets', () => {
  it('every js and ts block of the docs parses (as a module, top-level await allowed)', () => {
    assert.ok(code.length >= 20, `found ${code.length} blocks`);
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

  it('every block marked `js run` runs in Chromium against the built SDK without throwing or failing a console.assert', async () => {
    const runnable = snippets.filter((s) => s.run && s.lang === 'js');
    assert.ok(runnable.length >= 5, `found ${runnable.length} runnable blocks`);
    const demo = await serveDemo();
    const browser = await launchChromium();
    try {
      for (const snippet of runnable) {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('pageerror', (error) => problems.push(String(error)));
        page.on('console', (message) => {
          // (The browser's own favicon request is not the snippet's.)
          if (message.location().url?.endsWith('/favicon.ico')) return;
          if (message.type() === 'assert' || message.type() === 'error') problems.push(message.text());
        });
        // A page of the demo's origin with only the <script> bundle, as the guides say.
        await page.goto(`${demo.url}sdk/framewire.min.js`);
        await page.setContent('<!doctype html><script src="/sdk/framewire.min.js"></script>');
        // The snippet as the body of an async function, evaluated as page script (top-level await works).
        const outcome: unknown = await page.evaluate(
          `(async () => {\n${snippet.code}\n})().then(() => 'ok', (error) => 'threw: ' + String(error))`,
        );
        assert.equal(outcome, 'ok', snippet.where);
        assert.deepEqual(problems, [], snippet.where);
        await page.close();
      }
    } finally {
      await browser.close();
      await demo.close();
    }
  });

  it('every block marked `sh run` succeeds in the repository root (offline)', async () => {
    const shell = snippets.filter((s) => s.run && s.lang === 'sh');
    assert.ok(shell.length >= 1, `found ${shell.length} runnable shell blocks`);
    for (const snippet of shell) {
      await run('bash', ['-euo', 'pipefail', '-c', snippet.code], {
        timeout: 60_000,
        env: { ...process.env, npm_config_offline: 'true' },
      }).catch((error: unknown) => assert.fail(`${snippet.where}: ${String(error)}`));
    }
  });
});
