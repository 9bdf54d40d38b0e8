import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';

// What only the SQLite store promises, beyond the shared conformance suite.
describe('SqliteEventStore', () => {
  let dir: string;
  let path: string;
  const stores: SqliteEventStore[] = [];
  const open = () => {
    const store = SqliteEventStore.open(path, { pollIntervalMs: 10 });
    stores.push(store);
    return store;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-sqlite-'));
    path = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const event = (type = 'A', id: string = randomUUID()) => ({ id, type, data: { type } });

  it('group-commits the appends of one tick in a single transaction', async () => {
    const store = open();
    await Promise.all(Array.from({ length: 64 }, (_, i) => store.append(`group-${i}`, [event()], 'no_stream')));
    const all = await store.readAll();
    expect(all).toHaveLength(64);
    // One transaction stamps one commit time on every event it wrote.
    expect(new Set(all.map((e) => e.recordedAt)).size).toBe(1);
  });

  it('deduplicates event ids per stream, as EventStoreDB does: another stream may reuse an id', async () => {
    const store = open();
    const shared = randomUUID();
    await store.append('owner-1', [event('A', shared)], 'no_stream');
    await store.append('other-1', [event('B', shared)], 'no_stream');
    expect((await store.readAll()).map((e) => [e.stream, e.id])).toEqual([
      ['owner-1', shared],
      ['other-1', shared],
    ]);
  });

  it('recognises a repeated any-append among the stream\'s recent events', async () => {
    const store = open();
    const batch = [event('A'), event('B')];
    const first = await store.append('recent-1', batch, 'any');
    for (let i = 0; i < 50; i++) await store.append('recent-1', [event('Later')], 'any');
    expect(await store.append('recent-1', batch, 'any')).toEqual(first);
    expect(await store.readStream('recent-1')).toHaveLength(52);
  });

  it('keeps acknowledged events across a reopen', async () => {
    const first = open();
    await first.append('durable-1', [event('A'), event('B')], 'no_stream');
    await first.close();
    const second = open();
    expect((await second.readStream('durable-1')).map((e) => e.type)).toEqual(['A', 'B']);
  });

  it('delivers to a live subscription what another connection to the same file appends', async () => {
    const reader = open();
    const writer = open();
    const subscription = reader.subscribe({ fromPosition: 'end' });
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ kind: 'caught_up', position: 0 });
    await writer.append('elsewhere-1', [event('FromAnotherProcess')], 'no_stream');
    const next = await iterator.next();
    expect(next.value).toMatchObject({ kind: 'event', event: { type: 'FromAnotherProcess', position: 1 } });
    await subscription.close();
  });

  it('checks expected revisions against what another connection to the same file wrote', async () => {
    const a = open();
    const b = open();
    await a.append('shared-1', [event('A0')], 'no_stream');
    await b.append('shared-1', [event('B1')], 0);
    // A last wrote revision 0 itself; it must not trust that memory now that B has written.
    await expect(a.append('shared-1', [event('A-stale')], 0)).rejects.toMatchObject({ actual: 1 });
    expect((await a.append('shared-1', [event('A2')], 1)).revision).toBe(2);
    expect((await b.append('shared-1', [event('B3')], 2)).positions).toEqual([4]);
    expect((await a.readStream('shared-1')).map((e) => [e.revision, e.position, e.type])).toEqual([
      [0, 1, 'A0'],
      [1, 2, 'B1'],
      [2, 3, 'A2'],
      [3, 4, 'B3'],
    ]);
  });

  it('indexes streams behind the log: once writes pause, and at once after a long run of writes', async () => {
    const store = open();
    const indexed = () => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM stream_index').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await store.append('paused-1', Array.from({ length: 10 }, () => event()), 'no_stream');
    expect(indexed()).toBe(0);
    const deadline = Date.now() + 5_000;
    while (indexed() < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(indexed()).toBe(10);

    await store.append('long-1', Array.from({ length: 5_000 }, () => event()), 'no_stream');
    expect(indexed()).toBe(5_010);
    expect((await store.readStream('long-1', { fromRevision: 4_998 })).map((e) => e.revision)).toEqual([4_998, 4_999]);
  });

  it('opens a file whose stream index was written inline with the log, and moves the index behind it', async () => {
    const old = new Database(path);
    old.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL, id TEXT NOT NULL,
      type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL);
      CREATE UNIQUE INDEX events_by_stream ON events (stream, revision);`);
    const insert = old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    ['Old0', 'Old1'].forEach((type, revision) => insert.run(revision + 1, 'legacy-1', revision, randomUUID(), type, '{}', '{}', '2026-01-01T00:00:00.000Z'));
    old.close();

    const store = open();
    expect((await store.readStream('legacy-1')).map((e) => e.type)).toEqual(['Old0', 'Old1']);
    await expect(store.append('legacy-1', [event('Stale')], 0)).rejects.toMatchObject({ actual: 1 });
    expect(await store.append('legacy-1', [event('New2')], 1)).toEqual({ revision: 2, positions: [3] });
    await store.close();
    // The moved index and the one built behind the log since meet without a gap or an overlap.
    const db = new Database(path, { readonly: true });
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all();
    const indexed = db.prepare('SELECT revision, position FROM stream_index ORDER BY revision').all();
    const state = db.prepare('SELECT indexed_through FROM stream_index_state').get();
    db.close();
    expect(indexes).toEqual([]);
    expect(indexed).toEqual([0, 1, 2].map((revision) => ({ revision, position: revision + 1 })));
    expect(state).toEqual({ indexed_through: 3 });
  });

  it('says once when indexing fails, and keeps reading the stream right from memory meanwhile', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const store = open();
      await store.append('clash-1', [event('A'), event('B')], 'no_stream');
      // Something else wrote the index entry the next pass must write.
      const db = new Database(path);
      db.prepare("INSERT INTO stream_index (stream, revision, position) VALUES ('clash-1', 1, 99)").run();
      db.close();
      const deadline = Date.now() + 5_000;
      while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/indexing streams failed, will retry: .*UNIQUE/);
      expect((await store.readStream('clash-1')).map((e) => e.type)).toEqual(['A', 'B']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('reads a stream written around the store (a revision twice, say) in revision order, as it is', async () => {
    const store = open();
    await store.append('tampered-1', [event('R0'), event('R1'), event('R2')], 'no_stream');
    const db = new Database(path);
    db.prepare('INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (4, ?, 1, ?, ?, ?, ?, ?)').run(
      'tampered-1', randomUUID(), 'R1bis', '{}', '{}', '2026-01-01T00:00:00.000Z',
    );
    db.close();
    const reader = open();
    const types = async (options: Parameters<SqliteEventStore['readStream']>[1]) => (await reader.readStream('tampered-1', options)).map((e) => e.type);
    expect(await types({})).toEqual(['R0', 'R1', 'R1bis', 'R2']);
    expect(await types({ fromRevision: 1, maxCount: 2 })).toEqual(['R1', 'R1bis']);
    expect(await types({ direction: 'backwards', maxCount: 3 })).toEqual(['R2', 'R1', 'R1bis']);
  });

  it('refuses appends after close', async () => {
    const store = open();
    await store.close();
    await expect(store.append('closed-1', [event()], 'any')).rejects.toThrow('closed');
  });
});
