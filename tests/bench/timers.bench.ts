// Issue 13's figures: the durable timer service (sagas/timers.ts) over a log holding the timers of
// BENCH_LEASES leased instances (default 100,000) and BENCH_SCHEDULES instance schedules (default
// 10,000). The timers are decided by the timer decider and appended straight to the store, many
// appends in flight so the store commits them in large transactions: what GraphQL would append, much
// faster. The leases are their expiry timers and the schedules their timers (the instances and the
// schedule aggregates themselves are not built: the timer service sees only the timers). Figures:
// the memory the service takes with every timer armed for the future (the target: none that grows
// with their number, since due times live in the log and the on-disk index), the delay between due
// time and the handler's call for 1,000 leases expiring in the same second, and the start-up of the
// read model and the timer service over that log. Then the delay again through the real lease path
// (lease-action.ts): the whole stack over that log, 1,000 leased instances, their STOP jobs.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { envelopeMetadata, deterministicEventId } from '../../adapters/eventstore/command-handler.js';
import { Commander } from '../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { projections } from '../../api/projections.js';
import { timerDecider, timerStream, type TimerCommand } from '../../domain/timer/index.js';
import { ReadModel } from '../../projections/read-model.js';
import { LEASE_EXPIRY_TIMER, LEASE_EXPIRING_TIMER, leaseTimerId } from '../../sagas/leases.js';
import { VM_SCHEDULE_TIMER, scheduleTimerId } from '../../sagas/schedules.js';
import { TimerService, type TimerFiring } from '../../sagas/timers.js';
import { SteppedClock } from '../support/stepped-clock.js';
import { leaseActionFigures } from './lease-action.js';
import { percentile } from './latency.js';
import { perSecond } from './report.js';
import type { SuiteContext } from './runner.js';

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;
const EXPIRING = 1_000;
/** Appends in flight while the log is built: the store commits each tick's appends in one transaction. */
const IN_FLIGHT = 2_000;

function count(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return value;
}

