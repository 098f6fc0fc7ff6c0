/** Finds the fenced code blocks of the Markdown docs, for the test that runs them (see DEVELOPERS.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fenced block: ```<lang> [run] */
export interface DocSnippet {
  /** `docs/guides/packaging.md:57` */
  where: string;
  lang: string;
  /** Marked `run`: executed by the test (js: in Chromium against the built SDK; sh: in the repository root). */
  run: boolean;
  code: string;
}

/** Every fenced block of README.md and docs/**\/*.md. */
export function docSnippets(): DocSnippet[] {
  const files = [
    'README.md',
    ...readdirSync('docs', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  const snippets: DocSnippet[] = [];
  for (const file of files.sort()) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
      const line = text.slice(0, match.index).split('\n').length;
      snippets.push({
        where: `${file}:${line}`,
        lang: match[1] ?? '',
        run: /\brun\b/.test(match[2] ?? ''),
        code: match[3] ?? '',
      });
    }
  }
  return snippets;
}
