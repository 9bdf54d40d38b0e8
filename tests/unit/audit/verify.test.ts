// `audit verify` against a real log and read model, and against copies of them tampered with through
// the SQLite files themselves, as someone with access to the disk would.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainContent, linkHash, storedLink } from '../../../adapters/eventstore/hash-chain.js';
import type { JsonObject, JsonValue, StoredEvent } from '../../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { checkLogChains, type LogProblem } from '../../../api/audit/chain-check.js';
import { verifyLog, type VerifyResult } from '../../../api/audit/verify.js';
import { projections } from '../../../api/projections.js';
import { readModelFile } from '../../../projections/read-model.js';
import { buildStackLog, type StackLog } from './stack-log.js';

/** An event as the log holds it: its canonical texts, whichever shape its row has on disk. */
type Row = StoredEvent;

/**
 * Writes texts into an event's row in the shape rows had before they were compressed (both columns
 * text), as someone editing the log's text would; the store still reads that shape.
 */
function setTexts(db: Database.Database, position: number, texts: { data: string; metadata: string }): void {
  db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(texts.data, texts.metadata, position);
}

describe('audit verify', () => {
  let original: StackLog;
  let rows: Row[];
  const copies: string[] = [];

  beforeAll(async () => {
    original = await buildStackLog();
    await original.stop();
    const store = SqliteEventStore.open(join(original.dir, 'events.sqlite'));
    rows = await store.readAllText();
    await store.close();
  }, 60_000);
  afterAll(() => {
    original?.remove();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the data directory, changed by `tamper` through the log's SQLite file. */
  function tampered(tamper: (db: Database.Database) => void): string {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-tampered-'));
    copies.push(dir);
    cpSync(original.dir, dir, { recursive: true });
    const db = new Database(join(dir, 'events.sqlite'));
    tamper(db);
    db.close();
    return dir;
  }

  async function verify(dir: string, withReadModels = true): Promise<VerifyResult & { lines: string[] }> {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    const lines: string[] = [];
    try {
      const result = await verifyLog({ store, gapFreePositions: true, readModelDirectory: withReadModels ? dir : undefined, projections, write: (line) => lines.push(line) });
      return { ...result, lines };
    } finally {
      await store.close();
    }
  }

  async function chainProblems(dir: string): Promise<LogProblem[]> {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    try {
      return [...(await checkLogChains(store, { gapFreePositions: true })).problems];
    } finally {
      await store.close();
    }
  }

  const hasSuccessor = (row: Row) => rows.some((other) => other.stream === row.stream && other.revision === row.revision + 1);
  const at = (problems: readonly LogProblem[], stream: string, revision: number) => problems.some((p) => p.stream === stream && p.revision === revision);

  it('passes an untouched log and read model, having compared every table', async () => {
    const result = await verify(tampered(() => undefined));
    expect(result.lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.chain.events).toBe(rows.length);
    expect(result.readModels.kind).toBe('compared');
    if (result.readModels.kind === 'compared') {
      expect(result.readModels.diff.tables).toBeGreaterThan(10);
      expect(result.readModels.diff.rows).toBeGreaterThan(rows.length / 4);
    }
    expect(result.lines.at(-1)).toBe('PASS');
  }, 30_000);

  it('reports a changed payload, a changed envelope and a forged link with the stream and revision', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(rows.length - 1), fc.constantFrom('data', 'metadata', 'type', 'link'), async (index, part) => {
        const row = rows[index]!;
        const dir = tampered((db) => {
          if (part === 'data') {
            const data = JSON.parse(row.data) as JsonValue;
            setTexts(db, row.position, { data: JSON.stringify({ tampered: true, was: data }), metadata: row.metadata });
          } else if (part === 'metadata') {
            const metadata = JSON.parse(row.metadata) as JsonObject;
            setTexts(db, row.position, { data: row.data, metadata: JSON.stringify({ ...metadata, occurredAt: '2000-01-01T00:00:00.000Z' }) });
          } else if (part === 'type') {
            db.prepare("UPDATE events SET type = type || 'X' WHERE position = ?").run(row.position);
          } else {
            const metadata = JSON.parse(row.metadata) as JsonObject;
            setTexts(db, row.position, { data: row.data, metadata: JSON.stringify({ ...metadata, hashChain: { hash: 'a'.repeat(64), previous: 'b'.repeat(64) } }) });
          }
        });
        const problems = await chainProblems(dir);
        expect(at(problems, row.stream, row.revision), JSON.stringify(problems)).toBe(true);
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it('reports a removed event with its stream and revision, and the hole in the positions', async () => {
    const candidates = rows.filter(hasSuccessor);
    await fc.assert(
      fc.asyncProperty(fc.nat(candidates.length - 1), async (index) => {
        const row = candidates[index]!;
        const problems = await chainProblems(tampered((db) => db.prepare('DELETE FROM events WHERE position = ?').run(row.position)));
        expect(problems.find((p) => p.kind === 'revision-gap')).toMatchObject({ stream: row.stream, revision: row.revision });
        expect(problems.find((p) => p.kind === 'position-gap')).toMatchObject({ position: row.position });
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it('reports the last event of a stream removed as a hole in the positions', async () => {
    const last = rows.filter((row) => !hasSuccessor(row) && row.position < rows.length)[0]!;
    const problems = await chainProblems(tampered((db) => db.prepare('DELETE FROM events WHERE position = ?').run(last.position)));
    expect(problems).toEqual([expect.objectContaining({ kind: 'position-gap', position: last.position })]);
  });

  it('reports two rows whose data was swapped, at both places', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(rows.length - 1), fc.nat(rows.length - 1), async (i, j) => {
        const [a, b] = [rows[i]!, rows[j]!];
        fc.pre(a.data !== b.data);
        const problems = await chainProblems(
          tampered((db) => {
            setTexts(db, a.position, { data: b.data, metadata: a.metadata });
            setTexts(db, b.position, { data: a.data, metadata: b.metadata });
          }),
        );
        expect(at(problems, a.stream, a.revision) && at(problems, b.stream, b.revision), JSON.stringify(problems)).toBe(true);
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it('reports a compressed row whose BLOB was changed, or replaced by another row\'s valid one, at its stream and revision', async () => {
    const db = new Database(join(original.dir, 'events.sqlite'), { readonly: true });
    const blobs = db.prepare('SELECT data FROM events ORDER BY position').pluck().all() as Buffer[];
    db.close();
    expect(blobs.every((blob) => Buffer.isBuffer(blob))).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.nat(rows.length - 1), fc.nat(rows.length - 1), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), async (i, j, where) => {
        const [row, other] = [rows[i]!, rows[j]!];
        fc.pre(row.data !== other.data || row.metadata !== other.metadata);
        const blob = blobs[i]!;
        // Any byte but the last, whose high bits may be padding after the end of the deflate stream.
        const flipped = Buffer.from(blob);
        const index = Math.floor(where * (blob.length - 1));
        flipped[index] = flipped[index]! ^ 0xff;
        const flip = tampered((d) => d.prepare('UPDATE events SET data = ? WHERE position = ?').run(flipped, row.position));
        const store = SqliteEventStore.open(join(flip, 'events.sqlite'));
        const asRead = (await store.readAllText({ fromPosition: row.position - 1, maxCount: 1 }))[0]!;
        await store.close();
        // Raw deflate has no checksum: a changed byte that still inflates to the same texts changed nothing.
        if (asRead.data !== row.data || asRead.metadata !== row.metadata) {
          expect(at(await chainProblems(flip), row.stream, row.revision)).toBe(true);
        }
        const replaced = tampered((d) => d.prepare('UPDATE events SET data = ? WHERE position = ?').run(blobs[j]!, row.position));
        const problems = await chainProblems(replaced);
        expect(at(problems, row.stream, row.revision), JSON.stringify(problems)).toBe(true);
        for (const dir of [flip, replaced]) rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 20 },
    );
  }, 60_000);

  it('reports two events of a stream swapped in the log (reordered)', async () => {
    const stream = rows.find((row) => row.revision === 3)!.stream;
    const [a, b] = [rows.find((r) => r.stream === stream && r.revision === 1)!, rows.find((r) => r.stream === stream && r.revision === 3)!];
    const problems = await chainProblems(
      tampered((db) => {
        // Whole events trade places in the log; each keeps its content and revision.
        const set = db.prepare('UPDATE events SET position = ? WHERE position = ?');
        set.run(-1, a.position);
        set.run(a.position, b.position);
        set.run(b.position, -1);
      }),
    );
    expect(problems.some((p) => p.stream === stream && p.kind === 'revision-gap' && p.revision === 1)).toBe(true);
    expect(problems.some((p) => p.stream === stream && p.kind === 'revision-order' && p.revision === 1)).toBe(true);
  });

  it('reports an inserted event, also one renumbered into the middle of its stream with a well-formed link', async () => {
    const last = rows.filter((row) => !hasSuccessor(row)).at(-1)!;
    const appended = await chainProblems(
      tampered((db) =>
        db
          .prepare('INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(rows.length + 1, last.stream, last.revision + 1, '00000000-0000-4000-8000-000000000000', 'Forged', '{}', '{}', new Date().toISOString()),
      ),
    );
    expect(appended).toEqual([expect.objectContaining({ kind: 'unsealed', stream: last.stream, revision: last.revision + 1 })]);

    const stream = rows.find((row) => row.revision === 4)!.stream;
    const inStream = rows.filter((row) => row.stream === stream);
    const before = inStream.find((row) => row.revision === 1)!;
    const middle = await chainProblems(
      tampered((db) => {
        // Make room at revision 2, then insert an event that links correctly to revision 1.
        for (const row of [...inStream].reverse().filter((r) => r.revision >= 2)) {
          db.prepare('UPDATE events SET revision = revision + 1 WHERE position = ?').run(row.position);
        }
        const content = chainContent({ id: '00000000-0000-4000-8000-000000000001', type: 'Forged', data: {}, metadata: {} });
        const previous = storedLink(JSON.parse(before.metadata) as JsonObject)!.hash;
        const link = { hash: linkHash(previous, stream, 2, content), previous };
        db.prepare('INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, 2, ?, ?, ?, ?, ?)').run(
          rows.length + 1,
          stream,
          content.id,
          'Forged',
          '{}',
          JSON.stringify({ hashChain: link }),
          new Date().toISOString(),
        );
      }),
    );
    // The events after it no longer hash at their new revisions, and the log order shows the insertion.
    expect(at(middle, stream, 3)).toBe(true);
    expect(middle.some((p) => p.stream === stream && p.kind === 'revision-order' && p.revision === 2)).toBe(true);
  });

  it('reports every read-model row changed, removed or added outside the projections', async () => {
    const dir = tampered(() => undefined);
    const live = new Database(readModelFile(dir, projections));
    const instance = live.prepare('SELECT id FROM instances WHERE id = ?').get(original.instances.running) as { id: string };
    live.prepare("UPDATE instances SET state = 'Stopped' WHERE id = ?").run(instance.id);
    const removed = live.prepare('SELECT position FROM usage_events ORDER BY position LIMIT 1').get() as { position: number };
    live.prepare('DELETE FROM usage_events WHERE position = ?').run(removed.position);
    live.prepare("UPDATE usage_records SET end_ms = NULL WHERE usage_type = 1 AND resource_id = ?").run(original.instances.users);
    live.close();
    const result = await verify(dir);
    expect(result.ok).toBe(false);
    expect(result.chain.problems).toEqual([]);
    const differences = result.readModels.kind === 'compared' ? result.readModels.diff.differences : [];
    // The changed state moves the instance's counts too (triggers keep them): four scopes, two states.
    const counts = differences.filter((d) => d.table === 'instance_counts');
    expect(counts.map((d) => d.key)).toHaveLength(8);
    const rest = differences.filter((d) => d.table !== 'instance_counts');
    expect(rest.map((d) => [d.table, d.live === null ? 'missing' : d.rebuilt === null ? 'extra' : 'changed'])).toEqual([
      ['instances', 'changed'],
      ['usage_events', 'missing'],
      ['usage_records', 'changed'],
    ]);
    expect(rest[0]!.key).toEqual({ id: instance.id });
    expect(rest[1]!.key).toEqual({ position: removed.position });
    expect(result.lines.filter((line) => line.startsWith('FAIL read-model'))).toHaveLength(11);
  }, 30_000);

  it('reports a live read model that has seen events the log no longer holds', async () => {
    const result = await verify(tampered((db) => db.prepare('DELETE FROM events WHERE position = ?').run(rows.length)));
    expect(result.ok).toBe(false);
    expect(result.readModels).toMatchObject({ kind: 'compared', truncated: true, position: rows.length, head: rows.length - 1 });
  }, 30_000);

  it('reports an event whose stored data or metadata is not JSON as corrupt, where it is, and checks the rest', async () => {
    const [notJson, badMetadata, changed] = [rows[Math.floor(rows.length / 3)]!, rows[Math.floor(rows.length / 2)]!, rows[rows.length - 2]!];
    const dir = tampered((db) => {
      setTexts(db, notJson.position, { data: '{not json', metadata: notJson.metadata });
      setTexts(db, badMetadata.position, { data: badMetadata.data, metadata: '{"occurredAt": ' });
      setTexts(db, changed.position, { data: '{"x":1}', metadata: changed.metadata });
    });
    const result = await verify(dir);
    expect(result.ok).toBe(false);
    // Every event was still read and checked: the one changed after the corrupt ones is reported too.
    expect(result.chain.events).toBe(rows.length);
    expect(result.chain.problems).toEqual([
      expect.objectContaining({ kind: 'corrupt', stream: notJson.stream, revision: notJson.revision, position: notJson.position }),
      expect.objectContaining({ kind: 'corrupt', stream: badMetadata.stream, revision: badMetadata.revision, position: badMetadata.position }),
      expect.objectContaining({ kind: 'hash-mismatch', stream: changed.stream, revision: changed.revision, position: changed.position }),
    ]);
    expect(result.lines).toContain(`FAIL log corrupt at ${notJson.stream} revision ${notJson.revision} (position ${notJson.position}): ${notJson.stream} revision ${notJson.revision}: its data is not JSON (changed outside the store)`);
    expect(result.lines).toContain(`FAIL log corrupt at ${badMetadata.stream} revision ${badMetadata.revision} (position ${badMetadata.position}): ${badMetadata.stream} revision ${badMetadata.revision}: its metadata is not JSON (changed outside the store)`);
    // The read models cannot be rebuilt through an unreadable event: said so, naming the first one.
    expect(result.readModels).toMatchObject({ kind: 'unbuilt' });
    expect(result.lines.find((line) => line.startsWith('FAIL read-model'))).toContain(`position ${notJson.position} (${notJson.stream} revision ${notJson.revision})`);
    expect(result.lines.at(-1)).toBe('FAIL');

    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../api/cli.ts'), 'audit', 'verify', '--data-dir', dir], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toContain(`FAIL log corrupt at ${notJson.stream} revision ${notJson.revision} (position ${notJson.position})`);
    expect(cli.stdout.trim().split('\n').at(-1)).toBe('FAIL');
  }, 30_000);

  it('exits 0 on a sound log and 1 on a tampered one, naming the stream and revision', () => {
    const cli = (dir: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../api/cli.ts'), 'audit', 'verify', '--data-dir', dir], { encoding: 'utf8' });
    const sound = cli(tampered(() => undefined));
    expect(sound.status, sound.stderr).toBe(0);
    expect(sound.stdout.trim().split('\n').at(-1)).toBe('PASS');
    const row = rows[Math.floor(rows.length / 2)]!;
    const bad = cli(tampered((db) => setTexts(db, row.position, { data: '{"x":1}', metadata: row.metadata })));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`FAIL log hash-mismatch at ${row.stream} revision ${row.revision} (position ${row.position})`);
    expect(bad.stdout.trim().split('\n').at(-1)).toBe('FAIL');
  }, 30_000);
});
