// Where the scale suite's logs are kept between runs: one directory per size and generator version,
// `$BENCH_SCALE_DIR` or `$TMPDIR/vmledger-bench-scale`, named `<instances>-<hash>` where the hash is
// of the generator's source and of the store's row format. A log is built once (scale-generate.ts, in a child process like the
// main job) into a scratch directory that is renamed into place only when complete, so a build cut
// short is never taken for a log; a changed generator gets a new directory (delete the old ones).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/child-process.js';

const GENERATOR = join(PROJECT_ROOT, 'tests', 'bench', 'scale-generate.ts');
/** What a kept log depends on: the generator, and how the store lays rows out on disk (a log of old rows would be measured in the old layout). */
const SOURCES = [
  GENERATOR,
  join(PROJECT_ROOT, 'tests', 'bench', 'scale-admin-key.ts'),
  join(PROJECT_ROOT, 'adapters', 'eventstore', 'sqlite', 'row-codec.ts'),
  join(PROJECT_ROOT, 'adapters', 'eventstore', 'sqlite', 'dictionaries.ts'),
];

export function scaleLogRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_SCALE_DIR || join(tmpdir(), 'vmledger-bench-scale');
}

export function generatorHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

/** The data directory of a log of `instances` instances, built first when there is none; and how long the build took (0: reused). */
export async function scaleLog(instances: number): Promise<{ dir: string; builtMs: number }> {
  const root = scaleLogRoot();
  const dir = join(root, `${instances}-${generatorHash()}`);
  if (existsSync(dir)) return { dir, builtMs: 0 };
  mkdirSync(root, { recursive: true });
  const scratch = `${dir}.building-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  process.stderr.write(`building the scale log of ${instances.toLocaleString('en-US')} instances in ${dir}…\n`);
  const started = performance.now();
  try {
    execFileSync(process.execPath, ['--import', 'tsx', GENERATOR, scratch, String(instances)], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  renameSync(scratch, dir);
  return { dir, builtMs: performance.now() - started };
}
