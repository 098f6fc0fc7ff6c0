/** Finds the fenced code blocks of the Markdown docs, for the test that runs them (see DEVELOPERS.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One fenced block: ```<lang> [run [live] [continue] | norun: <reason>]
 *
 * - `run`: executed by test/node/docs-snippets.test.ts (js/ts: in Chromium against the built SDK, or in Node when it
 *   imports `@framewire/node-bridge` or `@framewire/signaling`; sh: with bash in the repository root).
 * - `live`: the snippet runs until stopped (a server, a camera loop): it passes when it runs for a few seconds
 *   without an error, and is then stopped.
 * - `continue`: runs after the previous block of the same file, in the same program (a guide's next step).
 * - `norun: <reason>`: cannot run on a test machine, for the stated reason (a Raspberry Pi, systemd, apt, …).
 * - `text` blocks are not code (file listings, diagrams); docs/api/ holds generated signatures, checked by
 *   `npm run docs:api -- --check`.
 */
export interface DocSnippet {
  /** `docs/guides/packaging.md:57` */
  where: string;
  file: string;
  lang: string;
  run: boolean;
  live: boolean;
  continues: boolean;
  /** The reason given with `norun:`. */
  noRunReason: string | undefined;
  code: string;
}

/** The README of each published package: what npm shows; its snippets run like the guides'. */
export const PACKAGE_READMES = [
  'packages/browser-sdk/README.md',
  'packages/node-bridge/README.md',
  'packages/signaling/README.md',
];

/**
 * Every fenced block of README.md, the packages' READMEs and docs/**\/*.md; with `only`, of the files whose path
 * contains it (`DOCS_SNIPPETS_ONLY=packages/ npm run test:node -- test/node/docs-snippets.test.ts`).
 */
export function docSnippets(only?: string): DocSnippet[] {
  const files = [
    'README.md',
    ...PACKAGE_READMES,
    ...readdirSync('docs', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  const snippets: DocSnippet[] = [];
  for (const file of files.filter((f) => only === undefined || f.includes(only)).sort()) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
      const line = text.slice(0, match.index).split('\n').length;
      const info = (match[2] ?? '').trim();
      const noRun = /^norun:\s*(.*)$/.exec(info);
      const words = noRun ? [] : info.split(/\s+/);
      snippets.push({
        where: `${file}:${line}`,
        file,
        lang: match[1] ?? '',
        run: words.includes('run'),
        live: words.includes('live'),
        continues: words.includes('continue'),
        noRunReason: noRun?.[1],
        code: match[3] ?? '',
      });
    }
  }
  return snippets;
}

/** The code a `continue` block runs: the blocks it continues, then its own. */
export function withPredecessors(snippets: DocSnippet[], snippet: DocSnippet): string {
  const index = snippets.indexOf(snippet);
  if (!snippet.continues || index <= 0) return snippet.code;
  return `${withPredecessors(snippets, snippets[index - 1]!)}\n${snippet.code}`;
}

/** Why a block is not executed, or undefined when it must be. */
export function whyNotRun(snippet: DocSnippet): string | undefined {
  if (snippet.run) return undefined;
  if (snippet.noRunReason) return snippet.noRunReason;
  if (snippet.lang === 'text') return 'not code';
  if (snippet.file.startsWith(join('docs', 'api'))) return 'generated signatures (npm run docs:api -- --check)';
  return undefined;
}

/** A Node snippet: it imports the bridge or the signaling package. */
export const isNodeSnippet = (snippet: DocSnippet): boolean =>
  /from '@framewire\/(node-bridge|signaling)'/.test(snippet.code);
