// Shared values and command builders for the instance aggregate's tests.
import { fold, isRejection } from '../../../domain/shared/decider.js';
import {
  instanceDecider,
  type InstanceCaller as Caller,
  type DeployInstance,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type Instance,
  type ServiceOfferingSnapshot,
  type TemplateSnapshot,
  type UsagePayload,
  type UsageType,
} from '../../../domain/instance/index.js';

export const AT = '2025-03-01T10:00:00.000Z';
export const LATER = '2025-03-01T11:00:00.000Z';
export const GiB = 1024 ** 3;

export const ID = {
  vm: '6c1f5f0e-0000-4000-8000-000000000001',
  account: 'acct-alice',
  domain: 'dom-root',
  zone: 'zone-demo',
  host1: 'host-1',
  host2: 'host-2',
  cluster: 'cluster-kvm',
  pool: 'pool-nfs',
  root: 'vol-root',
  data: 'vol-data',
  data2: 'vol-data2',
  nic1: 'nic-1',
  nic2: 'nic-2',
  net1: 'net-l2',
  net2: 'net-shared',
  netOffering1: 'netoff-l2',
  netOffering2: 'netoff-shared',
  diskOffering: 'diskoff-small',
  deployJob: 'job-deploy',
} as const;

export const rootAdmin: Caller = { role: 'ROOT_ADMIN', accountId: 'acct-admin' };
export const domainAdmin: Caller = { role: 'DOMAIN_ADMIN', accountId: 'acct-domadmin' };
export const owner: Caller = { role: 'USER', accountId: ID.account };
export const stranger: Caller = { role: 'USER', accountId: 'acct-mallory' };

export const small: ServiceOfferingSnapshot = {
  id: 'so-small',
  name: 'Small Instance',
  cpuNumber: 1,
  cpuSpeed: 500,
  memory: 512,
  customized: false,
  minCpuNumber: null,
  maxCpuNumber: null,
  minMemory: null,
  maxMemory: null,
  dynamicScalingEnabled: true,
  hostTags: [],
  offerHa: false,
};

export const medium: ServiceOfferingSnapshot = { ...small, id: 'so-medium', name: 'Medium Instance', cpuNumber: 2, cpuSpeed: 1000, memory: 1024, offerHa: true };

export const custom: ServiceOfferingSnapshot = {
  id: 'so-custom',
  name: 'Custom Constrained',
  cpuNumber: null,
  cpuSpeed: 1000,
  memory: null,
  customized: true,
  minCpuNumber: 1,
  maxCpuNumber: 8,
  minMemory: 512,
  maxMemory: 16384,
  dynamicScalingEnabled: true,
  hostTags: [],
  offerHa: false,
};

export const debian: TemplateSnapshot = { id: 'tmpl-debian', size: 2 * GiB, osTypeId: 'os-debian12', dynamicallyScalable: true };
export const alpine: TemplateSnapshot = { id: 'tmpl-alpine', size: 1 * GiB, osTypeId: 'os-alpine', dynamicallyScalable: false };

export const nic1 = {
  id: ID.nic1,
  networkId: ID.net1,
  networkOfferingId: ID.netOffering1,
  macAddress: '02:00:00:00:00:01',
  ipAddress: null,
  isDefault: true,
  deviceId: 0,
} as const;
export const nic2 = {
  id: ID.nic2,
  networkId: ID.net2,
  networkOfferingId: ID.netOffering2,
  macAddress: '02:00:00:00:00:02',
  ipAddress: '10.1.0.10',
  isDefault: false,
  deviceId: 1,
} as const;

export function deploy(overrides: Partial<DeployInstance> = {}): DeployInstance {
  return {
    type: 'DeployInstance',
    instanceId: ID.vm,
    at: AT,
    caller: owner,
    jobId: ID.deployJob,
    name: 'web-1',
    displayName: 'Web server',
    instanceName: 'i-alice-web-1',
    group: null,
    accountId: ID.account,
    domainId: ID.domain,
    zoneId: ID.zone,
    hypervisorType: 'KVM',
    serviceOffering: small,
    template: debian,
    rootVolume: { id: ID.root, name: 'ROOT-web-1', size: 2 * GiB, storagePoolId: ID.pool, diskOfferingId: null },
    dataVolumes: [],
    nics: [nic1],
    startVm: false,
    affinityGroupIds: [],
    ...overrides,
  };
}

/** The events a run of commands appends, each decided on the state the previous ones left. */
export function eventsOf(...commands: readonly InstanceCommand[]): InstanceEvent[] {
  const events: InstanceEvent[] = [];
  let state: InstanceState = instanceDecider.initialState;
  for (const command of commands) {
    const decision = instanceDecider.decide(command, state);
    if (isRejection(decision)) throw new Error(`setup command ${command.type} was rejected: ${decision.code} ${decision.message}`);
    for (const event of decision) {
      events.push(event);
      state = instanceDecider.evolve(state, event);
    }
  }
  return events;
}

export function stateOf(events: readonly InstanceEvent[]): InstanceState {
  return fold(instanceDecider, events);
}

