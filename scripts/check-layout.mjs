// Keeps the layout section of DEVELOPERS.md true to the tree. The section's first code block is an indented tree:
// each line names a path (relative to the folder of the line above it with less indentation), then describes it.
// Fails when a named path does not exist — the line's own path, or a file or folder named in its description
// (`sources/`, `recorder.ts`: somewhere under the line's folder) — or when a folder of the tree is missing from it:
// every folder down to two levels (`test/unit`), each package's folders (`src`, `bin`) and every folder directly
// under a package's `src/`. Run by `npm test`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const DOC = 'DEVELOPERS.md';
/** File names the descriptions may mention; other words (`hls.js` the library, `H.264/VP8`) are prose. */
const FILE_NAME = /^[\w.-]+\.(ts|mjs|js|json|html|css|webmanifest|md|sh|py)$/;
const LIBRARIES = new Set(['hls.js', 'dash.js', 'opencv.js', 'mp4box.js']);

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const folders = new Set(
  tracked.flatMap((file) =>
    file
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);
const exists = (path) => path === '' || folders.has(path) || tracked.includes(path);

const text = readFileSync(DOC, 'utf8');
const section = text.slice(text.indexOf('\n## Layout'));
const block = /^```\w*\n([\s\S]*?)^```$/m.exec(section)?.[1];
if (section.length === 0 || !block) {
  console.error(`✖ ${DOC}: no "## Layout" section with a code block`);
  process.exit(1);
}

const problems = [];
const listed = new Set();
/** The folder of each indentation level above the current line. */
const stack = [];
for (const line of block.split('\n').filter((l) => l.trim())) {
  const indent = line.length - line.trimStart().length;
  while (stack.length && stack.at(-1).indent >= indent) stack.pop();
  const parent = stack.at(-1)?.path ?? '';
  const [name, ...rest] = line.trim().split(/\s+/);
  const path = (parent ? `${parent}/` : '') + name.replace(/\/$/, '');
  if (!exists(path)) problems.push(`"${name}" (${path}) does not exist`);
  const folder = name.endsWith('/') ? path : parent;
  if (name.endsWith('/')) {
    listed.add(path);
    stack.push({ indent, path });
  }
  // Paths named in the description: somewhere under the line's folder.
  for (const word of rest.map((w) => w.replace(/^[(`'"]+|[)`'",;:.]+$/g, ''))) {
    const isFolder = /^[\w-]+(\/[\w-]+)*\/$/.test(word);
    if (!isFolder && (!FILE_NAME.test(word.split('/').at(-1)) || LIBRARIES.has(word))) continue;
    const under = (p) => folder === '' || p.startsWith(`${folder}/`);
    const found = isFolder
      ? [...folders].some((f) => under(f) && `/${f}/`.includes(`/${word}`))
      : tracked.some((f) => under(f) && `/${f}`.endsWith(`/${word}`));
    if (!found) problems.push(`"${word}" on the line of ${name} is not under ${folder || 'the root'}/`);
  }
}

const required = [...folders].filter((f) => {
  const parts = f.split('/');
  if (parts.some((p) => p.startsWith('.') && p !== '.ci')) return false;
  if (parts[0] === 'packages') return parts.length <= 3 || (parts.length === 4 && parts[2] === 'src');
  return parts.length <= 2;
});
for (const folder of required.sort()) if (!listed.has(folder)) problems.push(`the folder ${folder}/ is missing`);

if (problems.length) {
  console.error(`✖ ${DOC}, layout section:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`✔ ${DOC}: the layout names ${listed.size} folders, all there, and every folder of the tree`);