/** The heap after a full collection: what is still referenced, not what awaits collection. */
function collectedHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export async function timerFigures(context: SuiteContext): Promise<void> {
  const { report } = context;
  const leases = count('BENCH_LEASES', 100_000);
  const schedules = count('BENCH_SCHEDULES', 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-bench-timers-'));
  const readModelDir = join(dir, 'read-model');
  mkdirSync(readModelDir);
  const clock = new SteppedClock();
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  let readModel = await ReadModel.open({ store, projections, directory: readModelDir });
  let readModelOpen = true;
  const services: TimerService[] = [];
  try {
    // The log: every lease's expiry timer due between 2 and 30 days from now, every schedule's
    // timer within the next 2 to 9 days, spread so that none is due while the figures are taken.
    const now = clock.now().getTime();
    const arm = (i: number): { timerId: string; command: TimerCommand } => {
      if (i < leases) {
        const instanceId = `bench-${i}`;
        const timerId = leaseTimerId(LEASE_EXPIRY_TIMER, instanceId);
        const dueAt = new Date(now + 2 * DAY_MS + Math.floor((i / leases) * 28 * DAY_MS)).toISOString();
        return { timerId, command: { type: 'ScheduleTimer', timerId, dueAt, kind: LEASE_EXPIRY_TIMER, subjectId: instanceId } };
      }
      const scheduleId = `bench-schedule-${i - leases}`;
      const timerId = scheduleTimerId(scheduleId);
      const dueAt = new Date(now + 2 * DAY_MS + Math.floor(((i - leases) / Math.max(1, schedules)) * 7 * DAY_MS)).toISOString();
      return { timerId, command: { type: 'ScheduleTimer', timerId, dueAt, kind: VM_SCHEDULE_TIMER, subjectId: scheduleId } };
    };
    const total = leases + schedules;
    const metadata = envelopeMetadata({ actor: { kind: 'system', component: 'bench' }, correlationId: 'bench-timers', occurredAt: clock.now().toISOString() });
    let next = 0;
    const built = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < total; i = next++) {
          const { timerId, command } = arm(i);
          const decided = timerDecider.decide(command, timerDecider.initialState);
          if (!Array.isArray(decided)) throw new Error(`arming ${timerId} was refused`);
          const stream = timerStream(timerId);
          const events = decided.map((event, index) => ({ id: deterministicEventId(stream, 'bench', index), type: event.type, data: event.data, metadata }));
          await store.append(stream, events, 'no_stream');
        }
      }),
    );
    const head = await store.headPosition();
    if (!(await readModel.waitForPosition(head, 600_000))) throw new Error('the read model did not catch up with the log');
    report({ name: `log: ${leases.toLocaleString('en-US')} lease + ${schedules.toLocaleString('en-US')} schedule timers appended + indexed`, value: perSecond(total, built), unit: 'timers/s' });

    // (1) Memory: the service started over every future timer, then polling for a while. What it
    // holds of them is the growth of the collected heap; RSS adds SQLite's page cache, bounded.
    const heapBefore = collectedHeap();
    const rssBefore = process.memoryUsage().rss;
    const fired: number[] = [];
    const service = new TimerService({ commander: new Commander(store), readModel: () => readModel.db, clock, component: 'bench-timers' });
    services.push(service);
    const record = async (firing: TimerFiring): Promise<Date | null> => {
      fired.push(clock.now().getTime() - firing.dueAt.getTime());
      return null;
    };
    // Stand-ins for the lease and schedule handlers: the figure is the timer service's own delay.
    service.register(LEASE_EXPIRY_TIMER, record);
    service.register(LEASE_EXPIRING_TIMER, record);
    service.register(VM_SCHEDULE_TIMER, record);
    await service.start();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    if (fired.length > 0) throw new Error(`${fired.length} future timers fired`);
    const heapGrowth = collectedHeap() - heapBefore;
    report({ name: `timer service heap growth, start + 5 s polling, ${total.toLocaleString('en-US')} future (target ~0)`, value: heapGrowth / MIB, unit: 'MiB' });
    report({ name: 'the same per future timer (target ≪ 100 B, an in-memory heap entry)', value: heapGrowth / total, unit: 'B/timer' });
    report({ name: 'process RSS growth over the same', value: (process.memoryUsage().rss - rssBefore) / MIB, unit: 'MiB' });
    report({ name: 'process heap after collection, every timer armed', value: collectedHeap() / MIB, unit: 'MiB' });

    // (2) 1,000 leases expiring in the same second, a day ahead: armed through the service, then the
    // clock stepped to just before that second, as a day passes.
    const dueMs = Math.ceil((clock.now().getTime() + DAY_MS) / 1000) * 1000;
    await Promise.all(
      Array.from({ length: EXPIRING }, (_, i) =>
        service.schedule(leaseTimerId(LEASE_EXPIRY_TIMER, `bench-expiring-${i}`), { kind: LEASE_EXPIRY_TIMER, subjectId: `bench-expiring-${i}` }, new Date(dueMs + (i % 1000))),
      ),
    );
    if (!(await readModel.waitForPosition(await store.headPosition(), 60_000))) throw new Error('the index did not catch up');
    clock.step(dueMs - 1_500 - clock.now().getTime());
    const deadline = Date.now() + 60_000;
    while (fired.length < EXPIRING && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (fired.length < EXPIRING) throw new Error(`only ${fired.length} of ${EXPIRING} due leases fired within a minute`);
    report({ name: `due → handler delay, ${EXPIRING.toLocaleString('en-US')} leases due in one second, p50`, value: percentile(fired, 50), unit: 'ms' });
    report({ name: 'due → handler delay p99 (target < 2,000 ms)', value: percentile(fired, 99), unit: 'ms' });
    report({ name: 'due → handler delay max', value: Math.max(...fired), unit: 'ms' });
    await service.stop();
    services.length = 0;
    await readModel.close();
    readModelOpen = false;

    // (3) Start-up over that log: read model at its checkpoint (a restart) and rebuilt from the log
    // (a new read model), each until the timer service has started and run its first poll.
    const startUp = async (): Promise<number> => {
      const started = performance.now();
      readModel = await ReadModel.open({ store, projections, directory: readModelDir });
      readModelOpen = true;
      if (!(await readModel.waitForPosition(await store.headPosition(), 600_000))) throw new Error('the read model did not catch up at start-up');
      const restarted = new TimerService({ commander: new Commander(store), readModel: () => readModel.db, clock, component: 'bench-timers' });
      restarted.register(LEASE_EXPIRY_TIMER, record);
      restarted.register(VM_SCHEDULE_TIMER, record);
      services.push(restarted);
      await restarted.start();
      await restarted.tick();
      const elapsed = performance.now() - started;
      await restarted.stop();
      services.length = 0;
      await readModel.close();
      readModelOpen = false;
      return elapsed;
    };
    const events = await store.headPosition();
    report({ name: `start-up to first poll, read model at checkpoint, ${events.toLocaleString('en-US')} events`, value: await startUp(), unit: 'ms' });
    rmSync(readModelDir, { recursive: true, force: true });
    mkdirSync(readModelDir);
    report({ name: 'start-up to first poll, read model rebuilt from the log', value: await startUp(), unit: 'ms' });

    // (4) The same 1,000-lease delay through the real lease path, over the same log.
    await leaseActionFigures(context, store, readModelDir, EXPIRING);
  } finally {
    for (const service of services) await service.stop();
    if (readModelOpen) await readModel.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
