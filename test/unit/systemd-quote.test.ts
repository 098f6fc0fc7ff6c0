// systemd quoting (packages/node-bridge/src/service/systemd-quote.ts): every argument comes back exactly when read
// the way systemd reads an ExecStart= line, and environment-file lines read back the same in a POSIX shell.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  environmentFileLine,
  execCommandLine,
  quoteExecArgument,
  quoteUnitWord,
} from '../../packages/node-bridge/src/service/systemd-quote.js';
import { splitSystemdCommandLine } from '../helpers/systemd-command-line.js';

const ARGUMENTS: [string, string][] = [
  ['a plain flag', '--webrtc'],
  ['a plain value', 'v4l2:/dev/video0#id=desk'],
  ['spaces', 'file:/srv/my videos/clip one.mp4'],
  ['double quotes', 'say "cheese"'],
  ['single quotes', "it's"],
  ['a backslash', 'C:\\camera\\0'],
  ['a trailing backslash', 'ends\\'],
  ['a percent sign (specifier)', '100%'],
  ['a specifier-like word', '%h/%n'],
  ['a dollar (variable expansion)', '$HOME'],
  ['braced variables', '${FRAMEWIRE_TOKEN}x$$'],
  ['a newline and a tab', 'two\nlines\tand a tab'],
  ['other control characters', 'bell\u0007escape\u001b'],
  ['a semicolon inside a word', 'a;b'],
  ['an empty argument', ''],
  ['non-ASCII', 'caméra ☃'],
];

describe('quoteExecArgument and execCommandLine', () => {
  for (const [name, argument] of ARGUMENTS) {
    it(`round-trips ${name}`, () => {
      const line = execCommandLine(['/usr/bin/node', argument, '--after']);
      assert.deepEqual(splitSystemdCommandLine(line), ['/usr/bin/node', argument, '--after'], line);
    });
  }

  it('leaves plain words unquoted and quotes the rest', () => {
    assert.equal(quoteExecArgument('--port'), '--port');
    assert.equal(quoteExecArgument('/usr/bin/node'), '/usr/bin/node');
    assert.equal(quoteExecArgument('a b'), '"a b"');
    assert.equal(quoteExecArgument('50%'), '"50%%"');
    assert.equal(quoteExecArgument('$X'), '"$$X"');
  });

  it('quoteUnitWord doubles % but keeps $ (no variable expansion in path lists)', () => {
    assert.equal(quoteUnitWord('/srv/rec $1 100%'), '"/srv/rec $1 100%%"');
  });

  it('refuses a lone ";" and a relative program with FW_ERR_INVALID_OPTION', () => {
    assert.throws(() => quoteExecArgument(';'), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => execCommandLine(['node', 'x']), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => execCommandLine([]), { code: 'FW_ERR_INVALID_OPTION' });
  });
});

describe('environmentFileLine', () => {
  const VALUES = ['plain', 'with space', 'q"uote', "it's", 'back\\slash', 'dollar $HOME ${X}', 'tick `id`', '#hash'];

  it('reads back exactly in a POSIX shell (the same quoting systemd takes)', () => {
    const text = VALUES.map((value, i) => environmentFileLine(`V${i}`, value)).join('\n');
    const script = `set -a\n${text}\nfor i in ${VALUES.map((_, i) => i).join(' ')}; do eval "printf '%s\\0' \\"\\$V$i\\""; done`;
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), VALUES);
  });

  it('refuses a bad name or a line break with FW_ERR_INVALID_OPTION', () => {
    assert.throws(() => environmentFileLine('1X', 'v'), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => environmentFileLine('A-B', 'v'), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => environmentFileLine('X', 'a\nB=c'), { code: 'FW_ERR_INVALID_OPTION' });
    assert.throws(() => environmentFileLine('X', 'a\rb'), { code: 'FW_ERR_INVALID_OPTION' });
  });
});
