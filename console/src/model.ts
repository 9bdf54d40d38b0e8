// The shapes the console reads from the API (docs/api.md), and the selections that fetch them.
export type Role = 'ROOT_ADMIN' | 'DOMAIN_ADMIN' | 'USER';
export type VmState = 'Starting' | 'Running' | 'Stopping' | 'Stopped' | 'Destroyed' | 'Expunging' | 'Migrating' | 'Error' | 'Unknown' | 'Shutdown';
export const VM_STATES: readonly VmState[] = ['Starting', 'Running', 'Stopping', 'Stopped', 'Destroyed', 'Expunging', 'Migrating', 'Error', 'Unknown', 'Shutdown'];

export interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface Nic { id: string; networkId: string; macAddress: string; ipAddress: string | null; isDefault: boolean; deviceId: number }
export interface Volume { id: string; name: string; type: string; size: number; storagePoolId: string | null; state: string }

export interface Vm {
  id: string;
  name: string;
  displayName: string;
  instanceName: string | null;
  state: VmState;
  zoneId: string;
  hostId: string | null;
  lastHostId: string | null;
  serviceOfferingId: string;
  templateId: string;
  accountId: string;
  domainId: string;
  group: string | null;
  cpuNumber: number;
  cpuSpeed: number;
  memory: number;
  deleteProtection: boolean;
  haEnable: boolean;
  leaseDuration: number | null;
  leaseExpiryAction: 'STOP' | 'DESTROY' | null;
  leaseExpiryDate: string | null;
  nics: Nic[];
  volumes: Volume[];
  affinityGroupIds: string[];
  created: string;
}

export const VM_FIELDS = `id name displayName instanceName state zoneId hostId lastHostId serviceOfferingId templateId
  accountId domainId group cpuNumber cpuSpeed memory deleteProtection haEnable leaseDuration leaseExpiryAction
  leaseExpiryDate created nics { id networkId macAddress ipAddress isDefault deviceId }
  volumes { id name type size storagePoolId state } affinityGroupIds`;

export interface Job {
  id: string;
  cmd: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  progress: number | null;
  step: string | null;
  resourceType: string;
  resourceId: string | null;
  instanceId: string | null;
  accountId: string;
  createdAt: string;
  completedAt: string | null;
  error: { code: string; errorCode: number; message: string } | null;
}

export const JOB_FIELDS = `id cmd status progress step resourceType resourceId instanceId accountId createdAt completedAt
  error { code errorCode message }`;

export interface Zone { id: string; name: string; networkType: string; allocationState: string; created: string }
export interface Cluster { id: string; zoneId: string; name: string; hypervisor: string; created: string }
export interface Host {
  id: string; name: string; zoneId: string; clusterId: string; hypervisor: string; driver: string; state: string; status: string;
  resourceState: string; cpuNumber: number; cpuSpeed: number; memory: number; hostTags: string[];
  cpuTotal: number; cpuAllocated: number; memoryTotal: number; memoryAllocated: number; reservationCount: number; removed: boolean;
  /** What the host's agent last reported it can do (snapshot.memory, snapshot.disk.stopped, …). */
  capabilities: string[];
}
export interface StoragePool {
  id: string; name: string; zoneId: string; clusterId: string | null; hostId: string | null; scope: string; type: string;
  server: string | null; path: string; capacityBytes: number; allocatedBytes: number; tags: string[];
}
export interface Network { id: string; name: string; zoneId: string; type: string; vlan: number | null; cidr: string | null; accountId: string | null; state: string; removed: boolean }
export interface ServiceOffering {
  id: string; name: string; displayText: string | null; computeKind: string; customized: boolean; cpuNumber: number | null; cpuSpeed: number | null;
  memory: number | null; minCpuNumber: number | null; maxCpuNumber: number | null; minMemory: number | null; maxMemory: number | null;
  hostTags: string[]; dynamicScalingEnabled: boolean; offerHa: boolean; leaseDuration: number | null; leaseExpiryAction: string | null; removed: boolean;
}
export interface DiskOffering { id: string; name: string; displayText: string | null; diskSize: number | null; customized: boolean; storageTags: string[]; removed: boolean }
export interface Template { id: string; name: string; displayText: string | null; osTypeName: string; size: number; format: string; hypervisor: string; zoneId: string | null; isPublic: boolean; removed: boolean }
export interface Account { id: string; name: string; role: Role; domainId: string; domainPath: string | null; state: string | null; created: string | null; apiKey?: string | null }
export interface Configuration { name: string; value: string; zoneId: string | null; defaultValue: string | null; type: string | null; scopes: string[] | null; source: string | null; description: string | null }

export type VmSnapshotState = 'Allocated' | 'Creating' | 'Ready' | 'Reverting' | 'Expunging' | 'Error';
export interface VmSnapshot {
  id: string; name: string; displayName: string; description: string | null; virtualMachineId: string; type: 'Disk' | 'DiskAndMemory';
  state: VmSnapshotState; current: boolean; parentId: string | null; serviceOfferingId: string | null; created: string;
}
export const VM_SNAPSHOT_FIELDS = 'id name displayName description virtualMachineId type state current parentId serviceOfferingId created';

