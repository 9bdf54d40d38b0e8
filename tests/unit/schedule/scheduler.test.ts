// The instance scheduler (sagas/schedules.ts) on a real log, read model, timer service and saga runner,
// with a manual clock: given schedules of a running instance, when their timers fire, then the one
// created first wins the minute, an action that does not fit the state is skipped, a fitting one is an
// ordinary job by the system, and after a restart the fires missed while down are recorded as missed
// and the latest one runs once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../adapters/bus/memory-bus.js';
import { ManualClock } from '../../../adapters/clock/manual-clock.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import { newCommandKey } from '../../../adapters/hypervisor/command-signing.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { projections } from '../../../api/projections.js';
import { instanceDecider, instanceStream } from '../../../domain/instance/index.js';
import { vmScheduleDecider, vmScheduleStream, type VMScheduleAction, type VMScheduleEvent } from '../../../domain/schedule/index.js';
import { findInstance } from '../../../projections/instances/queries.js';
import { getJob } from '../../../projections/jobs/queries.js';
import { ReadModel } from '../../../projections/read-model.js';
import { SagaRunner } from '../../../sagas/runner.js';
import { ScheduleManager } from '../../../sagas/schedules.js';
import { TimerService, type TimerHandler } from '../../../sagas/timers.js';
import { VM_SCHEDULE_TIMER, scheduleTimerId } from '../../../sagas/schedules.js';
import { timerDecider, timerStream } from '../../../domain/timer/index.js';
import { AT, ID, cmd, deploy } from '../instance/fixtures.js';

const ENVELOPE = { actor: { kind: 'system', component: 'test' }, correlationId: 'test', occurredAt: AT } as const;

