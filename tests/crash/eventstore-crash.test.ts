import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { ReadModel } from '../../projections/read-model.js';
import { eventCounts } from './event-counts.js';

interface Ack {
  batch: string;
  stream: string;
  positions: number[];
}

/** Runs the worker until it has acknowledged some appends, then kills it with SIGKILL after a random delay. */
async function runAndKill(dir: string, round: number, acks: Ack[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'append-worker.ts'), dir, `r${round}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let firstAck!: () => void;
  const started = new Promise<void>((resolve) => (firstAck = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [, batch, stream, positions] = line.split(' ');
    acks.push({ batch: batch!, stream: stream!, positions: positions!.split(',').map(Number) });
    firstAck();
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await Promise.race([started, exited]);
  await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 700)));
  child.kill('SIGKILL');
  const signal = await exited;
  clearTimeout(timeout);
  expect(stderr).toBe('');
  expect(signal).toBe('SIGKILL');
}

function workerCheckpoint(dir: string): number {
  const file = readdirSync(dir).find((f) => f.startsWith('readmodel-') && f.endsWith('.sqlite'));
  const db = new Database(join(dir, file!), { readonly: true });
  try {
    return (db.prepare('SELECT position FROM read_model_checkpoint').get() as { position: number }).position;
  } finally {
    db.close();
  }
}

async function readWholeLog(store: SqliteEventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ fromPosition: all.at(-1)?.position ?? 0, maxCount: 5000 });
    all.push(...page);
    if (page.length < 5000) return all;
  }
}

describe('crash safety of the SQLite store and the read model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged append, no partial batch, no gap, and projects each event once across SIGKILLs', async () => {
    const acks: Ack[] = [];
    for (let round = 0; round < 5; round++) {
      await runAndKill(dir, round, acks);

      const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
      const log = await readWholeLog(store);

      // Positions are 1..N with no gap.
      expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));

      // Every acknowledged batch is there, at the positions it was acknowledged with.
      const byPosition = new Map(log.map((e) => [e.position, e]));
      for (const ack of acks) {
        ack.positions.forEach((position, index) => {
          const event = byPosition.get(position);
          expect(event?.stream).toBe(ack.stream);
          expect(event?.data).toMatchObject({ batch: ack.batch, index });
        });
      }

      // No batch is partly visible, and each stream's revisions run 0..n-1.
      const batches = new Map<string, { size: number; seen: number }>();
      const revisions = new Map<string, number>();
      for (const event of log) {
        const { batch, size } = event.data as { batch: string; size: number };
        const entry = batches.get(batch) ?? { size, seen: 0 };
        entry.seen++;
        batches.set(batch, entry);
        expect(event.revision).toBe(revisions.get(event.stream) ?? 0);
        revisions.set(event.stream, event.revision + 1);
      }
      for (const [batch, { size, seen }] of batches) expect(seen, `batch ${batch}`).toBe(size);

      // The stream index, built behind the log and partly lost with the process, reads the same.
      for (const stream of revisions.keys()) {
        const positions = log.filter((e) => e.stream === stream).map((e) => e.position);
        expect((await store.readStream(stream)).map((e) => e.position), stream).toEqual(positions);
      }

      // The read model the worker was feeding had got somewhere; it resumes from there and applies each event once.
      const checkpoint = workerCheckpoint(dir);
      expect(checkpoint).toBeGreaterThan(0);
      expect(checkpoint).toBeLessThanOrEqual(log.length);
      const model = await ReadModel.open({ store, projections: [eventCounts], directory: dir });
      expect(await model.waitForPosition(log.length, 20_000)).toBe(true);
      const counted = model.db.prepare('SELECT stream, n FROM crash_counts').all() as Array<{ stream: string; n: number }>;
      expect(Object.fromEntries(counted.map((r) => [r.stream, r.n]))).toEqual(Object.fromEntries(revisions));
      await model.close();
      await store.close();
    }
    expect(acks.length).toBeGreaterThan(100);
  }, 120_000);
});
