import { describeEventStoreConformance } from '../../../../adapters/eventstore/conformance.js';
import { EsdbEventStore } from '../../../../adapters/eventstore/esdb/esdb-event-store.js';
import { FakeEsdbServer, type ServerVersion } from './fake-esdb.js';

// The shared suite against the adapter over the scripted server, one run per server version the
// adapter supports: the fake is checked against the promises the real server suite checks.
for (const version of ['22.6', '22.10', '23.6', '23.10', '24.10'] satisfies ServerVersion[]) {
  describeEventStoreConformance(`eventstoredb adapter over a scripted ${version} server`, async () => {
    const store = EsdbEventStore.withClient(new FakeEsdbServer(version).client());
    return { store, gapFreePositions: false, dispose: () => store.close() };
  });
}
