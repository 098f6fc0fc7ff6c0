// Writes the API reference of the browser SDK, docs/api/browser-sdk.md, from the doc comments of every export of
// packages/browser-sdk/src/index.ts (TypeScript compiler API). `npm run docs:api` regenerates it; `--check` (run
// by `npm test`) fails when the file is out of date or an export has no doc comment.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import ts from 'typescript';

const ENTRY = 'packages/browser-sdk/src/index.ts';
const OUT = 'docs/api/browser-sdk.md';
const check = process.argv.includes('--check');

const config = ts.getParsedCommandLineOfConfigFile(
  'packages/browser-sdk/tsconfig.json',
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const program = ts.createProgram([ENTRY], config.options);
const checker = program.getTypeChecker();
const entry = program.getSourceFile(ENTRY);
const moduleSymbol = checker.getSymbolAtLocation(entry);

const oneLine = (text) => text.replace(/\s+/g, ' ').trim();
const docOf = (symbol) => {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const examples = symbol
    .getJsDocTags(checker)
    .filter((tag) => tag.name === 'example')
    .map((tag) => ts.displayPartsToString(tag.text).trim());
  return { text, examples };
};
const FLAGS = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

function kindOf(symbol) {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Variable) return 'const';
  return 'export';
}

function signatureLines(name, symbol, kind) {
  const declaration = symbol.declarations?.[0];
  if (!declaration) return [];
  if (kind === 'function') {
    const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    return type.getCallSignatures().map((s) => `function ${name}${checker.signatureToString(s, undefined, FLAGS)}`);
  }
  if (kind === 'const')
    return [
      `const ${name}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, declaration), undefined, FLAGS)}`,
    ];
  if (kind === 'type') return [oneLine(declaration.getText()).replace(/^export /, '')];
  return [];
}

/** Public members of a class (static and instance) or an interface, with their doc comments. */
function memberRows(symbol, kind) {
  if (kind !== 'class' && kind !== 'interface') return [];
  const declaration = symbol.declarations?.find((d) => ts.isClassDeclaration(d) || ts.isInterfaceDeclaration(d));
  if (!declaration) return [];
  const rows = [];
  for (const member of declaration.members) {
    if (!member.name || ts.isPrivateIdentifier(member.name)) continue;
    const modifiers = ts.getCombinedModifierFlags(member);
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    const memberSymbol = checker.getSymbolAtLocation(member.name);
    if (!memberSymbol) continue;
    const isStatic = modifiers & ts.ModifierFlags.Static ? 'static ' : '';
    let text = member.name.getText();
    if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member) || ts.isConstructorDeclaration(member)) {
      const signature = checker.getSignatureFromDeclaration(member);
      text += signature ? checker.signatureToString(signature, undefined, FLAGS) : '()';
    } else if (ts.isGetAccessorDeclaration(member)) {
      text = `get ${text}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(memberSymbol, member), undefined, FLAGS)}`;
    } else if (ts.isSetAccessorDeclaration(member)) {
      continue;
    } else {
      const optional = member.questionToken ? '?' : '';
      text += `${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(memberSymbol, member), undefined, FLAGS)}`;
    }
    rows.push({ text: isStatic + oneLine(text), doc: oneLine(docOf(memberSymbol).text) });
  }
  return rows;
}

const cell = (text) => text.replace(/\|/g, '\\|');
const undocumented = [];
const sections = [];
for (const exported of checker.getExportsOfModule(moduleSymbol)) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const name = exported.getName();
  const kind = kindOf(symbol);
  const { text, examples } = docOf(symbol);
  if (!text) undocumented.push(name);
  const lines = [`### ${name}`, '', `_${kind}_`, ''];
  if (text) lines.push(text, '');
  const signatures = signatureLines(name, symbol, kind);
  if (signatures.length) lines.push('```ts', ...signatures, '```', '');
  const rows = memberRows(symbol, kind);
  if (rows.length) {
    lines.push('| Member | Description |', '| --- | --- |');
    for (const row of rows) lines.push(`| \`${cell(row.text)}\` | ${cell(row.doc)} |`);
    lines.push('');
  }
  for (const example of examples) lines.push('Example:', '', example, '');
  sections.push({ name, text: lines.join('\n') });
}

const header = `# @framewire/browser-sdk API reference

Generated from the doc comments of \`${ENTRY}\` by \`npm run docs:api\` (\`scripts/api-docs.mjs\`); \`npm test\`
fails when this file is out of date. Guides: [docs/guides](../guides/). Errors: [docs/errors](../errors/README.md).

${sections.map((s) => `[${s.name}](#${s.name.toLowerCase()})`).join(' · ')}

`;
// Types printed by the checker may name files by absolute path (`import("/…/node_modules/dashjs/index")`): print
// the package name instead, and repository paths relative to the root, so the reference is the same on every machine.
const repositoryRoot = process.cwd();
const output = (header + sections.map((s) => s.text).join('\n'))
  .replace(/import\("[^"]*\/node_modules\/((?:@[^/"]+\/)?[^/"]+)[^"]*"\)/g, 'import("$1")')
  .replaceAll(`${repositoryRoot}/`, '');

if (undocumented.length) {
  console.error(`✖ exports without a doc comment: ${undocumented.join(', ')}`);
  process.exit(1);
}
if (check) {
  let current = '';
  try {
    current = readFileSync(OUT, 'utf8');
  } catch {
    // missing: out of date
  }
  if (current !== output) {
    console.error(`✖ ${OUT} is out of date: run npm run docs:api`);
    process.exit(1);
  }
  console.log(`✔ ${OUT} is up to date (${sections.length} exports)`);
} else {
  mkdirSync('docs/api', { recursive: true });
  writeFileSync(OUT, output);
  console.log(`wrote ${OUT} (${sections.length} exports)`);
}
