// The operations of API.md. Their names, argument names and defaults are the contract: outside
// clients are written against them (tests/unit/graphql/contract.test.ts lists them).
export const operationTypeDefs = /* GraphQL */ `
type Query {
  "Instances the caller may see; expunged instances are not listed."
  virtualMachines(
    id: ID
    ids: [ID!]
    state: VmState
    zoneId: ID
    hostId: ID
    accountId: ID
    leased: Boolean
    keyword: String
    first: Int
    after: String
  ): VirtualMachineConnection!
  virtualMachine(id: ID!): VirtualMachine
  "The instance folded from its events up to \`at\`."
  virtualMachineAsOf(id: ID!, at: DateTime!): VirtualMachine
  asyncJob(id: ID!): AsyncJob
  "The jobs the caller may see, newest first."
  asyncJobs(instanceId: ID, accountId: ID, cmd: String, status: JobStatus, first: Int, after: String): AsyncJobConnection!
  "An instance's schedules, oldest first."
  vmSchedules(virtualMachineId: ID!, id: ID, action: VMScheduleAction, enabled: Boolean, first: Int, after: String): VMScheduleConnection!
  "Affinity groups the caller may see, oldest first."
  affinityGroups(id: ID, name: String, type: String, virtualMachineId: ID, accountId: ID, domainId: ID, first: Int, after: String): AffinityGroupConnection!
  "VM snapshots not removed, of the instances the caller may see, oldest first; name is the display name."
  vmSnapshots(virtualMachineId: ID, id: ID, name: String, state: VMSnapshotState, first: Int, after: String): VMSnapshotConnection!

  "The audit trail, oldest first."
  events(resourceId: ID, type: String, startDate: DateTime, endDate: DateTime, first: Int, after: String): EventConnection!
  "Usage events as consumers read them from the log, oldest first."
  usageEvents(accountId: ID, type: String, startDate: DateTime, endDate: DateTime, first: Int, after: String): UsageEventConnection!
  "Usage records overlapping [startDate, endDate), cut at midnights of usage.timezone, oldest first."
  usageRecords(accountId: ID, startDate: DateTime!, endDate: DateTime!, type: UsageRecordType, first: Int, after: String): UsageRecordConnection!

  zones(first: Int, after: String): ZoneConnection!
  clusters(zoneId: ID, first: Int, after: String): ClusterConnection!
  hosts(zoneId: ID, clusterId: ID, first: Int, after: String): HostConnection!
  storagePools(zoneId: ID, first: Int, after: String): StoragePoolConnection!
  networks(zoneId: ID, first: Int, after: String): NetworkConnection!
  serviceOfferings(first: Int, after: String): ServiceOfferingConnection!
  diskOfferings(first: Int, after: String): DiskOfferingConnection!
  templates(zoneId: ID, first: Int, after: String): TemplateConnection!
  accounts(first: Int, after: String): AccountConnection!
  "Guest OS types (CloudStack's listOsTypes); description and keyword match a part of the description."
  osTypes(id: ID, description: String, keyword: String, first: Int, after: String): OsTypeConnection!
  "Every configuration key with its effective value (zone over global over default); one page."
  configurations(name: String, zoneId: ID): ConfigurationConnection!
}

type Mutation {
  deployVirtualMachine(
    zoneId: ID!
    serviceOfferingId: ID!
    templateId: ID!
    name: String
    displayName: String
    group: String
    networkIds: [ID!]
    hostId: ID
    clusterId: ID
    startVm: Boolean = true
    affinityGroupIds: [ID!]
    "The owner's affinity groups by name; not together with affinityGroupIds."
    affinityGroupNames: [String!]
    keyPairs: [String!]
    userData: String
    details: JSON
    leaseDuration: Int
    leaseExpiryAction: LeaseExpiryAction
    account: String
    domainId: ID
    "A retried deploy with the same token returns the first job."
    clientToken: String
  ): AsyncJob!
  startVirtualMachine(id: ID!, hostId: ID, considerLastHost: Boolean = true): AsyncJob!
  stopVirtualMachine(id: ID!, forced: Boolean = false): AsyncJob!
  rebootVirtualMachine(id: ID!, forced: Boolean = false): AsyncJob!
  destroyVirtualMachine(id: ID!, expunge: Boolean = false, volumeIds: [ID!]): AsyncJob!
  migrateVirtualMachine(virtualMachineId: ID!, hostId: ID): AsyncJob!
  "Moves a stopped instance's volumes to other storage pools (root admin)."
  migrateVirtualMachineWithVolume(virtualMachineId: ID!, hostId: ID, migrateTo: [MigrateVolumeInput!]!): AsyncJob!
  restoreVirtualMachine(virtualMachineId: ID!, templateId: ID, expunge: Boolean): AsyncJob!
  "Running instances whose offering allows dynamic scaling."
  scaleVirtualMachine(id: ID!, serviceOfferingId: ID!, details: JSON): AsyncJob!

  recoverVirtualMachine(id: ID!): VirtualMachine!
  expungeVirtualMachine(id: ID!): Boolean!
  updateVirtualMachine(
    id: ID!
    displayName: String
    group: String
    osTypeId: ID
    deleteProtection: Boolean
    leaseDuration: Int
    leaseExpiryAction: LeaseExpiryAction
    details: JSON
    haEnable: Boolean
  ): VirtualMachine!
  "Stopped instances."
  changeServiceForVirtualMachine(id: ID!, serviceOfferingId: ID!, details: JSON): VirtualMachine!

  "startDate defaults to a minute from now; neither it nor endDate may be in the past."
  createVMSchedule(
    virtualMachineId: ID!
    action: VMScheduleAction!
    schedule: String!
    timeZone: String!
    description: String
    startDate: DateTime
    endDate: DateTime
    enabled: Boolean = true
  ): VMSchedule!
  "The action cannot change; an end date cannot be cleared."
  updateVMSchedule(id: ID!, schedule: String, timeZone: String, description: String, startDate: DateTime, endDate: DateTime, enabled: Boolean): VMSchedule!
  "How many schedules were deleted."
  deleteVMSchedule(virtualMachineId: ID!, id: ID, ids: [ID!]): Int!

  "type: host affinity, host anti-affinity, non-strict host affinity or non-strict host anti-affinity. account/domainId: an admin creating it for that account."
  createAffinityGroup(name: String!, type: String!, description: String, account: String, domainId: ID): AffinityGroup!
  "By id, or by name in the caller's account (or the one named); members leave the group, running ones stay where they are."
  deleteAffinityGroup(id: ID, name: String, account: String, domainId: ID): Boolean!
  "Replaces the groups of a stopped instance (none given: it leaves them all)."
  updateVMAffinityGroup(id: ID!, affinityGroupIds: [ID!], affinityGroupNames: [String!]): VirtualMachine!
  "A job on the new snapshot (resourceType VMSnapshot). DiskAndMemory when snapshotMemory and the instance is Running; name is the display name (default: the snapshot's name)."
  createVMSnapshot(virtualMachineId: ID!, name: String, description: String, snapshotMemory: Boolean = false, quiesceVm: Boolean = false): AsyncJob!
  "A running instance reverts to a DiskAndMemory snapshot, a stopped one to a Disk snapshot; its offering at the snapshot is restored."
  revertToVMSnapshot(vmSnapshotId: ID!): AsyncJob!
  "Its children move up to its parent."
  deleteVMSnapshot(vmSnapshotId: ID!): AsyncJob!

  createZone(name: String!, networkType: String): Zone!
  addCluster(zoneId: ID!, name: String!, hypervisor: String!): Cluster!
  addHost(
    clusterId: ID!
    name: String!
    driver: String!
    cpuNumber: Int
    cpuSpeed: Int
    memory: Int
    hostTags: [String!]
    url: String
    username: String
    password: String
    simulator: SimulatorInput
  ): Host!
  createStoragePool(
    zoneId: ID!
    name: String!
    type: String!
    path: String
    url: String
    server: String
    capacityBytes: Float
    clusterId: ID
    hostId: ID
    tags: [String!]
    scope: String
  ): StoragePool!
  createNetwork(zoneId: ID!, name: String!, type: GuestNetworkType!, vlan: Int, cidr: String, gateway: String, accountId: ID): Network!
  createServiceOffering(
    name: String!
    displayText: String
    cpuNumber: Int
    cpuSpeed: Int
    memory: Int
    customized: Boolean
    minCpuNumber: Int
    maxCpuNumber: Int
    minMemory: Int
    maxMemory: Int
    hostTags: [String!]
    storageTags: [String!]
    isVolatile: Boolean
    dynamicScalingEnabled: Boolean
    offerHa: Boolean
    leaseDuration: Int
    leaseExpiryAction: LeaseExpiryAction
  ): ServiceOffering!
  createDiskOffering(name: String!, displayText: String, diskSize: Float, customized: Boolean, storageTags: [String!]): DiskOffering!
  registerTemplate(
    zoneId: ID
    name: String!
    displayText: String
    osType: String!
    url: String
    size: Float
    format: String
    hypervisor: String
    isDynamicallyScalable: Boolean
    isPublic: Boolean
  ): Template!
  createAccount(name: String!, role: Role!, domainId: ID): Account!
  updateConfiguration(name: String!, value: String!, zoneId: ID): Configuration!
}

type Subscription {
  "The job as it is now, then each change; completes after the job succeeded or failed."
  asyncJobUpdated(id: ID!): AsyncJob!
}
`;
