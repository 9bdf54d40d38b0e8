// The SQLite store keeps each stream's newest events in memory and indexes them behind the log
// (adapters/eventstore/sqlite/stream-index.ts). Whatever mix of writers, reopenings and abandoned
// connections (a crash, as far as the file is concerned), every connection reads every stream as
// the log holds it: forwards and backwards, from any revision, with any limit.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';

const STREAMS = ['idx-0', 'idx-1', 'idx-2'];

type Step =
  | { readonly kind: 'append'; readonly by: number; readonly stream: number; readonly events: number }
  | { readonly kind: 'reopen'; readonly which: number }
  | { readonly kind: 'abandon'; readonly which: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), by: fc.nat(1), stream: fc.nat(STREAMS.length - 1), events: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), which: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abandon' as const), which: fc.nat(1) }) },
);

const readArb = fc.record({ forwards: fc.boolean(), from: fc.integer({ min: -1, max: 20 }), limit: fc.integer({ min: -1, max: 12 }) });

describe('the stream index behind the log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-stream-index-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every stream as the log holds it, through any connection, after reopenings and abandoned connections', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), fc.array(readArb, { minLength: 3, maxLength: 3 }), async (steps, reads) => {
        const path = join(dir, `run-${run++}.sqlite`);
        const open: SqliteEventStore[] = [];
        const connect = () => {
          const store = SqliteEventStore.open(path);
          open.push(store);
          return store;
        };
        const connections = [connect(), connect()];
        const revisions = STREAMS.map(() => -1);
        try {
          for (const step of steps) {
            if (step.kind === 'append') {
              const stream = STREAMS[step.stream]!;
              const events = Array.from({ length: step.events }, () => ({ id: randomUUID(), type: 'Indexed', data: { by: step.by } }));
              const expected = revisions[step.stream]! === -1 ? 'no_stream' : revisions[step.stream]!;
              revisions[step.stream] = (await connections[step.by]!.append(stream, events, expected)).revision;
            } else if (step.kind === 'reopen') {
              await connections[step.which]!.close();
              connections[step.which] = connect();
            } else {
              // Left open with its memory tail, never closed until the end: as a crashed process leaves the file.
              connections[step.which] = connect();
            }
            const log = await connections[0]!.readAll();
            for (const connection of connections) {
              for (const [s, stream] of STREAMS.entries()) {
                const held = log.filter((e) => e.stream === stream);
                expect(summary(await connection.readStream(stream))).toEqual(summary(held));
                const read = reads[s]!;
                const options = {
                  direction: read.forwards ? ('forwards' as const) : ('backwards' as const),
                  ...(read.from >= 0 ? { fromRevision: read.from } : {}),
                  ...(read.limit >= 0 ? { maxCount: read.limit } : {}),
                };
                expect(summary(await connection.readStream(stream, options))).toEqual(summary(expectedRead(held, read)));
              }
            }
          }
        } finally {
          for (const store of open) await store.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

function expectedRead(held: RecordedEvent[], read: { forwards: boolean; from: number; limit: number }): RecordedEvent[] {
  const ordered = read.forwards ? held : [...held].reverse();
  const from = read.from >= 0 ? read.from : read.forwards ? 0 : Number.MAX_SAFE_INTEGER;
  const selected = ordered.filter((e) => (read.forwards ? e.revision >= from : e.revision <= from));
  return read.limit >= 0 ? selected.slice(0, read.limit) : selected;
}

function summary(events: RecordedEvent[]): Array<[number, number, string]> {
  return events.map((e) => [e.revision, e.position, e.id]);
}
