// Issue 19: nothing the sagas hold in memory grows with the jobs they have finished or the streams
// they have read. A finished job's command ids and deadline timer are dropped; stream histories are bounded (LRU) and a
// dropped one is read again whole from the store.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { StreamHistory } from '../../../sagas/stream-history.js';
import { buildStackLog } from '../audit/stack-log.js';

describe('what the saga runner holds in memory', () => {
  it('keeps no command id and no deadline timer of a job that has finished', async () => {
    // Deploys, stops, a destroy and a start: each job issued agent commands and finished.
    const log = await buildStackLog();
    try {
      await log.stack.context.runner.idle();
      expect(log.stack.context.runner.held()).toMatchObject({ commandIds: 0, timers: 0 });
    } finally {
      await log.stop();
      log.remove();
    }
  });
});

describe('StreamHistory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-stream-history-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps at most its bound of streams and reads a dropped one again whole, with what was appended since', async () => {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    try {
      const append = (stream: string, n: number) => store.append(stream, Array.from({ length: n }, (_, i) => ({ id: randomUUID(), type: 'Noted', data: { i } })), 'any');
      await append('s-1', 3);
      await append('s-2', 1);
      await append('s-3', 1);
      const history = new StreamHistory(store, 2);
      await history.read('s-1');
      await history.read('s-2');
      await history.read('s-3');
      expect(history.size).toBe(2);
      await append('s-1', 2);
      expect((await history.read<{ type: string; data: { i: number } }>('s-1')).map((e) => e.data.i)).toEqual([0, 1, 2, 0, 1]);
      expect(history.size).toBe(2);
    } finally {
      await store.close();
    }
  });
});
