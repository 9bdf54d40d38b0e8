import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold, isRejection, type RejectionCode } from '../../domain/shared/decider.js';
import {
  TRANSITIONS,
  instanceDecider,
  isUsageEvent,
  machineEventOf,
  transition,
  type InstanceCaller,
  type InstanceCommand,
  type InstanceDomainEvent,
  type InstanceEvent,
  type InstanceState,
  type PowerState,
  type ServiceOfferingSnapshot,
  type UsageEvent,
  type VmState,
} from '../../domain/instance/index.js';
import { GiB, ID, alpine, custom, debian, deploy, medium, nic1, nic2, owner, small } from '../unit/instance/fixtures.js';

// A run is a deployment followed by random intents. Each intent is turned into a concrete command
// against the state reached so far (so outcomes usually name the job in flight, sometimes a stale
// one), decided, and its events folded in. Rejections append nothing and the run goes on.

const KINDS = [
  'start',
  'startOk',
  'startRetry',
  'startFail',
  'stop',
  'stopOk',
  'stopFail',
  'reboot',
  'rebootOk',
  'rebootFail',
  'destroy',
  'recover',
  'expunge',
  'expunged',
  'expungeFail',
  'migrate',
  'migrateOk',
  'migrateFail',
  'report',
  'update',
  'protectVolume',
  'changeOffering',
  'scale',
  'scaleOk',
  'scaleFail',
  'restore',
  'snapshotCreated',
  'snapshotDeleted',
] as const;
type Kind = (typeof KINDS)[number];

interface Intent {
  readonly kind: Kind;
  readonly staleJob: boolean;
  readonly host: 0 | 1 | 2;
  readonly power: PowerState;
  readonly flag: boolean;
  readonly role: InstanceCaller['role'];
  readonly allow: boolean;
  readonly pick: number;
}

const intentArb: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constantFrom(...KINDS),
  staleJob: fc.nat(4).map((n) => n === 0),
  host: fc.constantFrom(0 as const, 1 as const, 2 as const),
  power: fc.constantFrom<PowerState>('running', 'stopped', 'shutdown'),
  flag: fc.boolean(),
  role: fc.constantFrom<InstanceCaller['role']>('ROOT_ADMIN', 'DOMAIN_ADMIN', 'USER'),
  allow: fc.boolean(),
  pick: fc.nat(7),
});

interface DeployChoice {
  readonly startVm: boolean;
  readonly nics: 0 | 1 | 2;
  readonly dataVolumes: 0 | 1 | 2;
  readonly customized: boolean;
  readonly hypervisor: 'KVM' | 'XenServer';
}

const deployArb: fc.Arbitrary<DeployChoice> = fc.record({
  startVm: fc.boolean(),
  nics: fc.constantFrom(0 as const, 1 as const, 2 as const),
  dataVolumes: fc.constantFrom(0 as const, 1 as const, 2 as const),
  customized: fc.boolean(),
  hypervisor: fc.constantFrom('KVM' as const, 'XenServer' as const),
});

const HOSTS = ['host-1', 'host-2', 'host-3'] as const;
const OFFERINGS: readonly ServiceOfferingSnapshot[] = [small, medium, custom, { ...custom, id: 'so-custom-2', name: 'Custom 2' }];

function deployCommand(choice: DeployChoice): InstanceCommand {
  return deploy({
    startVm: choice.startVm,
    nics: [nic1, nic2].slice(0, choice.nics),
    dataVolumes: Array.from({ length: choice.dataVolumes }, (_, i) => ({
      id: `vol-data-${i}`,
      name: `DATA-${i}`,
      size: (i + 1) * GiB,
      storagePoolId: ID.pool,
      diskOfferingId: ID.diskOffering,
    })),
    hypervisorType: choice.hypervisor,
    ...(choice.customized ? { serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 2048 } } : {}),
  });
}