export function instanceOf(events: readonly InstanceEvent[]): Instance {
  const state = stateOf(events);
  if (!state.exists) throw new Error('no instance in these events');
  return state;
}

const base = { instanceId: ID.vm, at: AT } as const;
export const cmd = {
  start: (jobId = 'job-start', extra: { hostId?: string | null; considerLastHost?: boolean; caller?: Caller; at?: string } = {}): InstanceCommand => ({
    type: 'StartInstance',
    ...base,
    caller: owner,
    jobId,
    considerLastHost: true,
    ...extra,
  }),
  startOk: (jobId = 'job-start', hostId: string = ID.host1, at = AT): InstanceCommand => ({ type: 'RecordStartSucceeded', ...base, at, jobId, hostId }),
  startRetry: (jobId = 'job-start', hostId: string = ID.host2): InstanceCommand => ({
    type: 'RecordStartRetried',
    ...base,
    jobId,
    hostId,
    reason: 'host-1 lacks capacity',
  }),
  startFail: (jobId = 'job-start', at = AT): InstanceCommand => ({ type: 'RecordStartFailed', ...base, at, jobId, reason: 'domain failed to boot' }),
  stop: (jobId = 'job-stop', forced = false, caller: Caller = owner): InstanceCommand => ({ type: 'StopInstance', ...base, caller, jobId, forced }),
  stopOk: (jobId = 'job-stop', at = AT): InstanceCommand => ({ type: 'RecordStopSucceeded', ...base, at, jobId }),
  stopFail: (jobId = 'job-stop'): InstanceCommand => ({ type: 'RecordStopFailed', ...base, jobId, reason: 'guest ignored ACPI' }),
  reboot: (jobId = 'job-reboot', forced = false): InstanceCommand => ({ type: 'RebootInstance', ...base, caller: owner, jobId, forced }),
  rebootOk: (jobId = 'job-reboot'): InstanceCommand => ({ type: 'RecordRebootSucceeded', ...base, jobId }),
  rebootFail: (jobId = 'job-reboot'): InstanceCommand => ({ type: 'RecordRebootFailed', ...base, jobId, reason: 'agent timeout' }),
  destroy: (
    extra: { expunge?: boolean; volumeIds?: readonly string[]; forceStop?: boolean; allow?: boolean; caller?: Caller; jobId?: string; at?: string } = {},
  ): InstanceCommand => ({
    type: 'DestroyInstance',
    ...base,
    at: extra.at ?? AT,
    caller: extra.caller ?? owner,
    jobId: extra.jobId ?? 'job-destroy',
    expunge: extra.expunge ?? false,
    volumeIds: extra.volumeIds ?? [],
    forceStop: extra.forceStop ?? false,
    allowUserExpungeRecoverVm: extra.allow ?? false,
  }),
  recover: (caller: Caller = rootAdmin, allow = false, at = AT): InstanceCommand => ({
    type: 'RecoverInstance',
    ...base,
    at,
    caller,
    allowUserExpungeRecoverVm: allow,
  }),
  expunge: (caller: Caller = rootAdmin, allow = false): InstanceCommand => ({
    type: 'ExpungeInstance',
    ...base,
    caller,
    allowUserExpungeRecoverVm: allow,
  }),
  expunged: (): InstanceCommand => ({ type: 'RecordExpunged', ...base }),
  expungeFail: (): InstanceCommand => ({ type: 'RecordExpungeFailed', ...base, reason: 'primary storage unreachable' }),
  migrate: (targetHostId: string = ID.host2, caller: Caller = rootAdmin, jobId = 'job-migrate'): InstanceCommand => ({
    type: 'MigrateInstance',
    ...base,
    caller,
    jobId,
    targetHostId,
  }),
  migrateOk: (jobId = 'job-migrate', hostId: string = ID.host2): InstanceCommand => ({ type: 'RecordMigrationSucceeded', ...base, jobId, hostId }),
  migrateFail: (jobId = 'job-migrate'): InstanceCommand => ({ type: 'RecordMigrationFailed', ...base, jobId, reason: 'target refused' }),
  report: (powerState: 'running' | 'stopped' | 'shutdown', hostId: string = ID.host1, at = AT): InstanceCommand => ({
    type: 'RecordAgentReport',
    ...base,
    at,
    hostId,
    powerState,
  }),
  snapshot: (
    vmSnapshotId = 'vmsnap-1',
    extra: { jobId?: string; displayName?: string; description?: string | null; memory?: boolean; max?: number; caller?: Caller } = {},
  ): InstanceCommand => ({
    type: 'RequestVMSnapshot',
    ...base,
    caller: extra.caller ?? owner,
    jobId: extra.jobId ?? `job-snap-${vmSnapshotId}`,
    vmSnapshotId,
    displayName: extra.displayName ?? `snap ${vmSnapshotId}`,
    description: extra.description ?? null,
    memory: extra.memory ?? false,
    quiesce: false,
    max: extra.max ?? 10,
  }),
  revertSnapshot: (vmSnapshotId = 'vmsnap-1', jobId = `job-revert-${vmSnapshotId}`, caller: Caller = owner): InstanceCommand => ({
    type: 'RequestVMSnapshotRevert',
    ...base,
    caller,
    jobId,
    vmSnapshotId,
  }),
  deleteSnapshot: (vmSnapshotId = 'vmsnap-1', jobId = `job-delete-${vmSnapshotId}`, caller: Caller = owner): InstanceCommand => ({
    type: 'RequestVMSnapshotDelete',
    ...base,
    caller,
    jobId,
    vmSnapshotId,
  }),
  snapshotOk: (vmSnapshotId = 'vmsnap-1', jobId = `job-snap-${vmSnapshotId}`, facts: Partial<{ sizeBytes: number; serviceOffering: typeof small; compute: { cpuNumber: number; cpuSpeed: number; memory: number } }> = {}): InstanceCommand => ({
    type: 'RecordVMSnapshotTaskSucceeded',
    ...base,
    jobId,
    vmSnapshotId,
    snapshot: {
      name: `i-vm_VS_${vmSnapshotId}`,
      sizeBytes: facts.sizeBytes ?? 1000,
      serviceOffering: facts.serviceOffering ?? small,
      compute: facts.compute ?? { cpuNumber: small.cpuNumber!, cpuSpeed: small.cpuSpeed!, memory: small.memory! },
    },
  }),
  snapshotFail: (vmSnapshotId = 'vmsnap-1', jobId = `job-snap-${vmSnapshotId}`, reason = 'qemu-img failed'): InstanceCommand => ({
    type: 'RecordVMSnapshotTaskFailed',
    ...base,
    jobId,
    vmSnapshotId,
    reason,
  }),
  protectVolume: (volumeId: string, deleteProtection = true): InstanceCommand => ({
    type: 'UpdateVolume',
    ...base,
    caller: owner,
    volumeId,
    deleteProtection,
  }),
  update: (
    fields: Partial<Omit<Extract<InstanceCommand, { type: 'UpdateInstance' }>, 'type'>> = {},
  ): InstanceCommand => ({
    type: 'UpdateInstance',
    ...base,
    caller: owner,
    userDeniedDetails: ['rootdisksize', 'cpuOvercommitRatio', 'memoryOvercommitRatio', 'Message.ReservedCapacityFreed.Flag'],
    userReadOnlyDetails: ['dataDiskController', 'rootDiskController'],
    enableDynamicScaleVm: true,
    ...fields,
  }),
};

