// The main job keeps its state snapshots in the data directory: a host whose stream has grown past
// a snapshot's worth of events gets one when a deployment next decides on it, and the deployment
// is none the different for it.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStateSnapshotStore, STATE_SNAPSHOTS_FILE_NAME } from '../../adapters/eventstore/sqlite-state-snapshots.js';
import { hostSnapshotting, hostStream, reservationOf, type HostAggregateState } from '../../domain/host/index.js';
import { deployed, startHarness, type Harness } from './harness.js';

describe('state snapshots in the main job', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('snapshots a long host stream in snapshots.sqlite when a deployment decides on it', async () => {
    const hostId = h.demo.hostIds[0]!;
    const stream = hostStream(hostId);
    const [last] = await h.store.readStream(stream, { direction: 'backwards', maxCount: 1 });
    // A host that has seen a lot: 600 tag updates, appended as another process would.
    const tags = Array.from({ length: 600 }, (_, i) => ({ id: randomUUID(), type: 'HostTagsUpdated', data: { hostId, hostTags: [`t${i}`] } }));
    await h.store.append(stream, tags, last!.revision);

    const vm = await deployed(h, h.admin, { hostId });

    const store = SqliteStateSnapshotStore.open(join(h.dataDirectory, STATE_SNAPSHOTS_FILE_NAME));
    try {
      const snapshot = await store.read(stream, hostSnapshotting.kind);
      expect(snapshot).toBeDefined();
      expect(snapshot!.revision).toBeGreaterThanOrEqual(last!.revision + 600);
      const stored = await h.store.readStream(stream, { fromRevision: snapshot!.revision, maxCount: 1 });
      expect(stored[0]?.id).toBe(snapshot!.eventId);
      const state: HostAggregateState = hostSnapshotting.fromJson(snapshot!.state);
      expect(state.kind === 'host' && state.hostTags).toEqual(['t599']);
      // Taken at the fold before the reservation or at the reservation itself; either way the deployment ran here.
      expect(vm.hostId).toBe(hostId);
      if (snapshot!.revision > last!.revision + 600) expect(state.kind === 'host' && reservationOf(state, vm.id)).toBeTruthy();
    } finally {
      await store.close();
    }
    expect(h.loggedErrors).toEqual([]);
  });
});
