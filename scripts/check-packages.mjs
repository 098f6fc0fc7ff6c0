// Every published package carries what a user installing it reads: a README.md (with install steps, an example and
// links to the guides and the API reference, every relative link resolving) and the root LICENSE, both in what
// `npm pack` ships, and a `license` field equal to the root's. It also checks the graph of the workspace packages:
// every `@framewire/*` import in a package's sources is declared in its package.json, and the graph of declared
// dependencies has no cycle (a cycle would mean no package can be built, versioned or understood first). Run by
// `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const root = readJson('package.json');
const license = readFileSync('LICENSE', 'utf8');
const problems = [];
if (root.license !== 'Apache-2.0' || !license.includes('Apache License') || !license.includes('Version 2.0'))
  problems.push(`the root LICENSE is not the text of the root package.json's license (${root.license})`);

const published = root.workspaces.filter(
  (dir) => dir.startsWith('packages/') && !readJson(`${dir}/package.json`).private,
);
for (const dir of published) {
  const manifest = readJson(`${dir}/package.json`);
  const where = `${dir} (${manifest.name})`;
  if (manifest.license !== root.license) problems.push(`${where}: license is ${manifest.license}, not ${root.license}`);
  if (!existsSync(`${dir}/LICENSE`) || readFileSync(`${dir}/LICENSE`, 'utf8') !== license)
    problems.push(`${where}: LICENSE is missing or differs from the root LICENSE (copy it)`);
  const readmePath = `${dir}/README.md`;
  if (!existsSync(readmePath)) {
    problems.push(`${where}: no README.md`);
    continue;
  }
  const readme = readFileSync(readmePath, 'utf8');
  if (!readme.startsWith(`# ${manifest.name}\n`))
    problems.push(`${readmePath}: does not start with "# ${manifest.name}"`);
  for (const heading of ['## Install', '## Example', '## Documentation', '## License'])
    if (!readme.includes(`\n${heading}\n`)) problems.push(`${readmePath}: no "${heading}" section`);
  const folder = dir.slice('packages/'.length);
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
  if (!links.some((l) => l.endsWith(`docs/api/${folder}.md`)))
    problems.push(`${readmePath}: no link to its API reference`);
  if (!links.some((l) => l.includes('docs/guides/'))) problems.push(`${readmePath}: no link to a guide`);
  for (const link of links) {
    const target = join(dirname(readmePath), link.split('#')[0]);
    if (!existsSync(target)) problems.push(`${readmePath}: the link ${link} leads nowhere (${target})`);
  }
  // What `npm pack` would put in the tarball (no scripts run, nothing written).
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '-w', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
  const files = new Set(packed[0].files.map((f) => f.path));
  for (const file of ['README.md', 'LICENSE', 'package.json'])
    if (!files.has(file)) problems.push(`${where}: npm pack leaves out ${file} (see "files" in package.json)`);
}

// ── the package graph ─────────────────────────────────────────────────────────────────────────────────────────
/** Source files (.ts, .mjs, .js) under `dir`, without node_modules and build output. */
function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'dist'].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Name → workspace folder, and each workspace's declared `@framewire/*` dependencies (every kind). */
const workspaces = new Map(root.workspaces.map((dir) => [readJson(`${dir}/package.json`).name, dir]));
const graph = new Map();
for (const [name, dir] of workspaces) {
  const manifest = readJson(`${dir}/package.json`);
  const declared = new Set(
    ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']
      .flatMap((field) => Object.keys(manifest[field] ?? {}))
      .filter((dep) => workspaces.has(dep) && dep !== name),
  );
  graph.set(name, declared);
  const srcDir = existsSync(`${dir}/src`) ? `${dir}/src` : dir;
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    for (const [, dep] of text.matchAll(/(?:from|import)\s*\(?\s*['"](@framewire\/[\w-]+)/g)) {
      if (dep !== name && workspaces.has(dep) && !declared.has(dep))
        problems.push(`${file} imports ${dep}, which ${dir}/package.json does not declare`);
    }
  }
}
/** The cycles of the graph, each as the path that closes it (depth-first, white/grey/black). */
function cyclesOf(edges) {
  const state = new Map();
  const found = [];
  const visit = (node, path) => {
    state.set(node, 'grey');
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'grey') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next, [...path, next]);
    }
    state.set(node, 'black');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node, [node]);
  return found;
}
for (const cycle of cyclesOf(graph)) problems.push(`the package graph has a cycle: ${cycle.join(' → ')}`);
const graphText = [...graph]
  .map(([name, deps]) => `  ${name} → ${deps.size ? [...deps].sort().join(', ') : '(none)'}`)
  .join('\n');

if (problems.length) {
  console.error(`package graph:\n${graphText}`);
  console.error(`✖ published packages:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`package graph:\n${graphText}`);
console.log(
  `✔ ${published.length} published packages: README.md, LICENSE and license field in place, links resolve; ` +
    `${graph.size} workspace packages, imports declared, no cycle`,
);
