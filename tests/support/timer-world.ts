// A log, the index of due timers and a manual clock: what the timer service runs on, for its tests.
// `service()` starts a timer service on them, as a (re)started orchestrator process would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../adapters/clock/manual-clock.js';
import { Commander } from '../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { TimerEvent } from '../../domain/timer/index.js';
import { ReadModel } from '../../projections/read-model.js';
import { timersProjection } from '../../projections/timers/index.js';
import { TimerService, type TimerFiring, type TimerHandler } from '../../sagas/timers.js';

export interface TimerWorld {
  readonly clock: ManualClock;
  readonly store: SqliteEventStore;
  readonly readModel: ReadModel;
  /** Every call of a handler, in order, with the service that made it. */
  readonly handled: Array<TimerFiring & { readonly by: string }>;
  /** A timer service on this log with its own commander (a process of its own); `handler` for kind "test". */
  service(name: string, handler?: TimerHandler): TimerService;
  /** Waits until the index has every event appended so far. */
  settle(): Promise<void>;
  /** Every TimerFired in the log. */
  firings(): Promise<Array<Extract<TimerEvent, { type: 'TimerFired' }>['data']>>;
  close(): Promise<void>;
}

export async function timerWorld(start = new Date('2026-03-01T00:00:00.000Z')): Promise<TimerWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-timers-'));
  const clock = new ManualClock(start);
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  const readModel = await ReadModel.open({ store, projections: [timersProjection], directory: ':memory:' });
  const handled: TimerWorld['handled'] = [];
  const services: TimerService[] = [];
  return {
    clock,
    store,
    readModel,
    handled,
    service(name, handler) {
      const service = new TimerService({ commander: new Commander(store), readModel: () => readModel.db, clock, component: name });
      service.register('test', async (firing) => {
        handled.push({ ...firing, by: name });
        return handler ? handler(firing) : null;
      });
      services.push(service);
      return service;
    },
    async settle() {
      await readModel.waitForPosition(await store.headPosition(), 10_000);
    },
    async firings() {
      const fired: Array<Extract<TimerEvent, { type: 'TimerFired' }>['data']> = [];
      for (const event of await store.readAll({ fromPosition: 'start' })) {
        if (event.type === 'TimerFired') fired.push(event.data as Extract<TimerEvent, { type: 'TimerFired' }>['data']);
      }
      return fired;
    },
    async close() {
      for (const service of services) await service.stop();
      await readModel.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