describe('the instance scheduler', () => {
  let dir: string;
  let store: SqliteEventStore;
  let readModel: ReadModel;
  let clock: ManualClock;
  let runner: SagaRunner;
  let timers: TimerService;
  let manager: ScheduleManager;
  const commander = () => new Commander(store);

  const boot = () => {
    runner = new SagaRunner({ store, commander: commander(), readModel: () => readModel.db, bus: new MemoryBus(), clock, random: Math.random, timeouts: { agentMs: 60_000, gracefulStopMs: 30_000 }, commandKeys: { current: newCommandKey() } });
    timers = new TimerService({ commander: commander(), readModel: () => readModel.db, clock });
    manager = new ScheduleManager({ commander: commander(), runner, timers, readModel: () => readModel.db, clock });
  };
  const settle = async () => {
    await readModel.waitForPosition(await store.headPosition(), 10_000);
  };
  const create = async (scheduleId: string, action: VMScheduleAction, schedule: string) => {
    await commander().execute(
      vmScheduleStream(scheduleId),
      vmScheduleDecider,
      {
        type: 'CreateVMSchedule',
        scheduleId,
        at: clock.now().toISOString(),
        instanceId: ID.vm,
        instanceName: 'web-1',
        accountId: ID.account,
        domainId: ID.domain,
        action,
        schedule,
        timeZone: 'Europe/Berlin',
        description: null,
        startDate: null,
        endDate: null,
        enabled: true,
      },
      ENVELOPE,
    );
    await settle();
    await manager.changed(scheduleId);
    await settle();
  };
  const eventsOf = async (scheduleId: string) =>
    (await store.readStream(vmScheduleStream(scheduleId))).map((e) => ({ type: e.type, data: e.data }) as VMScheduleEvent).filter((e) => e.type !== 'VMScheduleArmed');
  const fire = async () => {
    await settle();
    await timers.tick();
    await settle();
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-scheduler-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    readModel = await ReadModel.open({ store, projections, directory: ':memory:' });
    clock = new ManualClock(new Date('2026-03-01T10:00:30.000Z'));
    for (const command of [deploy(), cmd.start(), cmd.startOk()]) await commander().execute(instanceStream(ID.vm), instanceDecider, command, ENVELOPE);
    boot();
  });
  afterEach(async () => {
    await timers.stop();
    runner.stop();
    await runner.idle();
    await readModel.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the schedule created first win the minute, skips what does not fit, and runs a fitting action as a job of the system', async () => {
    await create('s-a', 'START', '*/1 * * * *');
    await create('s-b', 'STOP', '*/1 * * * *');
    // Both start a minute from now (10:01:30); their first fire is 10:02.
    clock.advance(90_000);
    await fire();
    const minute = '2026-03-01T10:02:00.000Z';
    expect((await eventsOf('s-a')).slice(1).map((e) => [e.type, 'fireAt' in e.data ? e.data.fireAt : null])).toEqual([
      ['VMScheduleFired', minute],
      ['VMScheduleFireSkipped', minute],
    ]);
    expect((await eventsOf('s-b')).slice(1)).toEqual([
      { type: 'VMScheduleFireSkipped', data: { scheduleId: 's-b', instanceId: ID.vm, instanceName: 'web-1', action: 'STOP', fireAt: minute, reason: 'conflict with schedule s-a, created earlier, firing in the same minute' } },
    ]);
    expect(findInstance(readModel.db, { kind: 'all' }, ID.vm)?.state).toBe('Running');

    // Without the START schedule, the next minute's STOP runs: an ordinary stop job, by the system.
    await commander().execute(vmScheduleStream('s-a'), vmScheduleDecider, { type: 'DeleteVMSchedule', scheduleId: 's-a', at: clock.now().toISOString() }, ENVELOPE);
    await settle();
    await manager.changed('s-a');
    clock.advance(60_000);
    await fire();
    const fired = (await eventsOf('s-b')).find((e) => e.type === 'VMScheduleFired');
    expect(fired?.type === 'VMScheduleFired' && fired.data.fireAt).toBe('2026-03-01T10:03:00.000Z');
    const jobId = fired?.type === 'VMScheduleFired' ? fired.data.jobId : '';
    expect(findInstance(readModel.db, { kind: 'all' }, ID.vm)).toMatchObject({ state: 'Stopping', pending: { kind: 'stop', jobId } });
    expect(getJob(readModel.db, { kind: 'all' }, jobId)).toMatchObject({ cmd: 'stopVirtualMachine', instanceId: ID.vm });
  });

  it('after a restart records the fires missed while down and runs the latest one once', async () => {
    await create('s-b', 'REBOOT', '0 * * * *');
    await timers.stop();
    runner.stop();
    // Down from 10:00:30 until 13:20:00: the fires at 11:00 and 12:00 are more than a period old, 13:00 is not.
    clock.advance(3 * 3_600_000 + 19 * 60_000 + 30_000);
    boot();
    await manager.start();
    await fire();
    await fire();
    const events = (await eventsOf('s-b')).slice(1);
    expect(events.map((e) => e.type)).toEqual(['VMScheduleFiresMissed', 'VMScheduleFired']);
    expect(events[0]).toMatchObject({ data: { first: '2026-03-01T11:00:00.000Z', last: '2026-03-01T12:00:00.000Z', count: 2 } });
    expect(events[1]).toMatchObject({ data: { fireAt: '2026-03-01T13:00:00.000Z' } });
    expect(findInstance(readModel.db, { kind: 'all' }, ID.vm)?.pending).toMatchObject({ kind: 'reboot' });
  });

  it('keeps an update that lands while the schedule is firing: the next fire follows the new cron, not the old', async () => {
    await create('s-h', 'REBOOT', '0 * * * *');
    // The handler, wrapped so the update lands after it has decided its re-arm and before its firing is done.
    const handlers = (timers as unknown as { readonly handlers: Map<string, TimerHandler> }).handlers;
    const onFire = handlers.get(VM_SCHEDULE_TIMER)!;
    timers.register(VM_SCHEDULE_TIMER, async (firing) => {
      const rearmAt = await onFire(firing);
      await commander().execute(vmScheduleStream('s-h'), vmScheduleDecider, { type: 'UpdateVMSchedule', scheduleId: 's-h', at: clock.now().toISOString(), schedule: '30 * * * *' }, ENVELOPE);
      await manager.changed('s-h');
      return rearmAt;
    });
    // Starts a minute from now (10:01:30): the first fire is 11:00; after the update, the next is 11:30.
    clock.advance(60 * 60_000);
    await fire();
    expect((await eventsOf('s-h')).some((e) => e.type === 'VMScheduleFired')).toBe(true);
    const timer = (await store.readStream(timerStream(scheduleTimerId('s-h')))).reduce(
      (state, e) => timerDecider.evolve(state, { type: e.type, data: e.data } as Parameters<typeof timerDecider.evolve>[1]),
      timerDecider.initialState,
    );
    expect(timer).toMatchObject({ status: 'armed', dueAt: '2026-03-01T11:30:00.000Z' });
  });
});
