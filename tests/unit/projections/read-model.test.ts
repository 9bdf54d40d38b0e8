import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { Projection } from '../../../projections/projection.js';
import { ReadModel } from '../../../projections/read-model.js';

// Counts events per stream: double-applying an event would show as a count above the stream's length.
const counts = (version = 1): Projection => ({
  name: 'counts',
  version,
  schema: 'CREATE TABLE counts (stream TEXT PRIMARY KEY, n INTEGER NOT NULL, last_type TEXT NOT NULL)',
  handle(event, db) {
    db.run(
      `INSERT INTO counts (stream, n, last_type) VALUES (?, 1, ?)
       ON CONFLICT (stream) DO UPDATE SET n = n + 1, last_type = excluded.last_type`,
      event.stream,
      event.type,
    );
  },
});

const usageOnly: Projection = {
  name: 'usage_types',
  version: 1,
  schema: 'CREATE TABLE usage_types (position INTEGER PRIMARY KEY, type TEXT NOT NULL)',
  filter: { eventTypePrefixes: ['usage.'] },
  handle(event, db) {
    db.run('INSERT INTO usage_types (position, type) VALUES (?, ?)', event.position, event.type);
  },
};

describe('ReadModel', () => {
  let dir: string;
  let store: SqliteEventStore;
  const models: ReadModel[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-readmodel-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
  });
  afterEach(async () => {
    for (const model of models.splice(0)) await model.close().catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (projections: Projection[], batchSize?: number) => {
    const model = await ReadModel.open({ store, projections, directory: dir, ...(batchSize ? { batchSize } : {}) });
    models.push(model);
    return model;
  };
  const append = (stream: string, ...types: string[]) =>
    store.append(stream, types.map((type) => ({ id: randomUUID(), type, data: {} })), 'any');
  const rows = (model: ReadModel) => model.db.prepare('SELECT stream, n, last_type FROM counts ORDER BY stream').all();

  it('projects history and live events, and reports the position it reached', async () => {
    await append('instance-a', 'InstanceDeployed', 'usage.VM.CREATE');
    const model = await open([counts(), usageOnly]);
    const live = await append('instance-b', 'InstanceDeployed', 'usage.VM.CREATE', 'usage.VOLUME.CREATE');
    expect(await model.waitForPosition(live.positions.at(-1)!, 5000)).toBe(true);
    expect(model.position).toBe(5);
    expect(rows(model)).toEqual([
      { stream: 'instance-a', n: 2, last_type: 'usage.VM.CREATE' },
      { stream: 'instance-b', n: 3, last_type: 'usage.VOLUME.CREATE' },
    ]);
    expect(model.db.prepare('SELECT type FROM usage_types ORDER BY position').pluck().all()).toEqual([
      'usage.VM.CREATE',
      'usage.VM.CREATE',
      'usage.VOLUME.CREATE',
    ]);
  });

  it('resumes from its checkpoint after a restart without applying an event twice', async () => {
    await append('instance-a', 'A', 'B');
    const first = await open([counts()], 1);
    await first.waitForPosition(2, 5000);
    await first.close();
    models.splice(models.indexOf(first), 1);
    await append('instance-a', 'C');
    const second = await open([counts()]);
    expect(await second.waitForPosition(3, 5000)).toBe(true);
    expect(rows(second)).toEqual([{ stream: 'instance-a', n: 3, last_type: 'C' }]);
  });

  it('rebuilds from position 0 into a fresh database when a projection version changes', async () => {
    await append('instance-a', 'A', 'B', 'C');
    const v1 = await open([counts(1)]);
    await v1.waitForPosition(3, 5000);
    await v1.close();
    models.splice(models.indexOf(v1), 1);
    const before = readdirSync(dir).filter((f) => f.startsWith('readmodel-') && f.endsWith('.sqlite'));
    const v2 = await open([counts(2)]);
    // The rebuild has caught up to the head before open() returns.
    expect(v2.position).toBe(3);
    expect(rows(v2)).toEqual([{ stream: 'instance-a', n: 3, last_type: 'C' }]);
    const after = readdirSync(dir).filter((f) => f.startsWith('readmodel-') && f.endsWith('.sqlite'));
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
  });

  it('stops on a failing projection instead of skipping the event, and keeps its checkpoint', async () => {
    const failing: Projection = {
      name: 'failing',
      version: 1,
      schema: 'CREATE TABLE failing (x INTEGER)',
      handle(event) {
        if (event.type === 'Poison') throw new Error('projection bug');
      },
    };
    const errors: unknown[] = [];
    const model = await ReadModel.open({ store, projections: [counts(), failing], directory: dir, onError: (e) => errors.push(e) });
    models.push(model);
    await append('instance-a', 'A');
    expect(await model.waitForPosition(1, 5000)).toBe(true);
    await append('instance-a', 'Poison');
    expect(await model.waitForPosition(2, 2000)).toBe(false);
    expect(model.position).toBe(1);
    expect((model.error as Error).message).toBe('projection bug');
    expect(errors).toHaveLength(1);
    // The counts projection's row for the failed batch was rolled back with it.
    expect(rows(model)).toEqual([{ stream: 'instance-a', n: 1, last_type: 'A' }]);
  });

  it('keeps an in-memory read model for scratch use', async () => {
    await append('instance-a', 'A');
    const model = await ReadModel.open({ store, projections: [counts()], directory: ':memory:' });
    models.push(model);
    expect(await model.waitForPosition(1, 5000)).toBe(true);
    expect(rows(model)).toEqual([{ stream: 'instance-a', n: 1, last_type: 'A' }]);
  });
});
