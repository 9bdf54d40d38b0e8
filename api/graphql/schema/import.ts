// Unmanage and import (API.md "Unmanage and import"; behaviour §4): the domains on managed hosts that
// vmledger does not manage, their import, and the way back. Kept in its own document, extending the
// root types, so the operations' schema stays in one place per feature.
export const importTypeDefs = /* GraphQL */ `
enum UnmanagedPowerState { PowerOn PowerOff }
"A domain on a managed host that vmledger does not manage (no vmledger record in its definition)."
type UnmanagedInstance {
  name: String!
  hostId: ID!
  clusterId: ID!
  powerState: UnmanagedPowerState!
  cpuNumber: Int!
  "MHz per core; 0 when the domain's definition does not say."
  cpuSpeed: Int!
  cpuCoresPerSocket: Int
  "MiB."
  memory: Int!
  osDisplayName: String
  disks: [UnmanagedDisk!]!
  nics: [UnmanagedNic!]!
}
"capacity in bytes; controller the bus (virtio, scsi, ide, sata)."
type UnmanagedDisk { id: String!  capacity: Float  controller: String!  controllerUnit: Int  imagePath: String  position: Int!  datastoreName: String }
"networkName: the bridge the NIC is attached to."
type UnmanagedNic { id: String!  macAddress: String!  networkName: String  vlanId: Int  pciSlot: Int  adapterType: String  ipAddress: String }
"Every unmanaged instance of the cluster, in one page."
type UnmanagedInstanceConnection { nodes: [UnmanagedInstance!]!  pageInfo: PageInfo!  totalCount: Int! }
enum ImportSource { UNMANAGED EXTERNAL LOCAL SHARED VMWARE }
"A stopped guest of an external KVM host (vmsForImport): host is the host as it was named."
type ExternalInstance {
  name: String!
  host: String!
  powerState: UnmanagedPowerState!
  cpuNumber: Int!
  cpuSpeed: Int!
  cpuCoresPerSocket: Int
  memory: Int!
  osDisplayName: String
  disks: [UnmanagedDisk!]!
  nics: [UnmanagedNic!]!
}
type ExternalInstanceConnection { nodes: [ExternalInstance!]!  pageInfo: PageInfo!  totalCount: Int! }
input NicNetworkInput { nic: String!  network: ID! }
"ip4Address: an IPv4 address, or auto (the address the guest reports, else the network's next free one)."
input NicIpAddressInput { nic: String!  ip4Address: String! }
input DataDiskOfferingInput { disk: String!  diskOffering: ID! }
"One reason importVm would refuse its arguments: the code and message importVm gives, and the argument it names (null when none is to blame)."
type ImportProblem { code: String!  message: String!  field: String }
"The instance an import would make. A value an earlier problem left unknown is null."
type ImportPlanInstance {
  "The name argument: the domain's name on its host (UNMANAGED, EXTERNAL) or the new instance's (LOCAL, SHARED)."
  name: String!
  "The hypervisor-side name the instance would have."
  instanceName: String
  displayName: String!
  hostName: String
  accountId: ID
  domainId: ID
  serviceOfferingId: ID!
  templateId: ID
  cpuNumber: Int
  "MHz per core."
  cpuSpeed: Int
  "MiB."
  memory: Int
  "The state the import would leave it in: Running (a running domain on a managed host) or Stopped."
  state: VmState
  zoneId: ID!
  clusterId: ID
  "The host the instance would be on (Running) or start on first (Stopped)."
  hostId: ID
}
"One disk of the source, as the agent sees it, and the volume it would become."
type ImportPlanDisk {
  "The disk's id as dataDiskOfferingList names it (its position: 0, 1, …)."
  id: String!
  "ROOT or DATADISK; null when the disks' offerings do not say."
  type: String
  sourcePath: String
  "qcow2, raw, vmdk, … as the agent reads it."
  sourceFormat: String
  "Bytes the guest sees."
  size: Float
  controller: String
  "The pool the volume would be on."
  storagePoolId: ID
  diskOfferingId: ID
  "True when the import copies the disk's bytes (EXTERNAL; VMWARE, converted then moved into the pool); the others take the file where it is."
  copied: Boolean!
}
"One NIC the instance would have."
type ImportPlanNic {
  "The NIC's id as nicNetworkList names it (its position); 0 for the one NIC of a LOCAL or SHARED import."
  id: String!
  networkId: ID
  "The MAC it keeps; null when the network gives it a new one (a LOCAL or SHARED import, or a MAC taken and forced)."
  macAddress: String
  "The address asked for; null when the network gives the next free one (or none, on L2)."
  ipAddress: String
  isDefault: Boolean!
}
"A VMware conversion's choices (importSource VMWARE): where the guest is, which hosts convert and import it, where the converted files wait. A value an earlier problem left unknown is null."
type ImportPlanConversion {
  "The VMware host, as named."
  sourceHost: String
  "The guest's .vmx on its datastore, as the conversion host's agent listed it."
  vmxPath: String
  convertInstanceHostId: ID
  importInstanceHostId: ID
  "The pool whose directory holds the export and virt-v2v's output until the import."
  temporaryStoragePoolId: ID
  temporaryPath: String
}
"What importVm would do with the same arguments (importVmPreview), and every problem that would make it refuse them."
type ImportVmPreview {
  importSource: ImportSource!
  "True when problems is empty: importVm would accept these arguments as things are now."
  ok: Boolean!
  "Null when the source could not be read (e.g. the VM was not found)."
  instance: ImportPlanInstance
  disks: [ImportPlanDisk!]!
  nics: [ImportPlanNic!]!
  "VMWARE only: the conversion's hosts and temporary location; null for the other sources."
  conversion: ImportPlanConversion
  problems: [ImportProblem!]!
}

enum ImportVmTasksFilter { ALL RUNNING COMPLETED FAILED }
enum ImportVmTaskState { Running Completed Failed }
"""
A VMware → KVM conversion (CloudStack's ImportVmTask): its job's id, the source (host as named, guest),
the conversion and import hosts, the step (PREPARING, EXPORTING, CONVERTING, IMPORTING, CLEANING_UP, then
COMPLETED or FAILED) with its progress (0-100) and a description (for a failed one, why), and the timings:
stepDuration and duration in seconds (to now while it runs). virtualMachineId once it completed.
"""
type ImportVmTask {
  id: ID!
  zoneId: ID!
  accountId: ID!
  virtualMachineId: ID
  displayName: String!
  state: ImportVmTaskState!
  sourceHost: String!
  sourceVmName: String!
  step: String!
  progress: Int!
  description: String!
  convertInstanceHostId: ID!
  importInstanceHostId: ID!
  stepDuration: Int!
  duration: Int!
  created: DateTime!
  lastUpdated: DateTime!
  completed: DateTime
}
type ImportVmTaskConnection { nodes: [ImportVmTask!]!  pageInfo: PageInfo!  totalCount: Int! }

extend type Query {
  "The zone's VMware conversions, running and finished, newest first (CloudStack's listImportVmTasks). Root admin."
  importVmTasks(zoneId: ID!, accountId: ID, convertInstanceHostId: ID, tasksFilter: ImportVmTasksFilter = ALL, first: Int, after: String): ImportVmTaskConnection!
  "Domains on the cluster's Up hosts (or hostId) that vmledger does not manage; name matches exactly. Root admin."
  unmanagedInstances(clusterId: ID!, hostId: ID, name: String): UnmanagedInstanceConnection!
  "The stopped domains of an external KVM host (host or host:port, SSH), or with importSource VMWARE the guests (running or not) on a VMware host's datastores, listed by an agent of the zone. Root admin."
  vmsForImport(zoneId: ID!, host: String!, username: String!, password: String, importSource: ImportSource = EXTERNAL): ExternalInstanceConnection!
  "importVm's plan for the same arguments, and every problem that would make importVm refuse them; moves nothing and appends nothing. Root admin."
  importVmPreview(
    zoneId: ID!
    importSource: ImportSource!
    name: String!
    serviceOfferingId: ID!
    displayName: String
    hostName: String
    account: String
    domainId: ID
    clusterId: ID
    host: String
    username: String
    password: String
    tmpPath: String
    hostId: ID
    diskPath: String
    storageId: ID
    networkId: ID
    templateId: ID
    nicNetworkList: [NicNetworkInput!]
    nicIpAddressList: [NicIpAddressInput!]
    dataDiskOfferingList: [DataDiskOfferingInput!]
    details: JSON
    forced: Boolean = false
    convertInstanceHostId: ID
    convertInstancePoolId: ID
    importInstanceHostId: ID
    extraParams: String
  ): ImportVmPreview!
}

extend type Mutation {
  "Imports a domain listed by unmanagedInstances as an instance. Root admin."
  importUnmanagedInstance(
    clusterId: ID!
    name: String!
    serviceOfferingId: ID!
    displayName: String
    hostName: String
    account: String
    domainId: ID
    templateId: ID
    nicNetworkList: [NicNetworkInput!]
    nicIpAddressList: [NicIpAddressInput!]
    dataDiskOfferingList: [DataDiskOfferingInput!]
    details: JSON
    migrateAllowed: Boolean = false
    forced: Boolean = false
  ): AsyncJob!
  "The instance leaves vmledger; its domain stays defined on its host. Root admin."
  unmanageVirtualMachine(id: ID!): AsyncJob!
  "Imports a VM as an instance: UNMANAGED (a domain on a managed host, as importUnmanagedInstance), EXTERNAL (a stopped VM of an external KVM host, its disks copied as qcow2), LOCAL or SHARED (a qcow2 file on a pool, taken in place), or VMWARE (a powered-off guest of a VMware host converted with virt-v2v into the KVM cluster clusterId). Root admin."
  importVm(
    zoneId: ID!
    importSource: ImportSource!
    name: String!
    serviceOfferingId: ID!
    displayName: String
    hostName: String
    account: String
    domainId: ID
    clusterId: ID
    host: String
    username: String
    password: String
    tmpPath: String
    hostId: ID
    diskPath: String
    storageId: ID
    networkId: ID
    templateId: ID
    nicNetworkList: [NicNetworkInput!]
    nicIpAddressList: [NicIpAddressInput!]
    dataDiskOfferingList: [DataDiskOfferingInput!]
    details: JSON
    forced: Boolean = false
    convertInstanceHostId: ID
    convertInstancePoolId: ID
    "VMWARE: the host of the destination cluster that imports the converted disks (default: the conversion host when it is in the cluster)."
    importInstanceHostId: ID
    "VMWARE: further virt-v2v parameters, only when convert.vmware.instance.to.kvm.extra.params.allowed and each option is in ...allowed.list."
    extraParams: String
  ): AsyncJob!
}
`;
