import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandRejectedError, type CommandEnvelope } from '../../../adapters/eventstore/command-handler.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import { InvalidAppendError, MAX_APPEND_BYTES } from '../../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { reject, type Decider, type DomainEvent } from '../../../domain/shared/decider.js';

// A switch with a bounded number of flips: enough to show batching, the invariant under many
// concurrent commands, and decisions that a stale cache would get wrong.
type SwitchCommand = { type: 'TurnOn' } | { type: 'TurnOff' };
type SwitchEvent = DomainEvent<'TurnedOn', Record<string, never>> | DomainEvent<'TurnedOff', Record<string, never>>;
const MAX_FLIPS = 40;
const toggle: Decider<SwitchCommand, { on: boolean; flips: number }, SwitchEvent> = {
  initialState: { on: false, flips: 0 },
  decide(command, state) {
    if (state.flips >= MAX_FLIPS) return reject('INSUFFICIENT_CAPACITY', 'worn out');
    if (command.type === 'TurnOn') return state.on ? reject('INVALID_STATE', 'already on') : [{ type: 'TurnedOn', data: {} }];
    return state.on ? [{ type: 'TurnedOff', data: {} }] : reject('INVALID_STATE', 'already off');
  },
  evolve: (state, event) => ({ on: event.type === 'TurnedOn', flips: state.flips + 1 }),
};

const envelope = (extra: Partial<CommandEnvelope> = {}): CommandEnvelope => ({
  actor: { kind: 'system', component: 'test' },
  correlationId: randomUUID(),
  occurredAt: '2026-11-21T09:00:00.000Z',
  ...extra,
});

