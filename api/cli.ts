#!/usr/bin/env node
// `vmledger`: one binary for the main job (`serve`) and the tools of usage consumers and auditors.
import { HELP, UsageError, runCommand } from './cli/commands.js';

const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  // The main job installs its own signal handlers and exits through them.
  await import('./main.js');
} else {
  // A reader that goes away (`| head`) ends the command; the write that failed reports it where it is awaited.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const abort = new AbortController();
  process.once('SIGTERM', () => abort.abort());
  process.once('SIGINT', () => abort.abort());
  try {
    process.exitCode = await runCommand(argv, { stdout: process.stdout, stdoutFd: process.stdout.fd, stderr: process.stderr, env: process.env, signal: abort.signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
      process.exitCode = 0;
    } else if (error instanceof UsageError) {
      process.stderr.write(error.message === '' ? HELP : `vmledger: ${error.message}\n\n${HELP}`);
      process.exitCode = error.message === '' ? 0 : 2;
    } else {
      process.stderr.write(`vmledger: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}
