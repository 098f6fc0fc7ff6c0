// Writes the API reference of each published package, docs/api/<folder>.md, from the doc comments of every export
// of packages/<folder>/src/index.ts (TypeScript compiler API). `npm run docs:api` regenerates them; `--check` (run
// by `npm test`) fails when a file is out of date or an export has no doc comment.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import ts from 'typescript';

/** The published packages, by folder under packages/: each gets docs/api/<folder>.md. */
const API_PACKAGES = ['browser-sdk', 'node-bridge', 'signaling'];
const check = process.argv.includes('--check');

const FLAGS = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;
const oneLine = (text) => text.replace(/\s+/g, ' ').trim();
const cell = (text) => text.replace(/\|/g, '\\|');

function kindOf(symbol) {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Variable) return 'const';
  return 'export';
}

/** The reference of one package: its Markdown and the exports that have no doc comment. */
function packageReference(folder) {
  const entryFile = `packages/${folder}/src/index.ts`;
  const packageName = JSON.parse(readFileSync(`packages/${folder}/package.json`, 'utf8')).name;
  const config = ts.getParsedCommandLineOfConfigFile(
    `packages/${folder}/tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram([entryFile], config.options);
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entryFile));
  const docOf = (symbol) => {
    const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    const examples = symbol
      .getJsDocTags(checker)
      .filter((tag) => tag.name === 'example')
      .map((tag) => ts.displayPartsToString(tag.text).trim());
    const deprecated = symbol.getJsDocTags(checker).find((tag) => tag.name === 'deprecated');
    return { text, examples, deprecated: deprecated && ts.displayPartsToString(deprecated.text).trim() };
  };
  /** The doc text, led by **Deprecated** and its note for a deprecated name. */
  const withDeprecation = ({ text, deprecated }) =>
    deprecated === undefined ? text : `**Deprecated:** ${deprecated}${text ? ` ${text}` : ''}`;

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
      rows.push({ text: isStatic + oneLine(text), doc: oneLine(withDeprecation(docOf(memberSymbol))) });
    }
    return rows;
  }

  const undocumented = [];
  const sections = [];
  const anchors = new Map();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const name = exported.getName();
    const kind = kindOf(symbol);
    const doc = docOf(symbol);
    const { text, examples } = doc;
    if (!text) undocumented.push(name);
    const lines = [`### ${name}`, '', `_${kind}_`, ''];
    if (text) lines.push(withDeprecation(doc), '');
    const signatures = signatureLines(name, symbol, kind);
    if (signatures.length) lines.push('```ts', ...signatures, '```', '');
    const rows = memberRows(symbol, kind);
    if (rows.length) {
      lines.push('| Member | Description |', '| --- | --- |');
      for (const row of rows) lines.push(`| \`${cell(row.text)}\` | ${cell(row.doc)} |`);
      lines.push('');
    }
    for (const example of examples) lines.push('Example:', '', example, '');
    // GitHub's heading anchors: lower case, a `-1`, `-2`… suffix for a repeated one (`Crop` and `crop`).
    const base = name.toLowerCase();
    const seen = anchors.get(base) ?? 0;
    anchors.set(base, seen + 1);
    sections.push({ name, anchor: seen ? `${base}-${seen}` : base, text: lines.join('\n') });
  }

  const header = `# ${packageName} API reference

Generated from the doc comments of \`${entryFile}\` by \`npm run docs:api\` (\`scripts/api-docs.mjs\`); \`npm test\`
fails when this file is out of date. Guides: [docs/guides](../guides/). Errors: [docs/errors](../errors/README.md).

${sections.map((s) => `[${s.name}](#${s.anchor})`).join(' · ')}

`;
  // Types printed by the checker may name files by absolute path (`import("/…/node_modules/dashjs/index")`): print
  // the package name instead, and repository paths relative to the root, so the reference is the same on every machine.
  const output = (header + sections.map((s) => s.text).join('\n'))
    .replace(/import\("[^"]*\/node_modules\/((?:@[^/"]+\/)?[^/"]+)[^"]*"\)/g, 'import("$1")')
    .replaceAll(`${process.cwd()}/`, '');
  return { output, undocumented, exports: sections.length };
}

let failed = false;
for (const folder of API_PACKAGES) {
  const out = `docs/api/${folder}.md`;
  const { output, undocumented, exports } = packageReference(folder);
  if (undocumented.length) {
    console.error(`✖ ${folder}: exports without a doc comment: ${undocumented.join(', ')}`);
    failed = true;
    continue;
  }
  if (check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      // missing: out of date
    }
    if (current !== output) {
      console.error(`✖ ${out} is out of date: run npm run docs:api`);
      failed = true;
    } else console.log(`✔ ${out} is up to date (${exports} exports)`);
  } else {
    mkdirSync('docs/api', { recursive: true });
    writeFileSync(out, output);
    console.log(`wrote ${out} (${exports} exports)`);
  }
}
if (failed) process.exit(1);
