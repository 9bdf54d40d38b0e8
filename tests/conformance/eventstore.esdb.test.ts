import { describe, expect, it } from 'vitest';
import { describeEventStoreConformance } from '../../adapters/eventstore/conformance.js';
import { EsdbEventStore } from '../../adapters/eventstore/esdb/esdb-event-store.js';

// The suite needs a running EventStoreDB; each test writes to its own random category, so a shared,
// non-empty server will do.
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING ?? '';

if (connectionString !== '') {
  describeEventStoreConformance('eventstoredb', async () => {
    const store = EsdbEventStore.connect(connectionString);
    return { store, gapFreePositions: false, dispose: () => store.close() };
  });
} else {
  describe('event store conformance: eventstoredb', () => {
    // A passing test rather than a skip, so the report says why the suite did not run.
    it('EventStoreDB conformance needs EVENTSTORE_CONNECTION_STRING (see README)', () => {
      expect(connectionString).toBe('');
    });
  });
}