function toCommand(intent: Intent, state: InstanceState, step: number): InstanceCommand {
  const at = new Date(Date.UTC(2025, 2, 1, 10, step)).toISOString();
  const base = { instanceId: ID.vm, at };
  const caller: InstanceCaller = intent.role === 'USER' ? owner : { role: intent.role, accountId: 'acct-admin' };
  const pendingJob = state.exists ? (state.pending?.jobId ?? undefined) : undefined;
  const jobId = intent.staleJob || pendingJob === undefined ? `job-${step}` : pendingJob;
  const newJob = `job-${step}`;
  const host = HOSTS[intent.host];
  const volumes = state.exists ? state.volumes : [];
  const dataIds = volumes.filter((v) => v.type === 'DATADISK').map((v) => v.id);
  const snapshots = state.exists ? state.vmSnapshotIds : [];
  const offering = OFFERINGS[intent.pick % OFFERINGS.length] ?? small;
  const customCompute = offering.customized ? { cpuNumber: 1 + (intent.pick % 8), memory: 1024 * (1 + intent.pick) } : undefined;
  switch (intent.kind) {
    case 'start':
      return { type: 'StartInstance', ...base, caller, jobId: newJob, considerLastHost: intent.flag, hostId: intent.host === 2 ? host : null };
    case 'startOk':
      return { type: 'RecordStartSucceeded', ...base, jobId, hostId: host };
    case 'startRetry':
      return { type: 'RecordStartRetried', ...base, jobId, hostId: host, reason: 'retry' };
    case 'startFail':
      return { type: 'RecordStartFailed', ...base, jobId, reason: 'failed' };
    case 'stop':
      return { type: 'StopInstance', ...base, caller, jobId: newJob, forced: intent.flag };
    case 'stopOk':
      return { type: 'RecordStopSucceeded', ...base, jobId };
    case 'stopFail':
      return { type: 'RecordStopFailed', ...base, jobId, reason: 'failed' };
    case 'reboot':
      return { type: 'RebootInstance', ...base, caller, jobId: newJob, forced: intent.flag };
    case 'rebootOk':
      return { type: 'RecordRebootSucceeded', ...base, jobId };
    case 'rebootFail':
      return { type: 'RecordRebootFailed', ...base, jobId, reason: 'failed' };
    case 'destroy':
      return {
        type: 'DestroyInstance',
        ...base,
        caller,
        jobId: newJob,
        expunge: intent.flag,
        volumeIds: dataIds.slice(0, intent.pick % 3),
        forceStop: intent.allow,
        allowUserExpungeRecoverVm: intent.allow,
      };
    case 'recover':
      return { type: 'RecoverInstance', ...base, caller, allowUserExpungeRecoverVm: intent.allow };
    case 'expunge':
      return { type: 'ExpungeInstance', ...base, caller, allowUserExpungeRecoverVm: intent.allow };
    case 'expunged':
      return { type: 'RecordExpunged', ...base };
    case 'expungeFail':
      return { type: 'RecordExpungeFailed', ...base, reason: 'failed' };
    case 'migrate':
      return { type: 'MigrateInstance', ...base, caller, jobId: newJob, targetHostId: host };
    case 'migrateOk':
      return { type: 'RecordMigrationSucceeded', ...base, jobId, hostId: host };
    case 'migrateFail':
      return { type: 'RecordMigrationFailed', ...base, jobId, reason: 'failed' };
    case 'report':
      return { type: 'RecordAgentReport', ...base, hostId: host, powerState: intent.power };
    case 'update':
      return {
        type: 'UpdateInstance',
        ...base,
        caller,
        deleteProtection: intent.flag,
        displayName: `name-${intent.pick}`,
        userDeniedDetails: [],
        userReadOnlyDetails: [],
        enableDynamicScaleVm: intent.allow,
      };
    case 'protectVolume':
      return { type: 'UpdateVolume', ...base, caller, volumeId: volumes[intent.pick % Math.max(1, volumes.length)]?.id ?? ID.root, deleteProtection: intent.flag };
    case 'changeOffering':
      return { type: 'ChangeServiceOffering', ...base, caller, serviceOffering: offering, ...(customCompute ? { customCompute } : {}) };
    case 'scale':
      return {
        type: 'ScaleInstance',
        ...base,
        caller,
        jobId: newJob,
        serviceOffering: offering,
        enableDynamicScaleVm: intent.allow || intent.flag,
        ...(customCompute ? { customCompute } : {}),
      };
    case 'scaleOk':
      return { type: 'RecordScaleSucceeded', ...base, jobId };
    case 'scaleFail':
      return { type: 'RecordScaleFailed', ...base, jobId, reason: 'failed' };
    case 'restore':
      return {
        type: 'RestoreInstance',
        ...base,
        caller,
        jobId: newJob,
        template: intent.flag ? alpine : debian,
        rootVolume: { id: `vol-root-${step}`, name: `ROOT-${step}`, size: 3 * GiB, storagePoolId: ID.pool, diskOfferingId: null },
        expunge: intent.allow,
      };
    case 'snapshotCreated':
    case 'snapshotDeleted': {
      const task = state.exists && state.pending?.kind === 'vmsnapshot' ? state.pending : null;
      // A task under way is settled by either intent, so snapshots do not hold the instance for long.
      if (task && !intent.staleJob) {
        const facts = { name: `snap-${task.vmSnapshotId}`, sizeBytes: 1000, serviceOffering: small, compute: { cpuNumber: 1, cpuSpeed: 500, memory: 512 } };
        return intent.flag
          ? { type: 'RecordVMSnapshotTaskSucceeded', ...base, jobId: task.jobId, vmSnapshotId: task.vmSnapshotId ?? snapshots[0] ?? 'none', snapshot: facts }
          : { type: 'RecordVMSnapshotTaskFailed', ...base, jobId: task.jobId, vmSnapshotId: task.vmSnapshotId ?? snapshots[0] ?? 'none', reason: 'failed' };
      }
      if (intent.kind === 'snapshotDeleted') {
        return { type: 'RequestVMSnapshotDelete', ...base, caller, jobId: newJob, vmSnapshotId: snapshots[0] ?? `snap-${intent.pick % 3}` };
      }
      return { type: 'RequestVMSnapshot', ...base, caller, jobId: newJob, vmSnapshotId: `snap-${step}`, displayName: `snap-${intent.pick % 4}`, description: null, memory: intent.allow, quiesce: false, max: 3 };
    }
  }
}

