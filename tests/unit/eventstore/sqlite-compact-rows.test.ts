// The SQLite log's compressed rows (row-codec.ts, dictionaries.ts): old text rows and new compressed
// ones in one file, dictionaries built as the log grows, read by connections that did not build them.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, chainContent, seal } from '../../../adapters/eventstore/hash-chain.js';
import { CorruptEventError, type EventData, type EventStore, type JsonObject, type JsonValue, type ReadAllOptions, type RecordedEvent } from '../../../adapters/eventstore/port.js';
import { dictionaryFrom, DICTIONARY_BYTES } from '../../../adapters/eventstore/sqlite/dictionaries.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { checkLogChains } from '../../../api/audit/chain-check.js';

/** The `events` table as the store created it before rows were compressed. */
const OLD_SCHEMA = `CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL, id TEXT NOT NULL,
  type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL)`;

const ACCOUNT = 'b0ec2f8d-410c-5e90-8c83-870624dc9172';
const metadataOf = (jobId: string): JsonObject => ({
  actor: { accountId: ACCOUNT, kind: 'user', role: 'ROOT_ADMIN', userId: '930d581d-328a-5e50-b314-d0366aa09620' },
  causationId: jobId,
  correlationId: jobId,
  occurredAt: new Date(Date.UTC(2026, 11, 7, 22, 48, 44, Math.floor(Math.random() * 1000))).toISOString(),
  schemaVersion: 1,
});

type JsonEvent = EventData & { readonly data: JsonValue; readonly metadata: JsonObject };

/** Events of the shapes the scale log holds most (copied from it, ids made fresh). */
function realisticEvent(i: number): JsonEvent {
  const [instanceId, jobId] = [randomUUID(), randomUUID()];
  const metadata = metadataOf(jobId);
  switch (i % 4) {
    case 0:
      return { id: randomUUID(), type: 'JobOpened', metadata, data: { accountId: ACCOUNT, cmd: 'stopVirtualMachine', createdAt: metadata.occurredAt!, instanceId, jobId, resource: { id: instanceId, type: 'VirtualMachine' } } };
    case 1:
      return { id: randomUUID(), type: 'JobSucceeded', metadata: { ...metadata, actor: { component: 'orchestrator', kind: 'system' } }, data: { completedAt: metadata.occurredAt! } };
    case 2:
      return {
        id: randomUUID(),
        type: 'usage.VM.START',
        metadata: { ...metadata, actor: { component: 'orchestrator', kind: 'system' } },
        data: {
          accountId: ACCOUNT, details: null, domainId: 'c19c489c-3970-51cc-84f2-d9edf6bc67f1', occurredAt: metadata.occurredAt!,
          offeringId: 'e1041409-1b14-4e10-a9c2-f9c24ced2e0a', resourceId: instanceId, resourceName: `scale-${i}`, resourceType: 'KVM', size: null,
          templateId: '36c1e077-3982-4ef7-a90d-b0f4666c12f5', usageVersion: 1, zoneId: 'ab278263-2418-426d-8004-597c8670de33',
        },
      };
    default:
      return {
        id: randomUUID(),
        type: 'HostCapacityReserved',
        metadata: { ...metadata, actor: { component: 'orchestrator', kind: 'system' }, causationId: 'orchestrator', correlationId: 'orchestrator' },
        data: { cpuNumber: 1, cpuSpeed: 500, hostId: '134ef6c9-2a3e-4140-bb48-849d996e24c3', instanceId, memory: 512 },
      };
  }
}

const logical = (event: RecordedEvent) => ({ stream: event.stream, revision: event.revision, position: event.position, id: event.id, type: event.type, data: event.data, metadata: event.metadata });

