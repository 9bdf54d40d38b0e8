// sshd runs every exec request through the remote user's login shell (`$SHELL -c <command>`), so an
// argv has to become one command line that the shell splits back into exactly the same words. Inside
// single quotes a POSIX shell expands nothing at all — no `$(...)`, no globs, no backslashes, and a
// newline is just a character — so every argument is single-quoted; a single quote itself cannot
// occur inside single quotes and is written as close-quote, escaped quote, reopen ('\'').

/** One argument as a word the remote shell reads back verbatim. */
export function quoteShellArgument(argument: string): string {
  // A C string (argv, environment, exec) cannot carry NUL: the remote program would see a shorter word.
  if (argument.includes('\0')) throw new RangeError('a shell argument cannot contain a NUL character');
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** The command line that runs `argv` on the remote side, every word quoted, the program included. */
export function shellCommandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new RangeError('a remote command needs at least the program to run');
  return argv.map(quoteShellArgument).join(' ');
}