interface Step {
  readonly event: InstanceEvent;
  readonly before: InstanceState;
  readonly after: InstanceState;
}

interface Run {
  readonly events: InstanceEvent[];
  readonly steps: Step[];
  readonly rejections: RejectionCode[];
}

function play(choice: DeployChoice, intents: readonly Intent[]): Run {
  const run: Run = { events: [], steps: [], rejections: [] };
  let state: InstanceState = instanceDecider.initialState;
  // Each command is built from the state its predecessors left, so outcomes can name the job in flight.
  for (let i = 0; i <= intents.length; i++) {
    const intent = intents[i - 1];
    const command = intent ? toCommand(intent, state, i) : deployCommand(choice);
    const decision = instanceDecider.decide(command, state);
    if (isRejection(decision)) {
      run.rejections.push(decision.code);
      continue;
    }
    for (const event of decision) {
      const after = instanceDecider.evolve(state, event);
      run.steps.push({ event, before: state, after });
      run.events.push(event);
      state = after;
    }
  }
  return run;
}

const runArb = fc
  .tuple(deployArb, fc.array(intentArb, { minLength: 0, maxLength: 80, size: 'max' }))
  .map(([choice, intents]) => play(choice, intents));

const stateOf = (s: InstanceState): VmState | 'none' => (s.exists ? s.state : 'none');

