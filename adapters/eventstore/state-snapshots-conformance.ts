// The one conformance suite every StateSnapshotStore passes. A durable store also shows that what it
// was told survives a reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateSnapshot, StateSnapshotStore } from './state-snapshots.js';

export interface StateSnapshotStoreTarget {
  readonly store: StateSnapshotStore;
  /** A fresh instance over the same storage, after the first is closed; absent for stores that keep nothing. */
  readonly reopen?: () => Promise<StateSnapshotStore>;
  readonly dispose: () => Promise<void>;
}

const snapshot = (overrides: Partial<StateSnapshot> = {}): StateSnapshot => ({
  stream: 'host-h1',
  kind: 'host',
  version: 1,
  revision: 499,
  eventId: '9b2f7a4e-0c1d-4e5f-8a6b-7c8d9e0f1a2b',
  state: { kind: 'host', reservations: [{ instanceId: 'i-1', memory: 512 }], hostTags: [], url: null },
  ...overrides,
});

export function describeStateSnapshotStoreConformance(label: string, open: () => Promise<StateSnapshotStoreTarget>): void {
  describe(`state snapshot store conformance: ${label}`, () => {
    let target: StateSnapshotStoreTarget;
    let store: StateSnapshotStore;
    beforeEach(async () => {
      target = await open();
      store = target.store;
    });
    afterEach(async () => {
      await store.close();
      await target.dispose();
    });

    it('has no snapshot of a stream it was never given one of', async () => {
      expect(await store.read('host-h1', 'host')).toBeUndefined();
    });

    it('gives back what was written, JSON and all', async () => {
      await store.write(snapshot());
      expect(await store.read('host-h1', 'host')).toEqual(snapshot());
    });

    it('keeps the last snapshot written for a stream and kind, even one at a lower revision or of another version', async () => {
      await store.write(snapshot({ revision: 999 }));
      await store.write(snapshot({ revision: 1499, state: { newer: true } }));
      expect(await store.read('host-h1', 'host')).toEqual(snapshot({ revision: 1499, state: { newer: true } }));
      // A log restored from an older backup grows again over lower revisions: its snapshot replaces the stale one.
      await store.write(snapshot({ revision: 499, eventId: '0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d', version: 2 }));
      expect(await store.read('host-h1', 'host')).toEqual(snapshot({ revision: 499, eventId: '0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d', version: 2 }));
    });

    it('keeps other streams and other kinds apart', async () => {
      await store.write(snapshot());
      await store.write(snapshot({ stream: 'host-h2', revision: 7 }));
      await store.write(snapshot({ kind: 'host-usage', revision: 3, state: ['other'] }));
      expect((await store.read('host-h1', 'host'))?.revision).toBe(499);
      expect((await store.read('host-h2', 'host'))?.revision).toBe(7);
      expect(await store.read('host-h1', 'host-usage')).toEqual(snapshot({ kind: 'host-usage', revision: 3, state: ['other'] }));
      expect(await store.read('host-h3', 'host')).toBeUndefined();
      expect(await store.read('host-h2', 'host-usage')).toBeUndefined();
    });

    it('is not changed through an object it was given or gave back', async () => {
      const written = snapshot({ state: { list: [1, 2] } });
      await store.write(written);
      (written.state as { list: number[] }).list.push(3);
      const read = await store.read('host-h1', 'host');
      (read!.state as { list: number[] }).list.push(4);
      expect((await store.read('host-h1', 'host'))?.state).toEqual({ list: [1, 2] });
    });

    it('keeps what it was told across a reopen, when it is durable', async () => {
      if (!target.reopen) return;
      await store.write(snapshot());
      await store.close();
      store = await target.reopen();
      expect(await store.read('host-h1', 'host')).toEqual(snapshot());
    });
  });
}
