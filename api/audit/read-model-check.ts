// Audit (a): rebuilds every read model from position 0 into a scratch database, up to the position
// the live read model has reached, and compares the two row by row. A difference means the live
// rows were changed outside the projections, or the log was changed under them.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { Projection } from '../../projections/projection.js';
import { ReadModel, checkpointOf, readModelFile } from '../../projections/read-model.js';
import { logUpTo } from './bounded-store.js';
import { diffDatabases, type RowDifference, type TableDiff } from './read-model-diff.js';

export type ReadModelCheck =
  | { readonly kind: 'skipped'; readonly reason: string }
  /** The log could not be projected up to the live read model's position (e.g. a corrupt event). */
  | { readonly kind: 'unbuilt'; readonly position: number; readonly reason: string }
  | {
      readonly kind: 'compared';
      readonly file: string;
      /** The live read model's checkpoint, which the scratch rebuild stops at. */
      readonly position: number;
      readonly head: number;
      /** Set when the live read model has seen positions the log no longer holds. */
      readonly truncated: boolean;
      readonly diff: TableDiff;
    };

export async function checkReadModels(
  store: EventStore,
  directory: string,
  projections: readonly Projection[],
  onDifference?: (difference: RowDifference) => void,
): Promise<ReadModelCheck> {
  const file = readModelFile(directory, projections);
  if (!existsSync(file)) return { kind: 'skipped', reason: `no live read model for these projections at ${file}` };
  const live = new Database(file, { readonly: true, fileMustExist: true });
  const scratch = mkdtempSync(join(tmpdir(), 'vmledger-verify-'));
  try {
    // One read transaction: a running server may go on committing, the comparison sees one snapshot.
    live.exec('BEGIN');
    const position = checkpointOf(live);
    const head = await store.headPosition();
    const rebuiltFile = join(scratch, 'rebuilt.sqlite');
    try {
      await ReadModel.rebuild({ store: logUpTo(store, Math.min(position, head)), projections, directory: scratch }, rebuiltFile);
    } catch (error) {
      // A failure to be reported, not to end the audit: the log check has already said where the log is broken.
      return { kind: 'unbuilt', position, reason: error instanceof Error ? error.message : String(error) };
    }
    const rebuilt = new Database(rebuiltFile, { readonly: true, fileMustExist: true });
    try {
      const diff = diffDatabases(live, rebuilt, onDifference);
      return { kind: 'compared', file, position, head, truncated: position > head, diff };
    } finally {
      rebuilt.close();
    }
  } finally {
    if (live.inTransaction) live.exec('COMMIT');
    live.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