describe('Commander', () => {
  let dir: string;
  let store: SqliteEventStore;
  let commander: Commander;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-commander-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    commander = new Commander(store);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (command: SwitchCommand, extra?: Partial<CommandEnvelope>) => commander.execute('switch-1', toggle, command, envelope(extra));
  const types = async () => (await store.readStream('switch-1')).map((e) => e.type);

  it('decides concurrent commands for one stream one after another, appending each batch once', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => run(i % 2 === 0 ? { type: 'TurnOn' } : { type: 'TurnOff' })));
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    expect(await types()).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'TurnedOn' : 'TurnedOff')));
    // Ten commands queued in one tick: the first alone, the other nine together in one transaction.
    expect(new Set((await store.readStream('switch-1')).map((e) => e.recordedAt)).size).toBeLessThanOrEqual(2);
  });

  it('keeps the invariant under many concurrent commands and reports each refusal', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => run(i % 2 === 0 ? { type: 'TurnOn' } : { type: 'TurnOff' })));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(outcomes.length - refused.length).toBe(MAX_FLIPS);
    for (const r of refused) expect((r.reason as CommandRejectedError).rejection.code).toBe('INSUFFICIENT_CAPACITY');
    expect(await types()).toHaveLength(MAX_FLIPS);
  });

  it('returns each command its own positions and revision', async () => {
    const [first, second] = await Promise.all([run({ type: 'TurnOn' }), run({ type: 'TurnOff' })]);
    const stored = await store.readStream('switch-1');
    expect([first.revision, second.revision]).toEqual([0, 1]);
    expect(first.positions).toEqual([stored[0]!.position]);
    expect(second.positions).toEqual([stored[1]!.position]);
    expect(second.state).toEqual({ on: false, flips: 2 });
  });

  it('notices a write it did not make: the append conflicts and the command is decided again', async () => {
    await run({ type: 'TurnOn' });
    // Another process turns it off behind this commander's cache; TurnOff, decided on the stale
    // "on", would append a second TurnedOff at the stale revision.
    await store.append('switch-1', [{ id: randomUUID(), type: 'TurnedOff', data: {} }], 0);
    const refused = await run({ type: 'TurnOff' }).catch((e: unknown) => e);
    expect((refused as CommandRejectedError).rejection.message).toBe('already off');
    expect(await types()).toEqual(['TurnedOn', 'TurnedOff']);
  });

  it('does not refuse on a stale cache: a refusal is checked against a fresh read first', async () => {
    await run({ type: 'TurnOn' });
    await store.append('switch-1', [{ id: randomUUID(), type: 'TurnedOff', data: {} }], 0);
    // The cache still says "on", where TurnOn is refused as "already on"; the fresh state accepts it.
    const result = await run({ type: 'TurnOn' });
    expect(result.revision).toBe(2);
    expect(await types()).toEqual(['TurnedOn', 'TurnedOff', 'TurnedOn']);
  });

  it('appends nothing for a refused command', async () => {
    const error = await run({ type: 'TurnOff' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandRejectedError);
    expect(await store.headPosition()).toBe(0);
  });

  it('runs a keyed command once: its retry returns the first result and appends nothing', async () => {
    const first = await run({ type: 'TurnOn' }, { idempotencyKey: 'retry-me' });
    const again = await run({ type: 'TurnOn' }, { idempotencyKey: 'retry-me' });
    expect(again.duplicate).toBe(true);
    expect(again.positions).toEqual(first.positions);
    expect(await types()).toEqual(['TurnedOn']);
  });

  it('splits queued commands into appends under the store\'s size limit per append, each command whole', async () => {
    // Notes of 40% of the limit each: the first is appended alone, the three queued behind it would
    // be merged into one append, but only two of them fit.
    const note: Decider<{ text: string }, { notes: number }, DomainEvent<'Noted', { text: string }>> = {
      initialState: { notes: 0 },
      decide: (command) => [{ type: 'Noted', data: { text: command.text } }],
      evolve: (state) => ({ notes: state.notes + 1 }),
    };
    const text = (c: string) => c.repeat(Math.floor(MAX_APPEND_BYTES * 0.4));
    const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((c) => commander.execute('notes-1', note, { text: text(c) }, envelope())));
    expect(outcomes.map((o) => o.revision)).toEqual([0, 1, 2, 3]);
    expect(outcomes[3]!.state).toEqual({ notes: 4 });
    const stored = await store.readStream('notes-1');
    expect(stored.map((e) => (e.data as { text: string }).text)).toEqual(['a', 'b', 'c', 'd'].map(text));
    expect(outcomes.map((o) => o.positions)).toEqual(stored.map((e) => [e.position]));
  });

  it('refuses a command too large for one append alone, and carries out the commands queued with it', async () => {
    const note: Decider<{ text: string }, { notes: number }, DomainEvent<'Noted', { text: string }>> = {
      initialState: { notes: 0 },
      decide: (command) => [{ type: 'Noted', data: { text: command.text } }],
      evolve: (state) => ({ notes: state.notes + 1 }),
    };
    const outcomes = await Promise.allSettled(
      ['first', 'small', 'x'.repeat(MAX_APPEND_BYTES), 'also small'].map((text) => commander.execute('notes-2', note, { text }, envelope())),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidAppendError);
    expect((await store.readStream('notes-2')).map((e) => (e.data as { text: string }).text)).toEqual(['first', 'small', 'also small']);
  });

  it('keeps no more states than its bound, and folds a stream it dropped again from the store, writes behind it included', async () => {
    const small = new Commander(store, { cacheSize: 2 });
    const on = (stream: string) => small.execute(stream, toggle, { type: 'TurnOn' }, envelope());
    await on('switch-a');
    await on('switch-b');
    await on('switch-c');
    expect(small.cache.size).toBe(2);
    expect(small.cache.get('switch-a', toggle)).toBeUndefined();
    // While switch-a is out of the cache, another process turns it off.
    await store.append('switch-a', [{ id: randomUUID(), type: 'TurnedOff', data: {} }], 0);
    const again = await on('switch-a');
    expect(again).toMatchObject({ state: { on: true, flips: 3 }, revision: 2 });
    const refused = await on('switch-a').catch((e: unknown) => e);
    expect((refused as CommandRejectedError).rejection.code).toBe('INVALID_STATE');
    expect(small.cache.size).toBe(2);
  });
});
