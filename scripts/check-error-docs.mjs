// Every error code has a page in docs/errors/<CODE>.md, and every page belongs to a code.
import { readdirSync, readFileSync } from 'node:fs';
import { ERROR_CODES } from '../packages/core/dist/index.js';

const pages = new Set(
  readdirSync('docs/errors')
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => f.slice(0, -3)),
);
const problems = [];
for (const code of Object.keys(ERROR_CODES)) {
  if (!pages.has(code)) problems.push(`docs/errors/${code}.md is missing`);
  else if (!readFileSync(`docs/errors/${code}.md`, 'utf8').startsWith(`# ${code}`))
    problems.push(`docs/errors/${code}.md must start with "# ${code}"`);
}
for (const page of pages) if (!(page in ERROR_CODES)) problems.push(`docs/errors/${page}.md documents no known code`);
const index = readFileSync('docs/errors/README.md', 'utf8');
for (const code of Object.keys(ERROR_CODES))
  if (!index.includes(`(${code}.md)`)) problems.push(`docs/errors/README.md does not link ${code}`);
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`error docs: ${Object.keys(ERROR_CODES).length} codes, each documented`);
