import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../../adapters/eventstore/esdb/esdb-event-store.js';
import { verifyLog } from '../../../api/audit/verify.js';
import { FakeEsdbServer } from '../eventstore/esdb/fake-esdb.js';

// `audit verify` over EventStoreDB (a scripted server: tests/unit/eventstore/esdb/fake-esdb.ts), whose
// positions are sparse byte offsets: the hole check is SQLite's alone, the chains and revisions are not.
describe('audit verify on EventStoreDB', () => {
  it('passes a sound log with sparse positions and says the positions were not checked for holes', async () => {
    const server = new FakeEsdbServer('23.10');
    const store = EsdbEventStore.withClient(server.client());
    try {
      await store.append('instance-1', [{ id: randomUUID(), type: 'A', data: {} }, { id: randomUUID(), type: 'B', data: {} }], 'no_stream');
      server.writeSystemRecord('$stats-127.0.0.1:2113', '$statsCollected');
      await store.append('instance-1', [{ id: randomUUID(), type: 'C', data: {} }], 1);
      const lines: string[] = [];
      const result = await verifyLog({ store, gapFreePositions: false, readModelDirectory: undefined, projections: [], write: (line) => lines.push(line) });
      expect(result.ok).toBe(true);
      expect(lines).toContain(
        "log positions: not checked for holes (EventStoreDB positions are sparse byte offsets); removals show in the streams' revisions and chains",
      );
    } finally {
      await store.close();
    }
  });

  it('still reports an event removed from a stream, by its revisions', async () => {
    const server = new FakeEsdbServer('23.10');
    const store = EsdbEventStore.withClient(server.client());
    try {
      const written = await store.append('instance-2', ['A', 'B', 'C'].map((type) => ({ id: randomUUID(), type, data: {} })), 'no_stream');
      server.scavenge((record) => record.position === written.positions[1]);
      const lines: string[] = [];
      const result = await verifyLog({ store, gapFreePositions: false, readModelDirectory: undefined, projections: [], write: (line) => lines.push(line) });
      expect(result.ok).toBe(false);
      expect(result.chain.problems.map((p) => [p.kind, p.stream, p.revision])).toEqual([['revision-gap', 'instance-2', 1]]);
    } finally {
      await store.close();
    }
  });
});