describe('instance lifecycle properties', () => {
  it('(a) every state change is an edge of the §1.3 table, taken by the event that claims it', () => {
    const edges = new Set(TRANSITIONS.map((t) => `${t.from}>${t.to}`));
    fc.assert(
      fc.property(runArb, (run) => {
        for (const { event, before, after } of run.steps) {
          if (isUsageEvent(event)) {
            expect(after).toBe(before);
            continue;
          }
          if (event.type === 'InstanceDeployed') {
            expect([stateOf(before), stateOf(after)]).toEqual(['none', 'Stopped']);
            continue;
          }
          const from = stateOf(before);
          const to = stateOf(after);
          if (from === 'none' || to === 'none') throw new Error(`${event.type} on no instance`);
          const machineEvent = machineEventOf(event as InstanceDomainEvent);
          if (machineEvent === null) expect(to).toBe(from);
          else expect(transition(from, machineEvent)).toBe(to);
          expect(from === to || edges.has(`${from}>${to}`)).toBe(true);
          expect(['Unknown', 'Shutdown']).not.toContain(to);
        }
        for (const code of run.rejections) {
          // CONFLICT: a second VM snapshot task while one is under way, or a snapshot name in use.
          expect(['BAD_USER_INPUT', 'INVALID_STATE', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT']).toContain(code);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('(b) usage records pair up: START/STOP alternate, CREATE/DESTROY alternate, each volume is deleted at most once per creation', () => {
    fc.assert(
      fc.property(runArb, (run) => {
        const usage = run.events.filter(isUsageEvent) as UsageEvent[];
        let allocated = false;
        let running = false;
        const liveVolumes = new Set<string>();
        const assignedNics = new Set<string>();
        for (const record of usage) {
          const { resourceId, resourceName } = record.data;
          switch (record.type) {
            case 'usage.VM.CREATE':
              expect(allocated).toBe(false);
              allocated = true;
              break;
            case 'usage.VM.DESTROY':
              expect([allocated, running]).toEqual([true, false]);
              allocated = false;
              break;
            case 'usage.VM.START':
              expect([allocated, running]).toEqual([true, false]);
              running = true;
              break;
            case 'usage.VM.STOP':
              expect(running).toBe(true);
              running = false;
              break;
            case 'usage.VM.DYNAMIC.SCALE':
              expect(running).toBe(true);
              break;
            case 'usage.VM.UPGRADE':
              expect([allocated, running]).toEqual([true, false]);
              break;
            case 'usage.VOLUME.CREATE':
              expect(liveVolumes.has(resourceId)).toBe(false);
              liveVolumes.add(resourceId);
              break;
            case 'usage.VOLUME.DELETE':
              expect(liveVolumes.has(resourceId)).toBe(true);
              liveVolumes.delete(resourceId);
              break;
            case 'usage.NETWORK.OFFERING.ASSIGN':
              expect(assignedNics.has(resourceName)).toBe(false);
              assignedNics.add(resourceName);
              break;
            case 'usage.NETWORK.OFFERING.REMOVE':
              expect(assignedNics.has(resourceName)).toBe(true);
              assignedNics.delete(resourceName);
              break;
          }
        }
        // The books agree with the instance: billed as running exactly while it is Running (or stopping).
        const last = run.steps.at(-1)?.after;
        if (last?.exists) {
          expect(running).toBe(['Running', 'Stopping', 'Migrating'].includes(last.state));
          expect(allocated).toBe(!['Destroyed', 'Expunging', 'Error'].includes(last.state));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('(c) replay is deterministic, also from the JSON the store keeps', () => {
    fc.assert(
      fc.property(runArb, (run) => {
        const once = fold(instanceDecider, run.events);
        expect(fold(instanceDecider, run.events)).toEqual(once);
        const stored = JSON.parse(JSON.stringify(run.events)) as InstanceEvent[];
        expect(stored).toStrictEqual(run.events);
        expect(fold(instanceDecider, stored)).toStrictEqual(once);
        expect(run.steps.at(-1)?.after ?? instanceDecider.initialState).toStrictEqual(once);
      }),
      { numRuns: 200 },
    );
  });

  it('the random runs reach every state and every usage record the commands can produce', () => {
    const states = new Set<string>();
    const types = new Set<string>();
    for (const run of fc.sample(runArb, { numRuns: 800, seed: 42 })) {
      for (const { event, after } of run.steps) {
        states.add(stateOf(after));
        types.add(event.type);
      }
    }
    expect([...states].sort()).toEqual(['Destroyed', 'Error', 'Expunging', 'Migrating', 'Running', 'Starting', 'Stopped', 'Stopping']);
    for (const type of [
      'usage.VM.CREATE',
      'usage.VM.START',
      'usage.VM.STOP',
      'usage.VM.DESTROY',
      'usage.VM.UPGRADE',
      'usage.VM.DYNAMIC.SCALE',
      'usage.VOLUME.CREATE',
      'usage.VOLUME.DELETE',
      'usage.NETWORK.OFFERING.ASSIGN',
      'usage.NETWORK.OFFERING.REMOVE',
      'InstanceRestored',
      'InstanceRecovered',
      'InstanceExpunged',
      'InstanceErrored',
      'InstancePowerStateReported',
    ]) {
      expect(types).toContain(type);
    }
  });
});
