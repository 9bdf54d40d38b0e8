// Issue 2's figures: durable append throughput, replay, projection catch-up and replay memory, each
// beside a limit measured in the same run on the same machine, interleaved with it round by round.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readDictionaries } from '../../adapters/eventstore/sqlite/dictionaries.js';
import { rowTexts } from '../../adapters/eventstore/sqlite/row-codec.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { Projection } from '../../projections/projection.js';
import { ReadModel } from '../../projections/read-model.js';
import { perSecond } from './report.js';
import { replayAll } from './replay.js';
import { interleaved, ratioFigure, spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';

const APPEND_SECONDS = 2;
const LOG_EVENTS = 1_000_000;
const STREAMS = 10_000;

const sampleData = (i: number) => ({
  instanceId: `2b7e1f0c-0000-4000-8000-${String(i).padStart(12, '0')}`,
  state: 'Running',
  hostId: 'c0ffee00-0000-4000-8000-000000000001',
  cpuNumber: 2,
  memory: 1024,
});
const sampleMetadata = {
  correlationId: '0d6c3a52-6c1f-4b8e-9d6a-0f1e2d3c4b5a',
  actor: { kind: 'system', component: 'bench' },
  occurredAt: '2026-11-21T08:00:00.000Z',
  schemaVersion: 1,
};

export async function eventStoreFigures({ report, rounds }: SuiteContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-bench-'));
  try {
    // Appends: the raw limit and each writer count, one after another in every round, each into a
    // fresh file that is removed once measured.
    let file = 0;
    const fresh = async (measure: (path: string) => number | Promise<number>): Promise<number> => {
      const path = join(dir, `append-${file++}.sqlite`);
      try {
        return await measure(path);
      } finally {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
      }
    };
    const appends = await interleaved(rounds, {
      raw: () => fresh(rawBatchInsertRate),
      w1: () => fresh((path) => durableAppendRate(path, 1)),
      w16: () => fresh((path) => durableAppendRate(path, 16)),
      w64: () => fresh((path) => durableAppendRate(path, 64)),
    });
    report(spreadFigure('raw better-sqlite3 insert, batches of 1000 (limit)', 'events/s', appends.raw));
    for (const writers of [1, 16, 64] as const) {
      report(ratioFigure(`durable single-event appends, ${writers} writers`, 'events/s', appends[`w${writers}`], appends.raw));
    }

    const logPath = join(dir, 'log.sqlite');
    await writeLog(logPath);
    const reads = await interleaved(rounds, { raw: () => rawReadRate(logPath), replay: () => replayRate(logPath) });
    report(spreadFigure('raw SELECT + JSON.parse of the log (limit)', 'events/s', reads.raw));
    report(ratioFigure('full replay: read every event and fold', 'events/s', reads.replay, reads.raw));
    report({ name: 'projection catch-up into a SQLite read model', value: await projectionCatchUpRate(logPath, join(dir, 'readmodel')), unit: 'events/s' });

    // Flat memory: the peak over the whole log is no higher than the peak over its first tenth.
    for (const events of [LOG_EVENTS / 10, LOG_EVENTS]) {
      const memory = JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'replay-memory.ts'), logPath, String(events)], { encoding: 'utf8' }),
      ) as { events: number; peak: number };
      report({ name: `replay peak RSS, first ${memory.events.toLocaleString('en-US')} events`, value: memory.peak / 2 ** 20, unit: 'MiB' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rawBatchInsertRate(path: string): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL);
    CREATE UNIQUE INDEX events_by_stream ON events (stream, revision); CREATE UNIQUE INDEX events_by_id ON events (id);`);
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const metadata = JSON.stringify(sampleMetadata);
  let position = 0;
  const batch = db.transaction(() => {
    for (let i = 0; i < 1000; i++) {
      position++;
      insert.run(position, `instance-${position}`, 0, randomUUID(), 'InstanceStarted', JSON.stringify(sampleData(position)), metadata, new Date().toISOString());
    }
  });
  const started = performance.now();
  while (performance.now() - started < APPEND_SECONDS * 1000) batch();
  const rate = perSecond(position, started);
  db.close();
  return rate;
}

async function durableAppendRate(path: string, writers: number): Promise<number> {
  const store = SqliteEventStore.open(path);
  let appended = 0;
  const deadline = performance.now() + APPEND_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const stream = `instance-${randomUUID()}`;
      for (let revision = -1; performance.now() < deadline; revision++) {
        await store.append(
          stream,
          [{ id: randomUUID(), type: 'InstanceStarted', data: sampleData(w), metadata: sampleMetadata }],
          revision === -1 ? 'no_stream' : revision,
        );
        appended++;
      }
    }),
  );
  const rate = perSecond(appended, started);
  await store.close();
  return rate;
}

async function writeLog(path: string): Promise<void> {
  const store = SqliteEventStore.open(path);
  const perAppend = 1000;
  const revisions = new Map<number, number>();
  for (let written = 0; written < LOG_EVENTS; written += perAppend) {
    // 1000 events spread over 10 streams per append, so the log interleaves streams like a real one.
    const byStream = new Map<number, number>();
    const appends = Array.from({ length: 10 }, (_, k) => {
      const streamNo = (written / perAppend + k * 997) % STREAMS;
      byStream.set(streamNo, (byStream.get(streamNo) ?? 0) + 100);
      const from = revisions.get(streamNo) ?? -1;
      revisions.set(streamNo, from + 100);
      return store.append(
        `instance-${String(streamNo).padStart(8, '0')}`,
        Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), type: i % 2 ? 'InstanceStarted' : 'InstanceStopped', data: sampleData(i), metadata: sampleMetadata })),
        from === -1 ? 'no_stream' : from,
      );
    });
    await Promise.all(appends);
  }
  await store.close();
}

/** The fastest plain better-sqlite3 read of every row: pages of 1000 by position, each row decoded and its JSON texts parsed. */
function rawReadRate(path: string): number {
  const db = new Database(path, { readonly: true });
  const dictionaries = readDictionaries(db);
  const dictionaryBytes = (id: number) => dictionaries.get(id);
  const page = db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT 1000');
  const started = performance.now();
  let count = 0;
  let sink = 0;
  for (let last = 0; ; ) {
    const rows = page.all(last) as Array<{ position: number; data: string | Buffer; metadata: string | Buffer }>;
    for (const row of rows) {
      const texts = rowTexts(row, dictionaryBytes);
      const data = JSON.parse(texts.data) as { cpuNumber: number };
      const metadata = JSON.parse(texts.metadata) as { schemaVersion: number };
      sink += data.cpuNumber + metadata.schemaVersion;
    }
    count += rows.length;
    if (rows.length < 1000) break;
    last = rows[rows.length - 1]!.position;
  }
  const rate = perSecond(count, started);
  db.close();
  if (sink === 0) throw new Error('raw read read nothing');
  return rate;
}

async function replayRate(path: string): Promise<number> {
  const store = SqliteEventStore.open(path);
  const started = performance.now();
  const { events } = await replayAll(store);
  const rate = perSecond(events, started);
  await store.close();
  return rate;
}

/** A projection of the shape the instance read model has: one upserted row per stream. */
const latestPerStream: Projection = {
  name: 'bench_latest',
  version: 1,
  schema: 'CREATE TABLE bench_latest (stream TEXT PRIMARY KEY, revision INTEGER NOT NULL, type TEXT NOT NULL, state TEXT)',
  handle(event, db) {
    const data = event.data as { state?: string };
    db.run(
      `INSERT INTO bench_latest (stream, revision, type, state) VALUES (?, ?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, type = excluded.type, state = excluded.state`,
      event.stream,
      event.revision,
      event.type,
      data.state ?? null,
    );
  },
};

async function projectionCatchUpRate(logPath: string, directory: string): Promise<number> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(directory, { recursive: true });
  const store = SqliteEventStore.open(logPath);
  const head = await store.headPosition();
  const started = performance.now();
  const model = await ReadModel.open({ store, projections: [latestPerStream], directory });
  if (model.position < head) throw new Error(`catch-up stopped at ${model.position} of ${head}`);
  const rate = perSecond(head, started);
  await model.close();
  await store.close();
  return rate;
}
