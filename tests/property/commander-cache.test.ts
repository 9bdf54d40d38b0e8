// The commander keeps a bounded number of folded states (VMLEDGER_STATE_CACHE_SIZE) and folds the
// others again from the store. Whatever the commands, their order, how many are queued at once and
// what other processes append behind it, a commander that can keep one state decides exactly as one
// that keeps them all: the same outcomes and the same log.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandRejectedError, type CommandEnvelope } from '../../adapters/eventstore/command-handler.js';
import { Commander } from '../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { reject, type Decider, type DomainEvent } from '../../domain/shared/decider.js';

// A meter with a limit: refusals depend on the whole history, so a state folded wrongly shows.
type MeterCommand = { type: 'Add'; amount: number } | { type: 'Reset' };
type MeterEvent = DomainEvent<'Added', { amount: number }> | DomainEvent<'Reset', Record<string, never>>;
const LIMIT = 10;
const meter: Decider<MeterCommand, { total: number; resets: number }, MeterEvent> = {
  initialState: { total: 0, resets: 0 },
  decide(command, state) {
    if (command.type === 'Reset') return state.total === 0 ? [] : [{ type: 'Reset', data: {} }];
    if (state.total + command.amount > LIMIT) return reject('INSUFFICIENT_CAPACITY', `${state.total} + ${command.amount} is over ${LIMIT}`);
    return [{ type: 'Added', data: { amount: command.amount } }];
  },
  evolve: (state, event) => (event.type === 'Reset' ? { total: 0, resets: state.resets + 1 } : { ...state, total: state.total + event.data.amount }),
};

const STREAMS = ['meter-0', 'meter-1', 'meter-2', 'meter-3'];

type Step =
  | { readonly kind: 'commands'; readonly commands: ReadonlyArray<{ stream: number; command: MeterCommand }> }
  | { readonly kind: 'behind'; readonly stream: number; readonly amount: number };

const commandArb = fc.record({
  stream: fc.nat(STREAMS.length - 1),
  command: fc.oneof({ weight: 4, arbitrary: fc.record({ type: fc.constant('Add' as const), amount: fc.integer({ min: 1, max: 6 }) }) }, { weight: 1, arbitrary: fc.constant({ type: 'Reset' as const }) }),
});
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('commands' as const), commands: fc.array(commandArb, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('behind' as const), stream: fc.nat(STREAMS.length - 1), amount: fc.integer({ min: 1, max: 3 }) }) },
);

const envelope = (): CommandEnvelope => ({ actor: { kind: 'system', component: 'test' }, correlationId: randomUUID(), occurredAt: '2026-11-21T09:00:00.000Z' });

describe('the commander with a bounded state cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-commander-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let run = 0;

  /** Runs the steps on a store of its own; each command's outcome and every stream's events. */
  async function outcomes(cacheSize: number, steps: readonly Step[]): Promise<{ outcomes: string[]; log: string[][]; held: number }> {
    const store = SqliteEventStore.open(join(dir, `run-${run++}.sqlite`));
    const commander = new Commander(store, { cacheSize });
    const seen: string[] = [];
    try {
      for (const step of steps) {
        if (step.kind === 'behind') {
          // Another process, appending after whatever it last read.
          const stream = STREAMS[step.stream]!;
          const last = (await store.readStream(stream, { direction: 'backwards', maxCount: 1 }))[0];
          await store.append(stream, [{ id: randomUUID(), type: 'Added', data: { amount: step.amount } }], last ? last.revision : 'no_stream');
          continue;
        }
        // Queued in one tick: commands for one stream are batched, as concurrent callers' are.
        const settled = await Promise.allSettled(step.commands.map(({ stream, command }) => commander.execute(STREAMS[stream]!, meter, command, envelope())));
        for (const outcome of settled) {
          if (outcome.status === 'rejected') seen.push(outcome.reason instanceof CommandRejectedError ? `refused ${outcome.reason.rejection.code}` : `failed ${String(outcome.reason)}`);
          else seen.push(`revision ${outcome.value.revision}: ${outcome.value.events.map((e) => e.type).join(',')} → ${JSON.stringify(outcome.value.state)}`);
        }
      }
      const log = await Promise.all(STREAMS.map(async (stream) => (await store.readStream(stream)).map((e) => `${e.type} ${JSON.stringify(e.data)}`)));
      return { outcomes: seen, log, held: commander.cache.size };
    } finally {
      await store.close();
    }
  }

  it('decides every command as an unbounded cache would, holding no more than its bound', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 20 }), async (steps) => {
        const tiny = await outcomes(1, steps);
        const unbounded = await outcomes(1_000_000, steps);
        expect(tiny.outcomes).toEqual(unbounded.outcomes);
        expect(tiny.log).toEqual(unbounded.log);
        expect(tiny.held).toBeLessThanOrEqual(1);
      }),
      { numRuns: 60 },
    );
  });
});