describe('SqliteEventStore compressed rows', () => {
  let dir: string;
  let path: string;
  const stores: SqliteEventStore[] = [];
  const open = (options: SqliteEventStoreOptions = {}) => {
    const store = SqliteEventStore.open(path, { pollIntervalMs: 10, ...options });
    stores.push(store);
    return store;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-compact-'));
    path = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** How each row is kept on disk: SQLite's storage class of its columns and the dictionary id byte. */
  function shapes(): Array<{ data: string; metadata: string; dictionary: number | null }> {
    const db = new Database(path, { readonly: true });
    try {
      const rows = db.prepare('SELECT typeof(data) AS data, typeof(metadata) AS metadata, data AS stored FROM events ORDER BY position').all() as Array<{
        data: string;
        metadata: string;
        stored: string | Buffer;
      }>;
      return rows.map(({ data, metadata, stored }) => ({ data, metadata, dictionary: Buffer.isBuffer(stored) ? stored[0]! : null }));
    } finally {
      db.close();
    }
  }
  function dictionaries(): Array<{ id: number; built_at: number }> {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT id, built_at FROM dictionaries ORDER BY id').all() as Array<{ id: number; built_at: number }>;
    } finally {
      db.close();
    }
  }

  it('reads a log of old text rows followed by compressed ones event by event, and its chains verify', async () => {
    // Given a log the store wrote before rows were compressed: text rows, each sealed into its chain.
    const old = new Database(path);
    old.exec(OLD_SCHEMA);
    const insert = old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const written: Array<{ stream: string; event: JsonEvent }> = [];
    const tips = new Map<string, { revision: number; hash: string }>();
    for (let position = 1; position <= 30; position++) {
      const stream = `instance-${position % 3}`;
      const event = realisticEvent(position);
      const tip = tips.get(stream) ?? { revision: -1, hash: GENESIS_HASH };
      const sealed = seal(tip.hash, stream, tip.revision + 1, chainContent(event));
      insert.run(position, stream, tip.revision + 1, event.id, event.type, sealed.data, sealed.metadata, '2026-12-07T22:48:44.000Z');
      tips.set(stream, { revision: tip.revision + 1, hash: sealed.link.hash });
      written.push({ stream, event });
    }
    old.close();

    // When the store appends to the same streams (and a new one), past the first dictionary.
    const store = open({ firstDictionaryAt: 40 });
    for (let i = 0; i < 40; i++) {
      const stream = `instance-${i % 4}`;
      const event = realisticEvent(i);
      await store.append(stream, [event], 'any');
      written.push({ stream, event });
    }

    // Then the file holds both shapes, the newest rows with the dictionary, and every event reads back as appended.
    const kept = shapes();
    expect(kept.slice(0, 30).every((row) => row.data === 'text' && row.metadata === 'text')).toBe(true);
    expect(kept.slice(30).every((row) => row.data === 'blob' && row.metadata === 'blob')).toBe(true);
    expect(kept.slice(30, 40).map((row) => row.dictionary)).toEqual(Array(10).fill(0));
    expect(kept.slice(40).map((row) => row.dictionary)).toEqual(Array(30).fill(1));
    const reader = open();
    const all = await reader.readAll();
    expect(all.map((e) => ({ stream: e.stream, id: e.id, type: e.type, data: e.data, metadata: { ...e.metadata, hashChain: undefined } }))).toEqual(
      written.map(({ stream, event }) => ({ stream, id: event.id, type: event.type, data: event.data, metadata: { ...event.metadata, hashChain: undefined } })),
    );
    for (const stream of ['instance-0', 'instance-1', 'instance-2', 'instance-3']) {
      expect((await reader.readStream(stream)).map(logical)).toEqual(all.filter((e) => e.stream === stream).map(logical));
    }
    // The chains run on from the old rows into the new ones, through the text and the parsed path alike.
    expect((await checkLogChains(reader, { gapFreePositions: true })).problems).toEqual([]);
    const parsedOnly = { readAll: (options?: ReadAllOptions) => reader.readAll(options) } as unknown as EventStore;
    expect((await checkLogChains(parsedOnly, { gapFreePositions: true })).problems).toEqual([]);
  });

  it('builds a dictionary when the log reaches the threshold and at every tenfold growth, and writes with the newest', async () => {
    const store = open({ firstDictionaryAt: 5 });
    for (let i = 0; i < 60; i++) await store.append(`job-${i % 7}`, [realisticEvent(i)], 'any');
    // One batch up to the next threshold: the dictionary is chosen when a batch begins.
    await store.append('job-big', Array.from({ length: 440 }, (_, i) => realisticEvent(i)), 'no_stream');
    await store.append('job-big', [realisticEvent(0)], 'stream_exists');

    expect(dictionaries()).toEqual([
      { id: 1, built_at: 5 },
      { id: 2, built_at: 50 },
      { id: 3, built_at: 500 },
    ]);
    const used = shapes().map((row) => row.dictionary);
    expect(used.slice(0, 5)).toEqual(Array(5).fill(0));
    expect(used.slice(5, 50)).toEqual(Array(45).fill(1));
    expect(used.slice(50, 500)).toEqual(Array(450).fill(2));
    expect(used.slice(500)).toEqual([3]);
    expect((await store.readAll()).map((e) => e.position)).toEqual(Array.from({ length: 501 }, (_, i) => i + 1));
  });

  it('refuses a first dictionary at no events, which would build one on every batch', () => {
    expect(() => open({ firstDictionaryAt: 0 })).toThrow(/firstDictionaryAt must be a positive integer, got 0/);
  });

  it('lets another connection read rows written with a dictionary it has not seen, and write with it', async () => {
    const writer = open({ firstDictionaryAt: 10 });
    const reader = open({ firstDictionaryAt: 10 });
    await writer.append('job-1', [realisticEvent(0)], 'no_stream');
    expect(await reader.readStream('job-1')).toHaveLength(1);

    // The writer builds the dictionary after the reader has opened and read.
    for (let i = 1; i < 20; i++) await writer.append('job-1', [realisticEvent(i)], i - 1);
    expect(dictionaries()).toEqual([{ id: 1, built_at: 10 }]);
    expect((await reader.readStream('job-1')).map(logical)).toEqual((await writer.readStream('job-1')).map(logical));
    const live = reader.subscribe({ fromPosition: 15 });
    const iterator = live[Symbol.asyncIterator]();
    expect(((await iterator.next()).value as { event: RecordedEvent }).event.position).toBe(16);
    await live.close();

    // The reader writes with the writer's dictionary rather than building its own.
    await reader.append('job-2', [realisticEvent(0)], 'no_stream');
    expect(dictionaries()).toEqual([{ id: 1, built_at: 10 }]);
    expect(shapes().at(-1)!.dictionary).toBe(1);
    expect((await writer.readStream('job-2'))[0]!.type).toBe('JobOpened');
  });

  it('forgets a dictionary built in a commit that failed, and reads the one another connection built by that id', async () => {
    const first = open({ firstDictionaryAt: 5 });
    const events = Array.from({ length: 8 }, (_, i) => realisticEvent(i));
    for (let i = 0; i < 5; i++) await first.append('job-1', [events[i]!], i === 0 ? 'no_stream' : i - 1);
    // The next commit builds dictionary 1 and then fails.
    const db = new Database(path);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END");
    await expect(first.append('job-1', [events[5]!], 4)).rejects.toThrow('refused');
    db.exec('DROP TRIGGER refuse');
    db.close();

    // Another connection builds its own dictionary 1, from more events, and writes with it.
    const second = open({ firstDictionaryAt: 7 });
    for (let i = 5; i < 8; i++) await second.append('job-1', [events[i]!], i - 1);
    expect(dictionaries()).toEqual([{ id: 1, built_at: 7 }]);
    expect(shapes().at(-1)!.dictionary).toBe(1);

    expect((await first.readAll()).map((e) => e.data)).toEqual(events.map((e) => e.data));
  });

  it('reads a row that does not inflate, or names a dictionary the log does not hold, as corrupt, naming where it is', async () => {
    const store = open();
    await store.append('job-1', [realisticEvent(0), realisticEvent(1), realisticEvent(2)], 'no_stream');
    await store.close();
    const db = new Database(path);
    db.prepare('UPDATE events SET data = ? WHERE position = 2').run(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]));
    const third = db.prepare('SELECT data FROM events WHERE position = 3').pluck().get() as Buffer;
    third[0] = 7;
    db.prepare('UPDATE events SET data = ? WHERE position = 3').run(third);
    db.close();

    const reader = open();
    const corrupt = async (revision: number) => (await reader.readStream('job-1', { fromRevision: revision, maxCount: 1 }).catch((error: unknown) => error)) as CorruptEventError;
    expect(await corrupt(1)).toBeInstanceOf(CorruptEventError);
    expect(await corrupt(1)).toMatchObject({ stream: 'job-1', revision: 1, position: 2, part: 'data', message: expect.stringContaining('does not inflate') });
    expect(await corrupt(2)).toMatchObject({ stream: 'job-1', revision: 2, position: 3, message: expect.stringContaining('dictionary 7') });
    expect((await reader.readStream('job-1', { maxCount: 1 }))[0]!.type).toBe('JobOpened');
    // The audit's text path reports both and reads on.
    const problems = (await checkLogChains(reader, { gapFreePositions: true })).problems;
    expect(problems.map((p) => [p.kind, p.position])).toEqual([
      ['corrupt', 2],
      ['corrupt', 3],
    ]);
  });

  it('keeps realistic events in a file much smaller than the text rows did', async () => {
    const store = open();
    const events = Array.from({ length: 5000 }, (_, i) => realisticEvent(i));
    for (let i = 0; i < events.length; i += 50) await store.append(`instance-${i / 50}`, events.slice(i, i + 50), 'no_stream');
    const texts = await store.readAllText();
    await store.close();
    // The same events as the store wrote them before: text rows and their stream index.
    const oldPath = join(dir, 'old.sqlite');
    const old = new Database(oldPath);
    old.exec(`${OLD_SCHEMA}; CREATE TABLE stream_index (stream TEXT NOT NULL, revision INTEGER NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (stream, revision)) WITHOUT ROWID`);
    const insert = old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    old.transaction(() => {
      for (const e of texts) insert.run(e.position, e.stream, e.revision, e.id, e.type, e.data, e.metadata, e.recordedAt);
    })();
    old.exec('INSERT INTO stream_index SELECT stream, revision, position FROM events');
    old.close();
    const [compact, text] = [statSync(path).size, statSync(oldPath).size];
    expect(compact).toBeLessThan(text * 0.6);
  });
});

