import { assertOption } from '@framewire/core';

// Words made only of these characters mean the same to systemd unquoted. `%` (specifiers) and `$` (environment
// variables) are not among them: they are doubled wherever they appear.
const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/**
 * One argument of a systemd `ExecStart=` line, written so that systemd hands the program exactly `argument`:
 * `%` becomes `%%` (no specifier), `$` becomes `$$` (no variable expansion), and a word with anything but
 * `[A-Za-z0-9_@+=:,./-]` is double-quoted with C escapes for `\`, `"` and control characters.
 * Throws `FW_ERR_INVALID_OPTION` for a lone `;` (systemd's command separator).
 */
export function quoteExecArgument(argument: string): string {
  assertOption(
    argument !== ';',
    'a service command argument cannot be a lone ";" (systemd separates commands with it)',
  );
  return quoteWord(argument.replaceAll('$', '$$$$'), argument);
}

/**
 * One word of a unit setting that takes a space-separated list without variable expansion (`ReadWritePaths=`):
 * as {@link quoteExecArgument}, but `$` stays as it is.
 */
export function quoteUnitWord(word: string): string {
  return quoteWord(word, word);
}

/** `escaped` (`$` already handled) with `%` doubled, double-quoted and C-escaped unless `original` is plain. */
function quoteWord(escapedDollars: string, original: string): string {
  const escaped = escapedDollars.replaceAll('%', '%%');
  if (PLAIN_WORD.test(original)) return escaped;
  let quoted = '';
  for (const char of escaped) {
    const code = char.charCodeAt(0);
    if (char === '\\' || char === '"') quoted += `\\${char}`;
    else if (code < 0x20 || code === 0x7f) {
      quoted += CONTROL_ESCAPES[char] ?? `\\x${code.toString(16).padStart(2, '0')}`;
    } else quoted += char;
  }
  return `"${quoted}"`;
}

/** A whole `ExecStart=` value: every argument quoted with {@link quoteExecArgument}, separated by spaces. */
export function execCommandLine(argv: readonly string[]): string {
  assertOption(argv[0]?.startsWith('/') === true, 'a service command starts with an absolute path');
  return argv.map(quoteExecArgument).join(' ');
}

/**
 * One `NAME="value"` line of a systemd `EnvironmentFile=`: the value double-quoted, with `\`, `"`, `` ` `` and `$`
 * escaped by a backslash (what systemd, and a POSIX shell reading the same file, take literally).
 * Throws `FW_ERR_INVALID_OPTION` for a name that is not `[A-Za-z_][A-Za-z0-9_]*` or a value with a line break or NUL.
 */
export function environmentFileLine(name: string, value: string): string {
  assertOption(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name), `${name} is not an environment variable name`);
  assertOption(!/[\n\r]/.test(value) && !value.includes('\0'), `the value of ${name} cannot hold a line break or NUL`);
  return `${name}="${value.replace(/[\\"`$]/g, (char) => `\\${char}`)}"`;
}
