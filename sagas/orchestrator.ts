// The orchestrator's life: on start it resumes every operation left in flight (from the read model,
// once it has caught up with the log), listens to the agents, and sweeps destroyed instances into
// expunge after `expunge.delay`, every `expunge.interval`; and it runs the durable timers (sagas/timers.ts),
// which the lease schedulers (sagas/leases.ts) and the instance scheduler (sagas/schedules.ts) use.
import type { Database } from 'better-sqlite3';
import type { Bus, Consumer } from '../adapters/bus/port.js';
import type { Clock } from '../adapters/clock/port.js';
import { CommandRejectedError } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { effectiveSetting } from '../domain/config/index.js';
import { instanceDecider, instanceStream, type PendingOperation } from '../domain/instance/index.js';
import type { JobResource } from '../domain/job/index.js';
import { settingsSnapshot } from '../projections/configuration/index.js';
import { destroyedInstances } from '../projections/instances/queries.js';
import { instancesAwaitingUnopenedJobs, pendingJobs } from '../projections/jobs/queries.js';
import { consumeAgentMessages } from './agent-messages.js';
import { HostLiveness } from './host-liveness.js';
import { CLAIM_GRACE_MS, releaseOrphanedClaims } from './orphaned-claims.js';
import type { LeaseManager } from './leases.js';
import type { ScheduleManager } from './schedules.js';
import type { SagaRunner } from './runner.js';
import type { TimerService } from './timers.js';

export interface OrchestratorOptions {
  readonly commander: Commander;
  readonly runner: SagaRunner;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly readModel: () => Database;
  /** Whether the read model has every event the log holds: power reports that confirm it are then not decided. */
  readonly readModelCaughtUp?: () => Promise<boolean>;
  /** The durable timers (lease expiry among them), polled while the orchestrator runs. */
  readonly timers: TimerService;
  readonly leases: LeaseManager;
  readonly schedules: ScheduleManager;
  readonly onError?: (error: unknown) => void;
}

const CMD_OF_PENDING: Record<Exclude<PendingOperation['kind'], 'vmsnapshot'>, string> = {
  start: 'startVirtualMachine',
  stop: 'stopVirtualMachine',
  reboot: 'rebootVirtualMachine',
  migrate: 'migrateVirtualMachine',
  scale: 'scaleVirtualMachine',
  expunge: 'expungeVirtualMachine',
  storageMigration: 'migrateVirtualMachineWithVolume',
  import: 'importUnmanagedInstance',
  unmanage: 'unmanageVirtualMachine',
};

const CMD_OF_SNAPSHOT_TASK = {
  create: 'createVMSnapshot',
  revert: 'revertToVMSnapshot',
  delete: 'deleteVMSnapshot',
} as const;

/** The job an instance's pending work belongs to, and what it acts on. */
function jobOfPending(pending: PendingOperation): { cmd: string; resource?: JobResource } {
  if (pending.kind !== 'vmsnapshot') return { cmd: CMD_OF_PENDING[pending.kind] };
  // A purge belongs to the destroy or the unmanage it deletes the snapshots for.
  const cmd = pending.task !== 'purge' ? CMD_OF_SNAPSHOT_TASK[pending.task] : pending.then?.action === 'unmanage' ? 'unmanageVirtualMachine' : 'destroyVirtualMachine';
  return pending.vmSnapshotId === null ? { cmd } : { cmd, resource: { type: 'VMSnapshot', id: pending.vmSnapshotId } };
}

export class Orchestrator {
  private consumers: Consumer[] = [];
  private cancelSweep: (() => void) | undefined;
  private cancelClaimSweep: (() => void) | undefined;
  private stopped = false;
  readonly hostLiveness: HostLiveness;

  constructor(private readonly options: OrchestratorOptions) {
    this.hostLiveness = new HostLiveness(options);
  }

  async start(): Promise<void> {
    this.consumers = await consumeAgentMessages({ ...this.options, onHeartbeat: (hostId) => this.hostLiveness.heard(hostId), onError: this.options.onError });
    this.resume();
    this.scheduleSweep();
    this.scheduleClaimSweep();
    this.hostLiveness.start();
    await this.options.leases.start();
    await this.options.schedules.start();
    await this.options.timers.start();
  }

  /** Every job not finished, and every instance busy with a job whose stream was never opened (a crash in between). */
  resume(): void {
    const db = this.options.readModel();
    for (const job of pendingJobs(db)) void this.options.runner.advance(job.id);
    for (const orphan of instancesAwaitingUnopenedJobs(db)) {
      const pending = orphan.pending;
      if (!pending) continue;
      void this.options.runner.advance(orphan.jobId, { instanceId: orphan.id, accountId: orphan.accountId, ...jobOfPending(pending) });
    }
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    const global = settingsSnapshot(this.options.readModel()).global;
    const intervalMs = effectiveSetting('expunge.interval', global) * 1000;
    this.cancelSweep = this.options.clock.at(new Date(this.options.clock.now().getTime() + intervalMs), () => {
      void this.sweep()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.scheduleSweep());
    });
  }

  /** Names and addresses claimed by deployments that died before recording their instance, every grace period. */
  private scheduleClaimSweep(): void {
    if (this.stopped) return;
    this.cancelClaimSweep = this.options.clock.at(new Date(this.options.clock.now().getTime() + CLAIM_GRACE_MS), () => {
      void releaseOrphanedClaims(this.options)
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.scheduleClaimSweep());
    });
  }

  /** Destroyed instances whose expunge delay has passed are expunged, as CloudStack's expunge thread does. */
  async sweep(): Promise<number> {
    const db = this.options.readModel();
    const now = this.options.clock.now();
    const due = destroyedInstances(db);
    let expunged = 0;
    for (const instance of due) {
      const snapshot = settingsSnapshot(db, instance.zoneId);
      const delayMs = effectiveSetting('expunge.delay', snapshot.global, snapshot.zone) * 1000;
      if (Date.parse(instance.since) + delayMs > now.getTime()) continue;
      const at = now.toISOString();
      try {
        await this.options.commander.execute(
          instanceStream(instance.id),
          instanceDecider,
          { type: 'ExpungeInstance', instanceId: instance.id, at, caller: { role: 'ROOT_ADMIN', accountId: 'system' }, allowUserExpungeRecoverVm: true },
          { actor: { kind: 'system', component: 'expunge-sweeper' }, correlationId: `expunge-${instance.id}`, occurredAt: at },
        );
      } catch (error) {
        if (error instanceof CommandRejectedError) continue;
        throw error;
      }
      void this.options.runner.advance(`expunge-${instance.id}`, { instanceId: instance.id, accountId: instance.accountId, cmd: 'expungeVirtualMachine' });
      expunged++;
    }
    return expunged;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelSweep?.();
    this.cancelClaimSweep?.();
    this.hostLiveness.stop();
    await this.options.timers.stop();
    for (const consumer of this.consumers) await consumer.cancel();
    this.options.runner.stop();
    await this.options.runner.idle();
  }
}
