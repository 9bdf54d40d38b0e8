// The instance scheduler (behaviour §5.2, CloudStack's VMSchedulerImpl) on durable timers instead of
// a poll every minute: each enabled schedule has one timer, armed for its next fire. When it fires,
// the schedule aggregate decides what that fire does (runs, is skipped for an earlier schedule of the
// instance in the same minute, or — after an outage — which fires were missed), the instance decides
// whether the action fits its state, and the job is opened by the system actor through the ordinary
// workflows; then the timer is armed for the fire after. A schedule whose instance is gone or whose
// window is over is disabled. Every step is keyed by the fire (its timer's due time), so a handler
// run again after a crash adds nothing.
import type { Database } from 'better-sqlite3';
import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../adapters/clock/port.js';
import { CommandRejectedError, EVENT_ID_NAMESPACE, unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { instanceDecider, instanceStream, type InstanceCommand } from '../domain/instance/index.js';
import { vmScheduleDecider, vmScheduleStream, type VMSchedule, type VMScheduleAction, type VMScheduleCommand } from '../domain/schedule/index.js';
import { findInstance } from '../projections/instances/queries.js';
import { getJob } from '../projections/jobs/queries.js';
import { earlierEnabledSchedules, getVMSchedule, schedulesWithoutTimers } from '../projections/schedules/index.js';
import type { SagaRunner } from './runner.js';
import type { TimerFiring, TimerService } from './timers.js';

export const VM_SCHEDULE_TIMER = 'vm-schedule';

const ACTOR: CommandEnvelope['actor'] = { kind: 'system', component: 'vm-scheduler' };
/** The system acts as the root admin (CloudStack: ctxUserId=1) for the instance's owner. */
const SYSTEM_CALLER = { role: 'ROOT_ADMIN', accountId: 'system' } as const;

const CMD_OF_ACTION: Readonly<Record<VMScheduleAction, string>> = {
  START: 'startVirtualMachine',
  STOP: 'stopVirtualMachine',
  FORCE_STOP: 'stopVirtualMachine',
  REBOOT: 'rebootVirtualMachine',
  FORCE_REBOOT: 'rebootVirtualMachine',
};

export function scheduleTimerId(scheduleId: string): string {
  return `${VM_SCHEDULE_TIMER}.${scheduleId}`;
}

export interface ScheduleManagerOptions {
  readonly commander: Commander;
  readonly runner: SagaRunner;
  readonly timers: TimerService;
  readonly readModel: () => Database;
  readonly clock: Clock;
}

export class ScheduleManager {
  constructor(private readonly options: ScheduleManagerOptions) {
    options.timers.register(VM_SCHEDULE_TIMER, (firing) => this.onFire(firing));
  }

  /**
   * After a schedule was created, updated or deleted: its timer armed for the next fire from now, or
   * cancelled when it is disabled or gone. A timer firing right now takes this when its handler completes.
   */
  async changed(scheduleId: string): Promise<void> {
    const now = this.options.clock.now().toISOString();
    const result = await unlessRefused(this.execute({ type: 'ArmVMSchedule', scheduleId, at: now, after: now }));
    const schedule = result?.state;
    const timerId = scheduleTimerId(scheduleId);
    if (schedule?.exists && schedule.enabled && schedule.nextFireAt !== null) {
      await unlessRefused(this.options.timers.schedule(timerId, { kind: VM_SCHEDULE_TIMER, subjectId: scheduleId }, new Date(schedule.nextFireAt)));
    } else {
      await this.options.timers.cancel(timerId);
    }
  }

  /** At start-up: arms every enabled schedule that has no timer (a crash between a change and its arming). */
  async start(): Promise<void> {
    for (const id of schedulesWithoutTimers(this.options.readModel(), scheduleTimerId(''))) await this.changed(id);
  }

  private async onFire({ subjectId: scheduleId, dueAt, firedAt }: TimerFiring): Promise<Date | null> {
    const at = firedAt.toISOString();
    const jobId = uuidv5(`vm-schedule:${scheduleId}:${dueAt.toISOString()}`, EVENT_ID_NAMESPACE);
    let schedule: VMSchedule;
    try {
      // The schedule's instance never changes; the read model knows it well before its first fire.
      const row = getVMSchedule(this.options.readModel(), scheduleId);
      const instance = row && findInstance(this.options.readModel(), { kind: 'all' }, row.virtualMachineId);
      if (row && (!instance || instance.expunged)) {
        await this.execute({ type: 'DisableVMSchedule', scheduleId, at, reason: 'INSTANCE_EXPUNGED' });
        return null;
      }
      const earlier = earlierEnabledSchedules(this.options.readModel(), scheduleId);
      const fired = await this.execute({ type: 'FireVMSchedule', scheduleId, at, dueAt: dueAt.toISOString(), jobId, earlier });
      if (!fired.state.exists) return null;
      schedule = fired.state;
    } catch (error) {
      if (error instanceof CommandRejectedError && error.rejection.code === 'NOT_FOUND') return null;
      throw error;
    }
    if (schedule.running?.jobId === jobId) await this.run(schedule, schedule.running.fireAt, jobId);
    if (!schedule.enabled) return null;
    const armed = await this.execute({ type: 'ArmVMSchedule', scheduleId, at, after: at });
    return armed.state.exists && armed.state.enabled && armed.state.nextFireAt !== null ? new Date(armed.state.nextFireAt) : null;
  }

  /** The fire's action on the instance, then its job; a refusal is the fire skipped, with the reason. */
  private async run(schedule: VMSchedule, fireAt: string, jobId: string): Promise<void> {
    const open = { instanceId: schedule.instanceId, accountId: schedule.accountId, cmd: CMD_OF_ACTION[schedule.action] };
    // The job is open already (a handler run again after a crash): it only needs advancing.
    if (getJob(this.options.readModel(), { kind: 'all' }, jobId)) {
      void this.options.runner.advance(jobId, open);
      return;
    }
    const at = this.options.clock.now().toISOString();
    const command: InstanceCommand = { type: 'RunScheduledAction', instanceId: schedule.instanceId, at, caller: SYSTEM_CALLER, jobId, action: schedule.action, scheduleId: schedule.scheduleId };
    try {
      await this.options.commander.execute(instanceStream(schedule.instanceId), instanceDecider, command, { actor: ACTOR, correlationId: jobId, occurredAt: at });
    } catch (error) {
      if (!(error instanceof CommandRejectedError)) throw error;
      if (error.rejection.code === 'NOT_FOUND') {
        await this.execute({ type: 'DisableVMSchedule', scheduleId: schedule.scheduleId, at, reason: 'INSTANCE_EXPUNGED' });
        return;
      }
      await this.execute({ type: 'SkipVMScheduleFire', scheduleId: schedule.scheduleId, at, fireAt, reason: error.rejection.message });
      return;
    }
    void this.options.runner.advance(jobId, open);
  }

  private execute(command: VMScheduleCommand) {
    const at = this.options.clock.now().toISOString();
    return this.options.commander.execute(vmScheduleStream(command.scheduleId), vmScheduleDecider, command, { actor: ACTOR, correlationId: command.scheduleId, occurredAt: at });
  }
}
