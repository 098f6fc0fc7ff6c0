// Reads an `ExecStart=` value back into the argv a program gets, the way systemd does (systemd.service(5),
// "Command lines", and systemd.unit(5), "Specifiers"): words split at unquoted whitespace; double or single quotes
// group; C escapes (\\ \" \' \n \t \r \xHH …) are decoded, inside quotes and out; then in each word `%%` is one `%`
// and `$$` one `$`. Written from those rules, not from the code that quotes, so that a round trip tests the quoting.
// A specifier other than `%%`, or a `$NAME` / `${NAME}` that systemd would substitute, throws: the quoting must
// never let one through.

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  s: ' ',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** Splits an `ExecStart=` value (without the `ExecStart=`) into the argv systemd passes to the program. */
export function splitSystemdCommandLine(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i]!)) i++;
    if (i >= value.length) break;
    let word = '';
    let quote: string | undefined;
    for (; i < value.length; i++) {
      const char = value[i]!;
      if (char === '\\') {
        const next = value[i + 1];
        if (next === undefined) throw new Error(`a trailing backslash in ${value}`);
        const decoded = SIMPLE_ESCAPES[next];
        if (next === 'x') {
          word += String.fromCharCode(parseInt(value.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (decoded !== undefined) {
          word += decoded;
          i += 1;
        } else {
          throw new Error(`unknown escape \\${next} in ${value}`);
        }
      } else if (quote !== undefined) {
        if (char === quote) quote = undefined;
        else word += char;
      } else if (char === '"' || char === "'") {
        quote = char;
      } else if (/\s/.test(char)) {
        break;
      } else {
        word += char;
      }
    }
    if (quote !== undefined) throw new Error(`unbalanced quoting in ${value}`);
    words.push(resolveDollars(resolveSpecifiers(word)));
  }
  return words;
}

function resolveSpecifiers(word: string): string {
  return word.replace(/%(.?)/g, (_, next: string) => {
    if (next === '%') return '%';
    throw new Error(`specifier %${next} in ${word}`);
  });
}

function resolveDollars(word: string): string {
  return word.replace(/\$(.?)/g, (_, next: string) => {
    if (next === '$') return '$';
    throw new Error(`variable expansion $${next}… in ${word}`);
  });
}
