// `vmledger audit verify`: the log's chains and revisions, then the read models against a rebuild.
// Prints each problem as it is found and a summary; passes only when both parts find nothing.
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { Projection } from '../../projections/projection.js';
import { checkLogChains, type ChainReport, type LogProblem } from './chain-check.js';
import { checkReadModels, type ReadModelCheck } from './read-model-check.js';
import type { RowDifference } from './read-model-diff.js';

export interface VerifyOptions {
  readonly store: EventStore;
  /** Whether the store numbers its events 1, 2, 3… (SQLite): then a hole in the positions is a removed event. */
  readonly gapFreePositions: boolean;
  /** Where the live read model lives; undefined skips the read-model comparison. */
  readonly readModelDirectory: string | undefined;
  readonly projections: readonly Projection[];
  readonly write: (line: string) => void;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly chain: ChainReport;
  readonly readModels: ReadModelCheck;
}

export async function verifyLog(options: VerifyOptions): Promise<VerifyResult> {
  const { write } = options;
  const chain = await checkLogChains(options.store, { gapFreePositions: options.gapFreePositions, onProblem: (p) => write(describeProblem(p)) });
  write(`log: ${chain.events} events in ${chain.streams} streams, ${chain.problems.length} problem(s); chain digest ${chain.digest}`);
  // Positions are opaque tokens on both stores; only SQLite's are 1, 2, 3…, where a hole is a removed event.
  write(
    options.gapFreePositions
      ? 'log positions: checked for holes (SQLite numbers events 1, 2, 3…)'
      : 'log positions: not checked for holes (EventStoreDB positions are sparse byte offsets); removals show in the streams\' revisions and chains',
  );

  // A tampered payload can make a projection throw while the read model is rebuilt; that is a finding
  // to report beside the log's, not a reason to lose the report.
  let rebuildFailed = false;
  let readModels: ReadModelCheck;
  try {
    readModels =
      options.readModelDirectory === undefined
        ? { kind: 'skipped', reason: 'no read-model directory given' }
        : await checkReadModels(options.store, options.readModelDirectory, options.projections, (d) => write(describeDifference(d)));
  } catch (error) {
    rebuildFailed = true;
    write(`FAIL read-model: rebuilding it from the log failed: ${error instanceof Error ? error.message : String(error)}`);
    readModels = { kind: 'skipped', reason: 'the rebuild failed' };
  }
  if (readModels.kind === 'skipped') {
    write(`read model: not compared (${readModels.reason})`);
  } else if (readModels.kind === 'unbuilt') {
    write(`FAIL read-model: not compared, the log could not be projected up to position ${readModels.position}: ${readModels.reason}`);
  } else {
    if (readModels.truncated) {
      write(`FAIL read-model: the live read model has applied up to position ${readModels.position}, but the log ends at ${readModels.head} (events removed from its end)`);
    }
    write(
      `read model: ${readModels.diff.tables} tables, ${readModels.diff.rows} rows compared at position ${Math.min(readModels.position, readModels.head)}, ` +
        `${readModels.diff.differences.length} difference(s)`,
    );
  }
  const readModelsOk =
    !rebuildFailed && (readModels.kind === 'skipped' || (readModels.kind === 'compared' && !readModels.truncated && readModels.diff.differences.length === 0));
  const ok = chain.problems.length === 0 && readModelsOk;
  write(ok ? 'PASS' : 'FAIL');
  return { ok, chain, readModels };
}

export function describeProblem(problem: LogProblem): string {
  const where = problem.stream === undefined ? `position ${problem.position}` : `${problem.stream} revision ${problem.revision} (position ${problem.position})`;
  return `FAIL log ${problem.kind} at ${where}: ${problem.message}`;
}

export function describeDifference(difference: RowDifference): string {
  const show = (row: RowDifference['live']) => (row === null ? 'missing' : JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
  return `FAIL read-model ${difference.table} ${JSON.stringify(difference.key)}: live ${show(difference.live)}, rebuilt ${show(difference.rebuilt)}`;
}
