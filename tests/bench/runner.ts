// Runs the benchmark suites one after another. Each figure is printed the moment a suite reports it,
// and a suite that fails is reported on stderr while the next ones still run: one broken suite (a
// broker that does not start, a testbed that is missing) costs its own figures only.
import { figurePrinter, type Figure, type Output } from './report.js';

export interface SuiteContext {
  /** How many rounds each interleaved measurement takes. */
  readonly rounds: number;
  /** Hands over a figure as soon as it is measured. */
  report(figure: Figure): void;
}

export interface Suite {
  /** What `--only` names it by. */
  readonly id: string;
  readonly title: string;
  run(context: SuiteContext): Promise<void>;
}

export interface BenchOptions {
  readonly json: boolean;
  /** Suite ids to run, in the suites' own order; empty: all. */
  readonly only: readonly string[];
  readonly rounds: number;
}

export const DEFAULT_ROUNDS = 5;

export class BenchUsageError extends Error {}

/** `--json`, `--only <id>[,<id>…]` (repeatable), `--rounds <n>`. */
export function parseBenchArgs(argv: readonly string[], suiteIds: readonly string[]): BenchOptions {
  let json = false;
  let rounds = DEFAULT_ROUNDS;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === '') throw new BenchUsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--json') json = true;
    else if (flag === '--only') only.push(...value().split(',').map((id) => id.trim()).filter((id) => id !== ''));
    else if (flag === '--rounds') {
      const text = value();
      rounds = Number(text);
      if (!Number.isInteger(rounds) || rounds < 1) throw new BenchUsageError(`--rounds must be a whole number of at least 1, got ${JSON.stringify(text)}`);
    } else throw new BenchUsageError(`unknown argument ${JSON.stringify(arg)}; use --json, --only <${suiteIds.join('|')}>[,…], --rounds <n>`);
  }
  const unknown = only.filter((id) => !suiteIds.includes(id));
  if (unknown.length > 0) throw new BenchUsageError(`no suite ${unknown.map((id) => JSON.stringify(id)).join(', ')}; the suites are ${suiteIds.join(', ')}`);
  return { json, only, rounds };
}

/** Runs the selected suites; resolves to the ids of those that failed (none: every figure was measured). */
export async function runSuites(suites: readonly Suite[], options: BenchOptions, out: { readonly stdout: Output; readonly stderr: Output }): Promise<string[]> {
  const printer = figurePrinter(options.json, out.stdout);
  const failed: string[] = [];
  for (const suite of suites) {
    if (options.only.length > 0 && !options.only.includes(suite.id)) continue;
    out.stderr.write(`running ${suite.title} benchmarks (${suite.id})…\n`);
    try {
      await suite.run({ rounds: options.rounds, report: (figure) => printer.print(figure) });
    } catch (error) {
      failed.push(suite.id);
      out.stderr.write(`${suite.id} benchmarks failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }
  return failed;
}
