// API.md's instance and job types, verbatim where API.md spells them out.
export const instanceTypeDefs = /* GraphQL */ `
"""ISO-8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z; returned in UTC."""
scalar DateTime

"""Any JSON value."""
scalar JSON

enum VmState { Starting Running Stopping Stopped Destroyed Expunging Migrating Error Unknown Shutdown }

enum LeaseExpiryAction { STOP DESTROY }

enum JobStatus { PENDING SUCCEEDED FAILED }

type PageInfo {
  hasNextPage: Boolean!
  "Pass as \`after\` to get the next page."
  endCursor: String
}

type JobError {
  code: String!
  errorCode: Int!
  message: String!
}

type AsyncJob {
  id: ID!
  cmd: String!
  status: JobStatus!
  "0–100: the progress of the workflow step the job is at; 100 once it ended."
  progress: Int
  "The workflow step it is at (e.g. PLANNING, STARTING, STOPPING, EXPUNGING); null before its first."
  step: String
  "What it acts on: VirtualMachine, ... It may be opened before its resource exists."
  resourceType: String!
  resourceId: ID
  createdAt: DateTime!
  completedAt: DateTime
  error: JobError
  "The instance as of completion."
  result: VirtualMachine
  instanceId: ID
  accountId: ID!
}

type Nic {
  id: ID!
  networkId: ID!
  macAddress: String!
  ipAddress: String
  isDefault: Boolean!
  deviceId: Int!
}

type Volume {
  id: ID!
  name: String!
  "ROOT or DATADISK."
  type: String!
  "Bytes."
  size: Float!
  storagePoolId: ID
  state: String!
}

type VirtualMachine {
  id: ID!
  name: String!
  displayName: String!
  "The hypervisor's name for the instance; null to USER callers, as hostId and lastHostId are."
  instanceName: String
  state: VmState!
  zoneId: ID!
  "Null to USER callers: placement is for admins."
  hostId: ID
  "Null to USER callers."
  lastHostId: ID
  serviceOfferingId: ID!
  templateId: ID!
  "The guest OS type (osTypes): the template's at deploy, then as updateVirtualMachine sets it."
  osTypeId: ID
  accountId: ID!
  domainId: ID!
  group: String
  cpuNumber: Int!
  "MHz per core."
  cpuSpeed: Int!
  "MiB."
  memory: Int!
  deleteProtection: Boolean!
  haEnable: Boolean!
  "Days."
  leaseDuration: Int
  leaseExpiryAction: LeaseExpiryAction
  leaseExpiryDate: DateTime
  details: JSON
  nics: [Nic!]!
  volumes: [Volume!]!
  affinityGroupIds: [ID!]!
  created: DateTime!
}

type AsyncJobConnection {
  nodes: [AsyncJob!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

type VirtualMachineConnection {
  nodes: [VirtualMachine!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`;