describe('dictionaryFrom', () => {
  const sample = (type: string, n: number) => ({ type, texts: { metadata: `{"n":${n}}`, data: `{"t":"${type}"}` } });

  it('takes the latest sample of each type, the most frequent types last', () => {
    const bytes = dictionaryFrom([sample('A', 1), sample('B', 2), sample('A', 3), sample('C', 4), sample('A', 5), sample('C', 6)]);
    expect(bytes.toString()).toBe('{"n":2}\n{"t":"B"}{"n":6}\n{"t":"C"}{"n":5}\n{"t":"A"}');
  });

  it('leaves the hash chain\'s random hashes out of the samples', () => {
    const link = `"hashChain":{"hash":"${'a1'.repeat(32)}","previous":"${'0'.repeat(64)}"}`;
    const bytes = dictionaryFrom([{ type: 'A', texts: { metadata: `{"actor":{"kind":"system"},${link}}`, data: '{}' } }]);
    expect(bytes.toString()).toBe('{"actor":{"kind":"system"},"hashChain":{"hash":"","previous":""}}\n{}');
  });

  it('keeps the last DICTIONARY_BYTES when the samples are more, cutting the rarest types', () => {
    const big = (type: string, count: number) => Array.from({ length: count }, () => ({ type, texts: { metadata: '{}', data: type.repeat(DICTIONARY_BYTES / 2) } }));
    const bytes = dictionaryFrom([...big('R', 1), ...big('F', 3), ...big('M', 2)]);
    expect(bytes.length).toBe(DICTIONARY_BYTES);
    expect(bytes.toString().endsWith('F'.repeat(DICTIONARY_BYTES / 2))).toBe(true);
    expect(bytes.toString()).not.toContain('R');
  });
});
