// Node child processes the tests and benchmarks run the application in (the main job, an agent, a
// bare express server), each started and considered running once it prints a ready line.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

export interface Launched {
  readonly child: ChildProcess;
  /** The signal that ended it, or its exit code. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` (SIGTERM by default) unless it has ended, and waits until it has. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs `node ARGS` in the project root and resolves once its stdout or stderr matches `ready` (with
 * the match). A process that exits first, or is not ready within `timeoutMs`, fails the launch with
 * its output; the latter is killed.
 */
export function launch(args: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 60_000): Promise<{ process: Launched; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const launched: Launched = {
    child,
    exited,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} was not ready within ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ process: launched, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`node ${args.join(' ')} exited before it was ready: ${output}`));
    });
  });
}

/** The main job (api/main.ts) from the sources; ready once it prints where it listens (the match's group 1 is its URL). */
export function launchMainJob(env: NodeJS.ProcessEnv, nodeOptions: readonly string[] = [], timeoutMs?: number): Promise<{ process: Launched; url: string }> {
  return launch([...nodeOptions, '--import', 'tsx', join(PROJECT_ROOT, 'api', 'main.ts')], { PORT: '0', HOST: '127.0.0.1', ...env }, /listening on (http:\/\/\S+\/graphql)/, timeoutMs).then(
    ({ process, match }) => ({ process, url: match[1]! }),
  );
}

/** Polls `probe` until it gives a value, for at most `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