/** CloudStack's four affinity group types, as the API names them. */
export const AFFINITY_TYPES = ['host anti-affinity', 'host affinity', 'non-strict host anti-affinity', 'non-strict host affinity'] as const;
export interface AffinityGroup { id: string; name: string; type: string; description: string | null; accountId: string; domainId: string; virtualMachineIds: string[] }
export const AFFINITY_GROUP_FIELDS = 'id name type description accountId domainId virtualMachineIds';

export interface AuditEvent {
  id: string; type: string; state: string; level: string; resourceId: string; resourceType: string; accountId: string;
  description: string; actor: unknown; occurredAt: string; position: number;
}

export type ScheduleAction = 'START' | 'STOP' | 'FORCE_STOP' | 'REBOOT' | 'FORCE_REBOOT';
export const SCHEDULE_ACTIONS: readonly ScheduleAction[] = ['START', 'STOP', 'FORCE_STOP', 'REBOOT', 'FORCE_REBOOT'];
export interface VmSchedule {
  id: string; virtualMachineId: string; action: ScheduleAction; schedule: string; timeZone: string; description: string;
  startDate: string; endDate: string | null; enabled: boolean; created: string;
}

export type UsageRecordType = 'RUNNING_VM' | 'ALLOCATED_VM' | 'VOLUME' | 'NETWORK_OFFERING' | 'VM_SNAPSHOT';
export interface UsageRecord {
  id: string; type: UsageRecordType; usageType: number; accountId: string; domainId: string; zoneId: string; resourceId: string;
  resourceName: string; offeringId: string | null; templateId: string | null; size: number | null; startDate: string; endDate: string | null; durationMs: number;
}

/** Fetches every page of a connection (page size `first`), for the short lists the screens name ids from. */
export async function allPages<T>(fetchPage: (after: string | null) => Promise<Connection<T>>): Promise<T[]> {
  const nodes: T[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page: Connection<T> = await fetchPage(after);
    nodes.push(...page.nodes);
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    after = page.pageInfo.endCursor;
  }
  return nodes;
}

/** A disk of a guest an import may take (UnmanagedDisk): `id` is its position, what the import's lists name. */
export interface GuestDisk { id: string; capacity: number | null; controller: string; controllerUnit: number | null; imagePath: string | null; position: number; datastoreName: string | null }
export interface GuestNic { id: string; macAddress: string; networkName: string | null; vlanId: number | null; pciSlot: number | null; adapterType: string | null; ipAddress: string | null }
/** A guest vmledger does not manage: a domain on a managed host (hostId, clusterId) or a VM of an external KVM host (host). */
export interface Guest {
  name: string; hostId?: string; clusterId?: string; host?: string; powerState: 'PowerOn' | 'PowerOff'; cpuNumber: number; cpuSpeed: number;
  cpuCoresPerSocket: number | null; memory: number; osDisplayName: string | null; disks: GuestDisk[]; nics: GuestNic[];
}
const GUEST_PARTS = `powerState cpuNumber cpuSpeed cpuCoresPerSocket memory osDisplayName
  disks { id capacity controller controllerUnit imagePath position datastoreName }
  nics { id macAddress networkName vlanId pciSlot adapterType ipAddress }`;
export const UNMANAGED_INSTANCE_FIELDS = `name hostId clusterId ${GUEST_PARTS}`;
export const EXTERNAL_INSTANCE_FIELDS = `name host ${GUEST_PARTS}`;

/** One reason importVm would refuse its arguments, as importVmPreview reports it. */
export interface ImportProblem { code: string; message: string; field: string | null }
export interface ImportPreview {
  importSource: string;
  ok: boolean;
  instance: {
    name: string; instanceName: string | null; displayName: string; hostName: string | null; accountId: string | null; serviceOfferingId: string; templateId: string | null;
    cpuNumber: number | null; cpuSpeed: number | null; memory: number | null; state: VmState | null; zoneId: string; clusterId: string | null; hostId: string | null;
  } | null;
  disks: { id: string; type: string | null; sourcePath: string | null; sourceFormat: string | null; size: number | null; controller: string | null; storagePoolId: string | null; diskOfferingId: string | null; copied: boolean }[];
  nics: { id: string; networkId: string | null; macAddress: string | null; ipAddress: string | null; isDefault: boolean }[];
  problems: ImportProblem[];
}
export const IMPORT_PREVIEW_FIELDS = `importSource ok
  instance { name instanceName displayName hostName accountId serviceOfferingId templateId cpuNumber cpuSpeed memory state zoneId clusterId hostId }
  disks { id type sourcePath sourceFormat size controller storagePoolId diskOfferingId copied }
  nics { id networkId macAddress ipAddress isDefault }
  problems { code message field }`;
