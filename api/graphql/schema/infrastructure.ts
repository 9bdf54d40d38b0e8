// Infrastructure, accounts and configuration nodes, shaped like the projections' nodes
// (projections/infrastructure/*/queries.ts, projections/accounts, projections/configuration).
export const infrastructureTypeDefs = /* GraphQL */ `
enum Role { ROOT_ADMIN DOMAIN_ADMIN USER }

enum GuestNetworkType { L2 Shared Isolated }

"Operations a simulator host can be told to fail."
enum SimulatorFault { START STOP REBOOT MIGRATE SNAPSHOT }

input MigrateVolumeInput {
  "The volume to move."
  volume: ID!
  "The storage pool it moves to."
  pool: ID!
}

input SimulatorInput {
  startDelayMs: Int
  stopDelayMs: Int
  failOn: [SimulatorFault!]
}

type SimulatorConfig {
  startDelayMs: Int!
  stopDelayMs: Int!
  failOn: [SimulatorFault!]!
}

type Zone {
  id: ID!
  name: String!
  "Advanced or Basic."
  networkType: String!
  allocationState: String!
  created: DateTime!
}

type Cluster {
  id: ID!
  zoneId: ID!
  name: String!
  hypervisor: String!
  created: DateTime!
}

"CPU in MHz (cores x MHz per core), memory in MiB."
type Host {
  id: ID!
  name: String!
  zoneId: ID!
  clusterId: ID!
  hypervisor: String!
  "simulator or libvirt."
  driver: String!
  state: String!
  status: String!
  resourceState: String!
  cpuNumber: Int!
  "MHz per core."
  cpuSpeed: Int!
  memory: Int!
  hostTags: [String!]!
  url: String
  username: String
  simulator: SimulatorConfig
  cpuTotal: Int!
  cpuAllocated: Int!
  cpuFree: Int!
  memoryTotal: Int!
  memoryAllocated: Int!
  memoryFree: Int!
  reservationCount: Int!
  "What the host's agent reports it can do: snapshot.memory, snapshot.disk.stopped, snapshot.disk.running, instance.conversion; empty until it has reported."
  capabilities: [String!]!
  removed: Boolean!
  created: DateTime!
}

"Sizes in bytes."
type StoragePool {
  id: ID!
  name: String!
  zoneId: ID!
  clusterId: ID
  hostId: ID
  "ZONE, CLUSTER or HOST."
  scope: String!
  "NFS, local or SharedMountPoint."
  type: String!
  server: String
  path: String!
  capacityBytes: Float!
  allocatedBytes: Float!
  freeBytes: Float!
  tags: [String!]!
  created: DateTime!
}

type Network {
  id: ID!
  name: String!
  zoneId: ID!
  type: GuestNetworkType!
  vlan: Int
  cidr: String
  gateway: String
  netmask: String
  networkOfferingId: ID
  accountId: ID
  state: String!
  removed: Boolean!
  created: DateTime!
}

"CPU in MHz per core, memory in MiB; fields a kind of offering lacks are null."
type ServiceOffering {
  id: ID!
  name: String!
  displayText: String
  computeKind: String!
  customized: Boolean!
  cpuNumber: Int
  cpuSpeed: Int
  memory: Int
  minCpuNumber: Int
  maxCpuNumber: Int
  minMemory: Int
  maxMemory: Int
  hostTags: [String!]!
  "Storage tags a pool must carry to take the root volume."
  storageTags: [String!]!
  "The root disk is reset to a fresh copy of the template on every reboot and start."
  isVolatile: Boolean!
  dynamicScalingEnabled: Boolean!
  offerHa: Boolean!
  "Days."
  leaseDuration: Int
  leaseExpiryAction: LeaseExpiryAction
  removed: Boolean!
  created: DateTime!
}

type DiskOffering {
  id: ID!
  name: String!
  displayText: String
  "Bytes; null for a custom-sized offering."
  diskSize: Float
  customized: Boolean!
  storageTags: [String!]!
  removed: Boolean!
  created: DateTime!
}

type Template {
  id: ID!
  name: String!
  displayText: String
  "The OS type name, e.g. Debian GNU/Linux 12 (64-bit); the same as osTypeName."
  osType: String!
  osTypeName: String!
  "The OS type's id in osTypes."
  osTypeId: ID
  "Virtual size in bytes."
  size: Float!
  format: String!
  hypervisor: String!
  isDynamicallyScalable: Boolean!
  url: String
  "Null for a cross-zone template."
  zoneId: ID
  accountId: ID
  isPublic: Boolean!
  removed: Boolean!
  created: DateTime!
}

"A guest OS type: templates name it by description in registerTemplate(osType), instances carry its id."
type OsType {
  id: ID!
  "e.g. Debian GNU/Linux 12 (64-bit)"
  description: String!
  osCategoryName: String!
}

type Account {
  id: ID!
  name: String!
  role: Role!
  domainId: ID!
  "The new user's API key: returned by createAccount only, null everywhere else."
  apiKey: String
  domainPath: String
  state: String
  created: DateTime
}

type Configuration {
  name: String!
  value: String!
  "The zone asked for, on keys that can be set per zone; null otherwise."
  zoneId: ID
  defaultValue: String
  type: String
  scopes: [String!]
  "Where the value came from: default, global or zone."
  source: String
  description: String
}

type ZoneConnection { nodes: [Zone!]!  pageInfo: PageInfo!  totalCount: Int! }
type ClusterConnection { nodes: [Cluster!]!  pageInfo: PageInfo!  totalCount: Int! }
type HostConnection { nodes: [Host!]!  pageInfo: PageInfo!  totalCount: Int! }
type StoragePoolConnection { nodes: [StoragePool!]!  pageInfo: PageInfo!  totalCount: Int! }
type NetworkConnection { nodes: [Network!]!  pageInfo: PageInfo!  totalCount: Int! }
type ServiceOfferingConnection { nodes: [ServiceOffering!]!  pageInfo: PageInfo!  totalCount: Int! }
type DiskOfferingConnection { nodes: [DiskOffering!]!  pageInfo: PageInfo!  totalCount: Int! }
type TemplateConnection { nodes: [Template!]!  pageInfo: PageInfo!  totalCount: Int! }
type AccountConnection { nodes: [Account!]!  pageInfo: PageInfo!  totalCount: Int! }
type OsTypeConnection { nodes: [OsType!]!  pageInfo: PageInfo!  totalCount: Int! }
type ConfigurationConnection { nodes: [Configuration!]!  pageInfo: PageInfo!  totalCount: Int! }
`;
