// The lease schedulers (behaviour §3.7) on durable timers instead of CloudStack's hourly and daily
// polls: each leased instance has an expiry timer, due at its expiry, and an expiring-event timer, due
// `instance.lease.expiryevent.daysbefore` days before it. The instance aggregate decides, from its own
// stream, whether the lease acts (so it acts at most once, whichever process fires the timer); this
// module opens the STOP or DESTROY job by the system actor through the ordinary workflows, and arms
// the timer again while the lease is still PENDING: at the expiry, or after
// `instance.lease.scheduler.interval` when the lease could not act yet (a delete-protected DESTROY, a
// busy instance, a failed job) — CloudStack's re-evaluation on its next run.
import type { Database } from 'better-sqlite3';
import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../adapters/clock/port.js';
import { CommandRejectedError, EVENT_ID_NAMESPACE, unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { effectiveSetting } from '../domain/config/index.js';
import { instanceDecider, instanceStream, type Instance, type InstanceCommand } from '../domain/instance/index.js';
import { settingsSnapshot } from '../projections/configuration/index.js';
import { pendingLeases } from '../projections/instances/queries.js';
import { leasesWithoutTimers } from '../projections/timers/index.js';
import type { SagaRunner } from './runner.js';
import type { TimerFiring, TimerService } from './timers.js';

export const LEASE_EXPIRY_TIMER = 'lease-expiry';
export const LEASE_EXPIRING_TIMER = 'lease-expiring';

const DAY_MS = 86_400_000;
const ACTOR: CommandEnvelope['actor'] = { kind: 'system', component: 'lease-manager' };
/** The system acts as the root admin (CloudStack: ctxUserId=1, ctxAccountId=1). */
const SYSTEM_CALLER = { role: 'ROOT_ADMIN', accountId: 'system' } as const;

export function leaseTimerId(kind: typeof LEASE_EXPIRY_TIMER | typeof LEASE_EXPIRING_TIMER, instanceId: string): string {
  return `${kind}.${instanceId}`;
}

export interface LeaseManagerOptions {
  readonly commander: Commander;
  readonly runner: SagaRunner;
  readonly timers: TimerService;
  readonly readModel: () => Database;
  readonly clock: Clock;
}

/** The lease as the instance holds it: enough to arm its timers. */
export type LeasedInstance = Pick<Instance, 'id' | 'leaseExecution' | 'leaseExpiryDate'>;

export class LeaseManager {
  constructor(private readonly options: LeaseManagerOptions) {
    options.timers.register(LEASE_EXPIRY_TIMER, (firing) => this.onExpiry(firing));
    options.timers.register(LEASE_EXPIRING_TIMER, (firing) => this.onExpiring(firing));
  }

  /** Arms (or moves) both timers of a PENDING lease; anything else needs none (a stale timer finds nothing to do). */
  async arm(instance: LeasedInstance): Promise<void> {
    if (instance.leaseExecution !== 'PENDING' || instance.leaseExpiryDate === null) return;
    const expiry = new Date(instance.leaseExpiryDate);
    const daysBefore = this.setting('instance.lease.expiryevent.daysbefore');
    const announce = new Date(Math.max(this.options.clock.now().getTime(), expiry.getTime() - daysBefore * DAY_MS));
    // A timer that is firing right now takes this arming when its handler completes.
    await unlessRefused(this.options.timers.schedule(leaseTimerId(LEASE_EXPIRY_TIMER, instance.id), { kind: LEASE_EXPIRY_TIMER, subjectId: instance.id }, expiry));
    await unlessRefused(this.options.timers.schedule(leaseTimerId(LEASE_EXPIRING_TIMER, instance.id), { kind: LEASE_EXPIRING_TIMER, subjectId: instance.id }, announce));
  }

  /**
   * At start-up: while the feature is off, finishes a cancellation a crash may have interrupted; then
   * arms the timers of every PENDING lease that has none (a crash between a deployment and its arming).
   */
  async start(): Promise<void> {
    if (!this.setting('instance.lease.enabled')) await this.cancelAll();
    for (const instance of leasesWithoutTimers(this.options.readModel(), leaseTimerId(LEASE_EXPIRY_TIMER, ''))) await this.arm(instance);
  }

  /** `instance.lease.enabled` turned off: every PENDING lease not yet expired is cancelled, for good. */
  async cancelAll(): Promise<number> {
    const at = this.options.clock.now().toISOString();
    let cancelled = 0;
    for (const instance of pendingLeases(this.options.readModel(), at)) {
      const result = await unlessRefused(this.execute({ type: 'CancelLease', instanceId: instance.id, at }, `lease-cancel-${instance.id}`));
      if (result && result.events.length > 0) cancelled++;
    }
    return cancelled;
  }

  private async onExpiry({ subjectId, firedAt }: TimerFiring): Promise<Date | null> {
    const at = firedAt.toISOString();
    const jobId = uuidv5(`lease-expiry:${subjectId}:${at}`, EVENT_ID_NAMESPACE);
    const command: InstanceCommand = { type: 'ActOnLease', instanceId: subjectId, at, caller: SYSTEM_CALLER, jobId, leaseFeatureEnabled: this.setting('instance.lease.enabled') };
    let instance: Instance;
    try {
      const result = await this.execute(command, jobId);
      if (!result.state.exists) return null;
      instance = result.state;
      const expired = result.events.find((event) => event.type === 'LeaseExpired');
      if (expired?.type === 'LeaseExpired') {
        const cmd = expired.data.expiryAction === 'STOP' ? 'stopVirtualMachine' : 'destroyVirtualMachine';
        await this.options.runner.advance(jobId, { instanceId: subjectId, accountId: instance.accountId, cmd });
      }
    } catch (error) {
      // An instance that is gone (expunged) has no lease left to act on.
      if (error instanceof CommandRejectedError && error.rejection.code === 'NOT_FOUND') return null;
      throw error;
    }
    if (instance.leaseExecution !== 'PENDING' || instance.leaseExpiryDate === null) return null;
    const again = firedAt.getTime() + this.setting('instance.lease.scheduler.interval') * 1000;
    return new Date(Math.max(Date.parse(instance.leaseExpiryDate), again));
  }

  private async onExpiring({ subjectId, firedAt }: TimerFiring): Promise<Date | null> {
    const daysBefore = this.setting('instance.lease.expiryevent.daysbefore');
    const period = this.setting('instance.lease.eventscheduler.interval') * 1000;
    // Nothing is announced while the feature is off (CloudStack's task returns at once); the timer keeps its period.
    if (!this.setting('instance.lease.enabled')) return new Date(firedAt.getTime() + period);
    let instance: Instance;
    try {
      const command: InstanceCommand = { type: 'AnnounceLeaseExpiry', instanceId: subjectId, at: firedAt.toISOString(), daysBefore };
      const result = await this.execute(command, `lease-expiring-${subjectId}`);
      if (!result.state.exists) return null;
      instance = result.state;
    } catch (error) {
      if (error instanceof CommandRejectedError && error.rejection.code === 'NOT_FOUND') return null;
      throw error;
    }
    if (instance.leaseExecution !== 'PENDING' || instance.leaseExpiryDate === null) return null;
    const expiry = Date.parse(instance.leaseExpiryDate);
    if (expiry <= firedAt.getTime()) return null;
    return new Date(Math.max(firedAt.getTime() + period, expiry - daysBefore * DAY_MS));
  }

  private setting<K extends 'instance.lease.enabled' | 'instance.lease.scheduler.interval' | 'instance.lease.eventscheduler.interval' | 'instance.lease.expiryevent.daysbefore'>(name: K) {
    return effectiveSetting(name, settingsSnapshot(this.options.readModel()).global);
  }

  private execute(command: InstanceCommand, correlationId: string) {
    const at = this.options.clock.now().toISOString();
    return this.options.commander.execute(instanceStream(command.instanceId), instanceDecider, command, { actor: ACTOR, correlationId, occurredAt: at });
  }
}
