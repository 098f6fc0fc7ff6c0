// Every published package carries what a user installing it reads: a README.md (with install steps, an example and
// links to the guides and the API reference, every relative link resolving) and the root LICENSE, both in what
// `npm pack` ships, and a `license` field equal to the root's. Run by `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

if (problems.length) {
  console.error(`✖ published packages:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`✔ ${published.length} published packages: README.md, LICENSE and license field in place, links resolve`);
