// The durable timer service, whatever the clock does: for random due times, clock steps forward and
// back (NTP, a resumed VM), restarts and two processes polling one log, every timer that is due is
// fired exactly once, by one process, never before its due time (even when a process polls an index
// that has not caught up with a timer moved later), and none that is not due fires.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TimerService } from '../../sagas/timers.js';
import { timerWorld } from '../support/timer-world.js';

type Step =
  | { readonly kind: 'clock'; readonly ms: number }
  /** `stale`: the processes poll before the index has caught up with the last steps. */
  | { readonly kind: 'tick'; readonly who: 'a' | 'b' | 'both'; readonly stale: boolean }
  /** A timer not fired yet is moved later (a lease extended). */
  | { readonly kind: 'move'; readonly index: number; readonly laterBy: number }
  | { readonly kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('clock' as const), ms: fc.integer({ min: -120_000, max: 600_000 }) }),
  fc.record({ kind: fc.constant('tick' as const), who: fc.constantFrom('a' as const, 'b' as const, 'both' as const), stale: fc.boolean() }),
  fc.record({ kind: fc.constant('move' as const), index: fc.nat(11), laterBy: fc.integer({ min: 1, max: 600_000 }) }),
  fc.record({ kind: fc.constant('restart' as const) }),
);

describe('durable timers (property)', () => {
  it('fire every due timer exactly once and none early, across clock steps, restarts and two processes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -60_000, max: 1_800_000 }), { minLength: 1, maxLength: 12 }), fc.array(step, { maxLength: 25 }), async (dues, steps) => {
        const world = await timerWorld();
        try {
          const start = world.clock.now().getTime();
          let generation = 0;
          const services = (): [TimerService, TimerService] => {
            generation++;
            return [world.service(`a${generation}`), world.service(`b${generation}`)];
          };
          let [a, b] = services();
          for (const [i, due] of dues.entries()) await a.schedule(`t${i}`, { kind: 'test', subjectId: `s${i}` }, new Date(start + due));
          let due = dues;
          const check = async () => {
            const now = world.clock.now().getTime();
            const fired = await world.firings();
            for (const [i, dueAt] of due.entries()) {
              const mine = fired.filter((f) => f.timerId === `t${i}`);
              // Every timer due by now has fired once; one not due yet may have fired earlier only
              // if it was due then (the clock went back since).
              if (start + dueAt <= now) expect(mine, `t${i} due ${dueAt}`).toHaveLength(1);
              else expect(mine.length).toBeLessThanOrEqual(1);
              for (const f of mine) expect(Date.parse(f.firedAt)).toBeGreaterThanOrEqual(start + dueAt);
            }
          };
          due = [...dues];
          for (const s of [...steps, { kind: 'clock', ms: 3_000_000 } as const, { kind: 'tick', who: 'both', stale: false } as const]) {
            if (s.kind === 'clock') world.clock.advance(s.ms);
            else if (s.kind === 'move') {
              const i = s.index % due.length;
              if ((await world.firings()).some((f) => f.timerId === `t${i}`)) continue;
              due[i] = Math.max(due[i]!, world.clock.now().getTime() - start) + s.laterBy;
              await a.schedule(`t${i}`, { kind: 'test', subjectId: `s${i}` }, new Date(start + due[i]!));
              // Polled at once: the index may still show the old due time, which has passed.
              await Promise.all([a.tick(), b.tick()]);
            }
            else if (s.kind === 'restart') {
              await a.stop();
              await b.stop();
              [a, b] = services();
            } else {
              if (!s.stale) await world.settle();
              if (s.who === 'both') await Promise.all([a.tick(), b.tick()]);
              else await (s.who === 'a' ? a : b).tick();
              // Then a poll on an index that has caught up, after which nothing due may be left.
              await world.settle();
              await a.tick();
              await world.settle();
              await check();
            }
          }
          const fired = await world.firings();
          expect(fired).toHaveLength(dues.length);
          expect(world.handled).toHaveLength(dues.length);
        } finally {
          await world.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
