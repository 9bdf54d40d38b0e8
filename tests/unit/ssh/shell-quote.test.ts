import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteShellArgument, shellCommandLine } from '../../../adapters/ssh/shell-quote.js';

// sshd runs commands through the login shell: dash and bash are the usual ones. One that is not
// installed here is a visible skip, not a test that silently disappears.
const SHELLS = ['/bin/sh', '/bin/bash'];

/** What a shell makes of a command line: the words `printf` receives, NUL-separated. */
function wordsAfterShell(argv: readonly string[], shell = '/bin/sh'): string[] {
  // A first word of our own, since printf with no arguments still prints its format once.
  const output = execFileSync(shell, ['-c', shellCommandLine(['printf', '%s\\0', 'first', ...argv])], { encoding: 'utf8' });
  return output.split('\0').slice(1, -1);
}

const HOSTILE = [
  'two words',
  "it's",
  '"double"',
  '$(touch /tmp/vmledger-quote-test-pwned)',
  '`id`',
  '${HOME}',
  'line one\nline two',
  '',
  '*',
  '~',
  '\\',
  '; exit 3',
  "'; rm -rf / #",
  '--option=value',
  '-n',
  '\t tab',
  'ünïcödé ✓',
];

describe('shell quoting', () => {
  it('single-quotes every word and escapes single quotes', () => {
    expect(quoteShellArgument('plain')).toBe("'plain'");
    expect(quoteShellArgument('')).toBe("''");
    expect(quoteShellArgument("it's")).toBe(`'it'\\''s'`);
    expect(shellCommandLine(['virsh', 'domstate', 'i-2-14-VM'])).toBe("'virsh' 'domstate' 'i-2-14-VM'");
  });

  for (const shell of SHELLS) {
    it.skipIf(!existsSync(shell))(`${shell} reads hostile arguments back verbatim, runs nothing in them and expands nothing (needs ${shell})`, () => {
      expect(wordsAfterShell(HOSTILE, shell)).toEqual(HOSTILE);
    });
  }

  it('round-trips any string without NUL through a real shell', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0')), { maxLength: 8 }), (argv) => {
        expect(wordsAfterShell(argv)).toEqual(argv);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses what no command line can carry', () => {
    expect(() => quoteShellArgument('a\0b')).toThrow(RangeError);
    expect(() => shellCommandLine([])).toThrow(RangeError);
  });
});
