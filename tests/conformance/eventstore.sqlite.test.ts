import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventStoreConformance } from '../../adapters/eventstore/conformance.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';

describeEventStoreConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-conformance-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 20, readBatchSize: 64 });
  return {
    store,
    gapFreePositions: true,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