/** A usage record as consumers read it, written out field by field from the fixtures above. */
export function usage(type: UsageType, fields: Partial<UsagePayload>): InstanceEvent {
  return {
    type: `usage.${type}`,
    data: {
      usageVersion: 1,
      accountId: ID.account,
      domainId: ID.domain,
      zoneId: ID.zone,
      resourceId: ID.vm,
      resourceName: 'web-1',
      offeringId: null,
      templateId: null,
      size: null,
      resourceType: null,
      details: null,
      occurredAt: AT,
      ...fields,
    },
  };
}

/** VM.* usage for the default small-offering instance. */
export const vmUsage = (type: UsageType, fields: Partial<UsagePayload> = {}) =>
  usage(type, { offeringId: small.id, templateId: debian.id, resourceType: 'KVM', ...fields });
export const rootCreated = (fields: Partial<UsagePayload> = {}) =>
  usage('VOLUME.CREATE', { resourceId: ID.root, resourceName: 'ROOT-web-1', templateId: debian.id, size: 2 * GiB, ...fields });
export const volumeDeleted = (id: string, name: string, fields: Partial<UsagePayload> = {}) =>
  usage('VOLUME.DELETE', { resourceId: id, resourceName: name, ...fields });
export const nicAssigned = (nic: { id: string; networkOfferingId: string }, size: number, fields: Partial<UsagePayload> = {}) =>
  usage('NETWORK.OFFERING.ASSIGN', { resourceName: nic.id, offeringId: nic.networkOfferingId, size, ...fields });
export const nicRemoved = (nic: { id: string; networkOfferingId: string }, fields: Partial<UsagePayload> = {}) =>
  usage('NETWORK.OFFERING.REMOVE', { resourceName: nic.id, offeringId: nic.networkOfferingId, size: 0, ...fields });

/** Histories that put the default instance in each reachable state. */
export const history = {
  stopped: () => eventsOf(deploy()),
  starting: () => eventsOf(deploy(), cmd.start()),
  running: () => eventsOf(deploy(), cmd.start(), cmd.startOk()),
  stopping: () => eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop()),
  migrating: () => eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.migrate()),
  destroyed: () => eventsOf(deploy(), cmd.destroy()),
  expunging: () => eventsOf(deploy(), cmd.destroy(), cmd.expunge()),
  expunged: () => eventsOf(deploy(), cmd.destroy(), cmd.expunge(), cmd.expunged()),
  error: () => eventsOf(deploy({ startVm: true }), cmd.startFail(ID.deployJob)),
};
