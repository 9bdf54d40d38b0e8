import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  unlessRefused,
  CommandRejectedError,
  ConcurrencyConflictError,
  StateCache,
  handleCommand,
  type CommandEnvelope,
} from '../../../adapters/eventstore/command-handler.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { reject, type Decider, type DomainEvent } from '../../../domain/shared/decider.js';

// A bounded counter: enough of a domain to show decide/evolve, rejections and an invariant that
// only optimistic concurrency can keep under concurrent writers.
type CounterCommand = { type: 'Increment'; by: number } | { type: 'Noop' };
type CounterEvent = DomainEvent<'Incremented', { by: number }>;
const LIMIT = 10;
const counter: Decider<CounterCommand, number, CounterEvent> = {
  initialState: 0,
  decide(command, total) {
    if (command.type === 'Noop') return [];
    if (command.by <= 0) return reject('BAD_USER_INPUT', `by must be positive, got ${command.by}`, 'by');
    if (total + command.by > LIMIT) return reject('INSUFFICIENT_CAPACITY', `would exceed ${LIMIT}`);
    return [{ type: 'Incremented', data: { by: command.by } }];
  },
  evolve: (total, event) => total + event.data.by,
};

const envelope = (extra: Partial<CommandEnvelope> = {}): CommandEnvelope => ({
  actor: { kind: 'user', userId: 'u-1', accountId: 'a-1', role: 'USER' },
  correlationId: 'corr-1',
  occurredAt: '2026-11-21T08:00:00.000Z',
  ...extra,
});

describe('handleCommand', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-handler-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (command: CounterCommand, extra: Partial<CommandEnvelope> = {}, maxAttempts?: number, cache?: StateCache) =>
    handleCommand(store, {
      stream: 'counter-1',
      decider: counter,
      command,
      envelope: envelope(extra),
      newEventId: randomUUID,
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      ...(cache === undefined ? {} : { cache }),
    });

  it('appends the decided events with the envelope as metadata', async () => {
    const result = await run({ type: 'Increment', by: 3 }, { causationId: 'cause-9' });
    expect(result.state).toBe(3);
    expect(result.revision).toBe(0);
    expect(result.duplicate).toBe(false);
    const [stored] = await store.readStream('counter-1');
    expect(stored!.type).toBe('Incremented');
    expect(stored!.data).toEqual({ by: 3 });
    // The store adds the hash-chain link (tested by the conformance suite); the rest is the envelope.
    expect(stored!.metadata).toEqual({
      hashChain: expect.objectContaining({ hash: expect.any(String) }),
      correlationId: 'corr-1',
      causationId: 'cause-9',
      actor: { kind: 'user', userId: 'u-1', accountId: 'a-1', role: 'USER' },
      occurredAt: '2026-11-21T08:00:00.000Z',
      schemaVersion: 1,
    });
    expect(result.positions).toEqual([stored!.position]);
  });

  it('folds the existing stream before deciding', async () => {
    await run({ type: 'Increment', by: 4 });
    const result = await run({ type: 'Increment', by: 5 });
    expect(result.state).toBe(9);
    expect(result.revision).toBe(1);
  });

  it('turns a rejection into CommandRejectedError and appends nothing', async () => {
    await run({ type: 'Increment', by: 8 });
    const error = await run({ type: 'Increment', by: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandRejectedError);
    expect((error as CommandRejectedError).rejection.code).toBe('INSUFFICIENT_CAPACITY');
    const bad = await run({ type: 'Increment', by: -1 }).catch((e: unknown) => e);
    expect((bad as CommandRejectedError).rejection).toMatchObject({ code: 'BAD_USER_INPUT', field: 'by' });
    expect(await store.readStream('counter-1')).toHaveLength(1);
  });

  it('appends nothing for a command that decides no events', async () => {
    const result = await run({ type: 'Noop' });
    expect(result.events).toEqual([]);
    expect(result.revision).toBe(-1);
    expect(await store.headPosition()).toBe(0);
  });

  it('returns the first result for a repeated idempotency key and appends nothing new', async () => {
    const first = await run({ type: 'Increment', by: 2 }, { idempotencyKey: 'req-1' });
    await run({ type: 'Increment', by: 1 });
    const again = await run({ type: 'Increment', by: 2 }, { idempotencyKey: 'req-1' });
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
    expect(again.positions).toEqual(first.positions);
    expect((await store.readStream('counter-1')).map((e) => e.data)).toEqual([{ by: 2 }, { by: 1 }]);
  });

  it('re-decides on a concurrent write and keeps the invariant under many writers', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => run({ type: 'Increment', by: 1 }, {}, 50)),
    );
    const succeeded = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(succeeded).toHaveLength(LIMIT);
    for (const r of refused) expect((r.reason as CommandRejectedError).rejection.code).toBe('INSUFFICIENT_CAPACITY');
    const total = (await store.readStream('counter-1')).reduce((sum, e) => sum + (e.data as { by: number }).by, 0);
    expect(total).toBe(LIMIT);
  });

  it('gives up with a CONFLICT error after the bounded number of attempts', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => run({ type: 'Increment', by: 1 }, {}, 1)));
    const conflicts = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(conflicts).toHaveLength(7);
    for (const c of conflicts) {
      expect(c.reason).toBeInstanceOf(ConcurrencyConflictError);
      expect((c.reason as ConcurrencyConflictError).code).toBe('CONFLICT');
    }
  });

  it('notices a write it did not make even when its cached state is stale', async () => {
    const cache = new StateCache();
    await run({ type: 'Increment', by: 6 }, {}, undefined, cache);
    await run({ type: 'Increment', by: 3 }); // another writer, not through the cache
    const error = await run({ type: 'Increment', by: 2 }, {}, undefined, cache).catch((e: unknown) => e);
    expect((error as CommandRejectedError).rejection.code).toBe('INSUFFICIENT_CAPACITY');
    const result = await run({ type: 'Increment', by: 1 }, {}, undefined, cache);
    expect(result.state).toBe(10);
  });
});

describe('unlessRefused', () => {
  it('gives the result, undefined for a refusal, and passes any other failure on', async () => {
    expect(await unlessRefused(Promise.resolve(7))).toBe(7);
    expect(await unlessRefused(Promise.reject(new CommandRejectedError(reject('NOT_FOUND', 'gone'))))).toBeUndefined();
    await expect(unlessRefused(Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  });
});
