// Runs every workflow (./workflows/): asks the job's workflow what to do next and does it, until the job
// waits for a reply or a timer, or ends. Level-triggered, so it is called freely: after a mutation,
// on an agent's reply, when a timer fires, on a power report, and for every unfinished job after a
// restart. Jobs run one step at a time each (a per-job lock), many jobs at once.
import type { Database } from 'better-sqlite3';
import type { Bus } from '../adapters/bus/port.js';
import type { Clock } from '../adapters/clock/port.js';
import { CommandRejectedError, unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import { signCommand, type CommandKeyRing } from '../adapters/hypervisor/command-signing.js';
import { sealSecret } from '../adapters/hypervisor/sealed-secret.js';
import type { SecretStore } from '../adapters/secrets/port.js';
import { agentQueue, toBusMessage, type AgentCommand } from '../adapters/hypervisor/protocol.js';
import { claimedInstanceName } from '../projections/jobs/queries.js';
import { affinityConstraints } from '../domain/affinity/index.js';
import { groupMemberships } from '../projections/affinity/index.js';
import { AffinityPlacements } from './affinity-placements.js';
import { effectiveSetting } from '../domain/config/index.js';
import { planHost } from '../domain/allocation/index.js';
import { allocationSettings } from '../domain/allocation/index.js';
import { hostDecider, hostStream } from '../domain/host/index.js';
import { instanceDecider, instanceStream, type Instance, type InstanceCommand, type InstanceEvent, type InstanceState } from '../domain/instance/index.js';
import { commandIdOf, jobDecider, jobStream, type Job, type JobCommand, type JobEvent, type JobResource, type JobState } from '../domain/job/index.js';
import { vmSnapshotDecider, vmSnapshotStream, type VMSnapshotEvent, type VMSnapshotState } from '../domain/vmsnapshot/index.js';
import { fold } from '../domain/shared/decider.js';
import { settingsSnapshot } from '../projections/configuration/index.js';
import { hostCapacitySnapshot } from '../projections/infrastructure/index.js';
import { accountInstancesPerHost } from '../projections/instances/queries.js';
import { commandMessageId } from './agent-messages.js';
import { abandonDeployment, INTERRUPTED } from './deploy-compensation.js';
import { releaseInstanceName } from './instance-names.js';
import { releaseNicAddress } from './nic-addresses.js';
import { StreamHistory } from './stream-history.js';
import { hostWithStorage, reconcileVolumes, reserveStorage, reserveVolumes } from './volume-storage.js';
import { CAPACITY_PREFIX } from './workflows/finish.js';
import { progressOf, workflowOf } from './workflows/registry.js';
import type { OperationTimeouts, Step, Workflow } from './workflows/workflow.js';

export interface SagaRunnerOptions {
  readonly store: EventStore;
  readonly commander: Commander;
  /** The local read model: capacity snapshots and settings for the planner. */
  readonly readModel: () => Database;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly random: () => number;
  readonly timeouts: OperationTimeouts;
  /** The keys commands are signed with (the current one); agents refuse what is not signed. */
  readonly commandKeys: CommandKeyRing;
  /** How many streams' events the runner keeps between steps (StreamHistory's bound). */
  readonly historyCacheSize?: number;
  readonly onError?: (error: unknown, jobId: string) => void;
  /**
   * Where a command's password is held by reference (an external import's login): read only to be
   * sealed into the message, and deleted when the job ends, whatever its outcome.
   */
  readonly secrets?: SecretStore;
}

/** What opens a job whose stream does not exist yet (its instance's pending work names it). */
export interface JobOpening {
  readonly instanceId: string;
  readonly accountId: string;
  readonly cmd: string;
  readonly resource?: JobResource;
}

const SYSTEM: CommandEnvelope['actor'] = { kind: 'system', component: 'orchestrator' };
/** A start on the host the admin named (startVirtualMachine/deployVirtualMachine `hostId`) bypasses affinity groups (§6.3). */
function isExplicitHost(job: Job, history: readonly InstanceEvent[], phase: string, hostId: string): boolean {
  if (phase !== 'start') return false;
  const request = [...history].reverse().find((e) => e.type === 'InstanceStartRequested' && e.data.jobId === job.jobId);
  return request?.type === 'InstanceStartRequested' && request.data.requestedHostId === hostId;
}

/** Steps one call may take before it yields; a saga never needs this many without waiting. */
const MAX_STEPS = 50;
/** How soon a command the bus would not take is offered again. */
const PUBLISH_RETRY_MS = 1000;

export class SagaRunner {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, { at: number; cancel: () => void }>();
  /** Commands this process has published since it started; after a restart all are sent again. */
  private readonly published = new Set<string>();
  /** Commands this process issued, or took over from a process that died: their deadlines are its own. */
  private readonly owned = new Set<string>();
  private readonly publishRetries = new Set<() => void>();
  private stopped = false;
  private readonly history: StreamHistory;
  private readonly placements: AffinityPlacements;

  constructor(private readonly options: SagaRunnerOptions) {
    this.history = new StreamHistory(options.store, options.historyCacheSize);
    this.placements = new AffinityPlacements(options.commander);
  }

  /** Moves the job as far as it can go now. `instanceId` opens the job if its stream does not exist yet. */
  advance(jobId: string, open?: JobOpening): Promise<JobState> {
    const previous = this.locks.get(jobId) ?? Promise.resolve();
    const run = previous.then(() => this.run(jobId, open)).catch((error: unknown) => {
      this.options.onError?.(error, jobId);
      return { exists: false } as JobState;
    });
    this.locks.set(jobId, run);
    void run.finally(() => {
      if (this.locks.get(jobId) === run) this.locks.delete(jobId);
    });
    return run;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    for (const cancel of this.publishRetries) cancel();
    this.publishRetries.clear();
  }

  /** What the runner holds in memory between steps: it does not grow with the jobs it has finished. */
  held(): { readonly commandIds: number; readonly streams: number; readonly timers: number } {
    return { commandIds: new Set([...this.published, ...this.owned]).size, streams: this.history.size, timers: this.timers.size };
  }

  /** Resolves when no job is being advanced. */
  async idle(): Promise<void> {
    while (this.locks.size > 0) await Promise.allSettled([...this.locks.values()]);
  }

  private async run(jobId: string, open?: JobOpening): Promise<JobState> {
    for (let steps = 0; steps < MAX_STEPS && !this.stopped; steps++) {
      let job = await this.loadJob(jobId);
      if (!job.exists) {
        if (!open) return job;
        job = await this.job(jobId, { type: 'OpenJob', jobId, cmd: open.cmd, instanceId: open.instanceId, accountId: open.accountId, at: this.now(), ...(open.resource ? { resource: open.resource } : {}) });
        if (!job.exists) return job;
      }
      if (job.status !== 'PENDING') return job;
      const workflow = workflowOf(job.cmd);
      const { instance, history } = await this.loadInstance(job.instanceId);
      if (!instance) {
        if (workflow.compensation.includes('abandon-deployment')) {
          // Only a deployment that died before recording its instance leaves its job here: undo it.
          // (Once recorded after all, by a twin still under way, the next round sees the instance.)
          const name = claimedInstanceName(this.options.readModel(), job.accountId, job.instanceId);
          await abandonDeployment(this.options.commander, { instanceId: job.instanceId, accountId: job.accountId, name, jobId, nics: job.claims ?? [] }, INTERRUPTED, this.envelope(this.now(), jobId));
          continue;
        }
        return this.job(jobId, { type: 'CompleteJob', error: { code: 'NOT_FOUND', errorCode: 431, message: `instance ${job.instanceId} does not exist` }, at: this.now() });
      }
      job = await this.takeOver(job);
      this.publishUnsent(job);
      const snapshots = await this.loadSnapshots(instance, job);
      const step = workflow.decide({ job, instance, history, snapshots, now: this.now(), timeouts: this.options.timeouts });
      if (step.kind === 'wait') {
        this.arm(jobId, step.until);
        return job;
      }
      await this.execute(workflow, job, instance, history, step);
    }
    return this.loadJob(jobId);
  }

  private async execute(workflow: Workflow, job: Job, instance: Instance, history: readonly InstanceEvent[], step: Exclude<Step, { kind: 'wait' }>): Promise<void> {
    const at = this.now();
    switch (step.kind) {
      case 'choose-host': {
        const hostId = this.plan(job, instance, history);
        if (typeof hostId === 'string') await this.job(job.jobId, { type: 'ChooseHost', phase: step.phase, hostId, at, progress: progressOf(workflow, step.step) });
        else await this.instance(step.onNone(`${CAPACITY_PREFIX}${hostId.reason}`));
        return;
      }
      case 'issue': {
        if (step.reserve && step.placeVolumes && !(await this.placeVolumes(job, instance, step))) return;
        if (step.reserveStorage) {
          const refused = await reserveStorage(this.options.commander, this.options.readModel(), instance.zoneId, step.reserveStorage, this.envelope(at));
          if (refused !== undefined) {
            if (step.onRefused && 'record' in step.onRefused) await this.instance(step.onRefused.record(refused));
            else if (step.onRefused) await this.job(job.jobId, { type: 'RejectHost', phase: step.phase, hostId: step.onRefused.rejectHost, reason: refused, at });
            else throw new Error(refused);
            return;
          }
        }
        if (step.reserve) {
          const { hostId, ...resources } = step.reserve;
          // Strict affinity groups first: the groups' streams refuse a host another member's placement
          // rules out, so concurrent starts in one group cannot both take it (§6.3's reservation check).
          const enforce = !isExplicitHost(job, history, step.phase, hostId);
          let placed = false;
          try {
            placed = await this.placements.place(instance, hostId, enforce, this.envelope(at));
            await this.options.commander.execute(hostStream(hostId), hostDecider, { type: 'ReserveCapacity', instanceId: instance.id, ...resources }, this.envelope(at));
          } catch (error) {
            if (placed) await this.placements.unplace(instance, hostId, this.envelope(at));
            if (!(error instanceof CommandRejectedError)) throw error;
            const refusal = step.onRefused;
            if (refusal && 'rejectHost' in refusal) {
              await this.job(job.jobId, { type: 'RejectHost', phase: step.phase, hostId: refusal.rejectHost, reason: error.message, at });
            } else if (refusal) {
              await this.instance(refusal.record(error.message));
            } else {
              throw error;
            }
            return;
          }
        }
        const command: AgentCommand = { ...step.command, commandId: commandIdOf(job.jobId, job.commands.length) };
        const timeoutAt = new Date(this.options.clock.now().getTime() + step.timeoutMs).toISOString();
        this.owned.add(command.commandId);
        const after = await this.job(job.jobId, { type: 'IssueAgentCommand', phase: step.phase, command, timeoutAt, at, progress: progressOf(workflow, step.step) });
        if (after.exists) this.publishUnsent(after);
        return;
      }
      case 'record':
        await this.instance(step.command);
        return;
      case 'snapshot':
        await unlessRefused(
          this.options.commander.execute(vmSnapshotStream(step.command.vmSnapshotId), vmSnapshotDecider, step.command, this.envelope(step.command.at, step.command.jobId)),
        );
        return;
      case 'finish': {
        for (const hostId of step.release) {
          await this.options.commander.execute(hostStream(hostId), hostDecider, { type: 'ReleaseCapacity', instanceId: instance.id }, this.envelope(at));
        }
        if (step.keep) {
          const { hostId, ...resources } = step.keep;
          // The instance runs there whatever the books say; a host that cannot take it is overcommitted, not wrong.
          await unlessRefused(
            this.options.commander.execute(hostStream(hostId), hostDecider, { type: 'ReserveCapacity', instanceId: instance.id, ...resources }, this.envelope(at)),
          );
        }
        // The groups keep the one host the instance runs on now, or none.
        await this.placements.settle(instance, step.keep?.hostId ?? null, this.envelope(at));
        await reconcileVolumes(this.options.commander, this.options.readModel(), instance.zoneId, step.volumes, this.envelope(at));
        if (step.freeAddresses) await this.freeAddresses(instance);
        await this.forgetSecrets(job, history);
        await this.job(job.jobId, { type: 'CompleteJob', error: step.error, at });
        return;
      }
    }
  }

  /** An expunged instance gives its addresses and its name back (an unmanaged one keeps its NICs' with unmanage.vm.preserve.nics). */
  private async freeAddresses(instance: Instance): Promise<void> {
    const envelope = this.envelope(this.now());
    for (const nic of instance.nicsKept ? [] : instance.nics) {
      await releaseNicAddress(this.options.commander, { networkId: nic.networkId, nicId: nic.id }, envelope);
    }
    await releaseInstanceName(this.options.commander, { accountId: instance.accountId, instanceId: instance.id, name: instance.name }, envelope);
  }

  private plan(job: Job, instance: Instance, history: readonly InstanceEvent[]): string | { reason: string } {
    const request = [...history].reverse().find((e) => e.type === 'InstanceStartRequested' && e.data.jobId === job.jobId);
    const asked = request?.type === 'InstanceStartRequested' ? request.data : undefined;
    const db = this.options.readModel();
    const settings = settingsSnapshot(db, instance.zoneId);
    const allocation = allocationSettings(settings.global, settings.zone);
    // Counting the account's instances per host costs a scan; only userdispersing orders by it.
    const counts = allocation.algorithm === 'userdispersing' ? Object.fromEntries(accountInstancesPerHost(db, instance.accountId)) : {};
    const snapshot = hostCapacitySnapshot(db, { zoneId: instance.zoneId, accountInstanceCounts: counts });
    // Only groups that exist count; an explicit host bypasses them (planHost does not look).
    const affinity =
      instance.affinityGroupIds.length === 0
        ? undefined
        : affinityConstraints(instance.id, groupMemberships(db, instance.affinityGroupIds), this.now(), effectiveSetting('capacity.skipcounting.hours', settings.global, settings.zone));
    const plan = planHost(
      {
        ...allocation,
        cpuNumber: instance.cpuNumber,
        cpuSpeed: instance.cpuSpeed,
        memory: instance.memory,
        hostTags: instance.serviceOffering.hostTags,
        hypervisorType: instance.hypervisorType,
        explicitHostId: asked?.requestedHostId ?? null,
        clusterId: asked?.requestedClusterId ?? null,
        lastHostId: asked?.lastHostId ?? instance.lastHostId,
        considerLastHost: asked?.considerLastHost ?? true,
        avoidHostIds: job.rejectedHosts,
        ...(affinity ? { affinity, hostPriorities: affinity.hostPriorities } : {}),
      },
      snapshot,
      this.options.random,
    );
    // The host must also reach pools that can hold the instance's volumes (storage/volume-storage.ts).
    return 'hostId' in plan ? hostWithStorage(db, instance, plan.candidates, snapshot.hosts) : { reason: plan.message };
  }

  /**
   * Stores the volumes that have no pool yet on pools the step's host reaches. Resolves whether the
   * step may go on: false once it recorded the placement (the next round sees the volumes placed) or
   * the host was refused.
   */
  private async placeVolumes(job: Job, instance: Instance, step: Extract<Step, { kind: 'issue' }>): Promise<boolean> {
    const hostId = step.reserve!.hostId;
    const at = this.now();
    const host = hostCapacitySnapshot(this.options.readModel(), { zoneId: instance.zoneId }).hosts.find((h) => h.hostId === hostId);
    const outcome = host
      ? await reserveVolumes(this.options.commander, this.options.readModel(), instance, host, this.envelope(at))
      : ({ kind: 'refused', reason: `host ${hostId} is not in zone ${instance.zoneId}` } as const);
    if (outcome.kind === 'none') return true;
    if (outcome.kind === 'placed') {
      const placements = outcome.placements.map((p) => ({ volumeId: p.volumeId, storagePoolId: p.poolId }));
      await this.instance({ type: 'RecordVolumesPlaced', instanceId: instance.id, jobId: job.jobId, at, placements });
      return false;
    }
    const refusal = step.onRefused;
    if (refusal && 'rejectHost' in refusal) await this.job(job.jobId, { type: 'RejectHost', phase: step.phase, hostId: refusal.rejectHost, reason: outcome.reason, at });
    else if (refusal) await this.instance(refusal.record(`${CAPACITY_PREFIX}${outcome.reason}`));
    return false;
  }

  /**
   * Commands without a reply that another process issued (this one's predecessor, before a crash or
   * a restart) are sent again with a deadline of their own, as long as the one they were given.
   */
  private async takeOver(job: Job): Promise<Job> {
    let current: JobState = job;
    for (const issued of job.commands) {
      const id = issued.command.commandId;
      if (issued.reply || issued.timedOut || this.owned.has(id)) continue;
      this.owned.add(id);
      const timeoutMs = Math.max(0, Date.parse(issued.timeoutAt) - Date.parse(issued.sentAt));
      const timeoutAt = new Date(this.options.clock.now().getTime() + timeoutMs).toISOString();
      current = await this.job(job.jobId, { type: 'ResendAgentCommand', commandId: id, timeoutAt, at: this.now() });
    }
    return current.exists ? current : job;
  }

  /** Sends the job's commands that have no reply yet and that this process has not sent: after a restart, all of them. */
  private publishUnsent(job: Job): void {
    for (const issued of job.commands) {
      const id = issued.command.commandId;
      if (issued.reply || issued.timedOut || this.published.has(id)) continue;
      this.published.add(id);
      const command = issued.command;
      const send = async (): Promise<void> => {
        // Valid until the job stops waiting for the answer; a resend after a restart is signed anew.
        const message = signCommand(toBusMessage(commandMessageId(id), await this.withPassword(command)), this.options.commandKeys, this.options.clock.now(), new Date(issued.timeoutAt));
        await this.options.bus.publish(agentQueue(command.hostId), message);
      };
      send()
        .catch((error: unknown) => {
          // Not sent (no broker, no queue yet): try again shortly, well before the command's timeout.
          this.published.delete(id);
          this.options.onError?.(error, job.jobId);
          this.retryPublish(job.jobId);
        });
      this.arm(job.jobId, issued.timeoutAt);
    }
  }

  /** The command as the agent gets it: a password reference replaced by the password sealed for it. */
  private async withPassword(command: AgentCommand): Promise<AgentCommand> {
    if ((command.type !== 'CopyRemoteVolumes' && command.type !== 'ConvertVmwareGuest') || command.passwordRef === null) return command;
    const secret = await this.options.secrets?.get(command.passwordRef);
    // Gone (the job ended meanwhile): the agent is told no password, and its login fails.
    return { ...command, passwordRef: null, password: secret === undefined ? null : sealSecret(secret, this.options.commandKeys, command.commandId) };
  }

  /** The passwords an external or VMware import's job was given: no longer needed once it ends. */
  private async forgetSecrets(job: Job, history: readonly InstanceEvent[]): Promise<void> {
    const refs = new Set<string>();
    for (const event of history) {
      if (event.type !== 'InstanceImportRequested' || event.data.jobId !== job.jobId) continue;
      const ref = event.data.external?.passwordRef ?? event.data.vmware?.passwordRef;
      if (ref) refs.add(ref);
    }
    for (const { command } of job.commands) if ((command.type === 'CopyRemoteVolumes' || command.type === 'ConvertVmwareGuest') && command.passwordRef) refs.add(command.passwordRef);
    for (const ref of refs) await this.options.secrets?.delete(ref);
  }

  private retryPublish(jobId: string): void {
    if (this.stopped) return;
    const cancel = this.options.clock.at(new Date(this.options.clock.now().getTime() + PUBLISH_RETRY_MS), () => {
      this.publishRetries.delete(cancel);
      void this.advance(jobId);
    });
    this.publishRetries.add(cancel);
  }

  /** A timer per job for its earliest deadline; when it fires, overdue commands time out and the job moves on. */
  private arm(jobId: string, until: string): void {
    const at = Date.parse(until);
    const existing = this.timers.get(jobId);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.options.clock.at(new Date(at), () => {
      this.timers.delete(jobId);
      void this.fireTimers(jobId);
    });
    this.timers.set(jobId, { at, cancel });
  }

  private async fireTimers(jobId: string): Promise<void> {
    if (this.stopped) return;
    const job = await this.loadJob(jobId);
    if (!job.exists || job.status !== 'PENDING') return;
    const now = this.options.clock.now().getTime();
    for (const issued of job.commands) {
      if (!issued.reply && !issued.timedOut && Date.parse(issued.timeoutAt) <= now) {
        await this.job(jobId, { type: 'FireTimer', commandId: issued.command.commandId, at: this.now() });
      }
    }
    await this.advance(jobId);
  }

  private async job(jobId: string, command: JobCommand): Promise<JobState> {
    const result = await this.options.commander.execute(jobStream(jobId), jobDecider, command, this.envelope(this.now(), jobId));
    return result.state;
  }

  /** Writes an outcome to the instance. A refusal means the instance moved on already; the next step sees how. */
  private async instance(command: InstanceCommand): Promise<void> {
    await unlessRefused(
      this.options.commander.execute(instanceStream(command.instanceId), instanceDecider, command, this.envelope(command.at, 'jobId' in command ? command.jobId : undefined)),
    );
  }

  private async loadJob(jobId: string): Promise<JobState> {
    const job = fold(jobDecider, await this.history.read<JobEvent>(jobStream(jobId)));
    if (job.exists && job.status !== 'PENDING') {
      // A finished job never sends or takes over a command again: nothing of it stays in memory.
      this.history.forget(jobStream(jobId));
      // Its deadline timer would otherwise stay armed (with its closure) until the deadline passed:
      // at a few hundred jobs a second, hundreds of thousands of timers for nothing.
      this.timers.get(jobId)?.cancel();
      this.timers.delete(jobId);
      for (const issued of job.commands) {
        this.published.delete(issued.command.commandId);
        this.owned.delete(issued.command.commandId);
      }
    }
    return job;
  }

  private async loadInstance(instanceId: string): Promise<{ instance: Instance | undefined; history: readonly InstanceEvent[] }> {
    const history = await this.history.read<InstanceEvent>(instanceStream(instanceId));
    const state: InstanceState = fold(instanceDecider, history);
    return { instance: state.exists ? state : undefined, history };
  }

  /** The snapshots in the instance's chain, and the one a VMSnapshot job names, from their streams. */
  private async loadSnapshots(instance: Instance, job: Job): Promise<ReadonlyMap<string, VMSnapshotState>> {
    const ids = new Set(instance.vmSnapshotIds);
    if (job.resource.type === 'VMSnapshot') ids.add(job.resource.id);
    const snapshots = new Map<string, VMSnapshotState>();
    for (const id of ids) {
      const stream = vmSnapshotStream(id);
      const events = await this.history.read<VMSnapshotEvent>(stream);
      const state = fold(vmSnapshotDecider, events);
      if (state.exists && state.status === 'Removed') this.history.forget(stream);
      snapshots.set(id, state);
    }
    return snapshots;
  }

  private envelope(at: string, correlationId = 'orchestrator'): CommandEnvelope {
    return { actor: SYSTEM, correlationId, occurredAt: at };
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }
}
