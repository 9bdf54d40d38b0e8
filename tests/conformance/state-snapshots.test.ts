import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStateSnapshotStoreConformance } from '../../adapters/eventstore/state-snapshots-conformance.js';
import { MemoryStateSnapshotStore } from '../../adapters/eventstore/state-snapshots.js';
import { SqliteStateSnapshotStore, STATE_SNAPSHOTS_FILE_NAME } from '../../adapters/eventstore/sqlite-state-snapshots.js';

describeStateSnapshotStoreConformance('memory', async () => ({ store: new MemoryStateSnapshotStore(), dispose: async () => undefined }));

describeStateSnapshotStoreConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-state-snapshots-'));
  const path = join(dir, STATE_SNAPSHOTS_FILE_NAME);
  return {
    store: SqliteStateSnapshotStore.open(path),
    reopen: async () => SqliteStateSnapshotStore.open(path),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
