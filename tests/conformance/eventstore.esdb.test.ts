import { describe } from 'vitest';
import { describeEventStoreConformance } from '../../adapters/eventstore/conformance.js';
import { EsdbEventStore } from '../../adapters/eventstore/esdb/esdb-event-store.js';

// The suite needs a running EventStoreDB; each test writes to its own random category, so a shared,
// non-empty server will do. Without one it is skipped, and the skip's title says what it needs.
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING ?? '';

describe.skipIf(connectionString === '')('EventStoreDB (needs EVENTSTORE_CONNECTION_STRING; see README)', () => {
  describeEventStoreConformance('eventstoredb', async () => {
    const store = EsdbEventStore.connect(connectionString);
    return { store, gapFreePositions: false, dispose: () => store.close() };
  });
});
