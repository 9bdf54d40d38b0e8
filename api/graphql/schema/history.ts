// The audit trail and the usage events (API.md "Events, usage, history").
export const historyTypeDefs = /* GraphQL */ `
type Event {
  id: ID!
  "CloudStack action-event type, e.g. VM.CREATE, VM.START, VM.LEASE.EXPIRING."
  type: String!
  state: String!
  level: String!
  resourceId: ID!
  resourceType: String!
  accountId: ID!
  domainId: ID!
  description: String!
  "Who did it: a user, an account and a role, or a system component."
  actor: JSON
  occurredAt: DateTime!
  "Position in the event log."
  position: Float!
}

type EventConnection {
  nodes: [Event!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

type UsageEvent {
  "Without the usage. prefix, e.g. VM.START."
  type: String!
  accountId: ID!
  domainId: ID!
  zoneId: ID!
  resourceId: ID!
  resourceName: String!
  offeringId: ID
  templateId: ID
  "Bytes, for volume events."
  size: Float
  resourceType: String
  details: JSON
  occurredAt: DateTime!
  position: Float!
  eventId: ID!
}

type UsageEventConnection {
  nodes: [UsageEvent!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

"CloudStack's usage record types (UsageTypes), numbered in UsageRecord.usageType."
enum UsageRecordType {
  RUNNING_VM
  ALLOCATED_VM
  VOLUME
  NETWORK_OFFERING
  VM_SNAPSHOT
}

"One day's piece of a usage interval, clipped to the query's window."
type UsageRecord {
  id: ID!
  type: UsageRecordType!
  "CloudStack's number: RUNNING_VM 1, ALLOCATED_VM 2, VOLUME 6, NETWORK_OFFERING 13, VM_SNAPSHOT 25."
  usageType: Int!
  accountId: ID!
  domainId: ID!
  zoneId: ID!
  "The instance (volume for VOLUME)."
  resourceId: ID!
  "The instance's name, the volume's, the NIC's id (NETWORK_OFFERING) or the snapshot's name."
  resourceName: String!
  offeringId: ID
  "The template; the volume's id for VM_SNAPSHOT, as CloudStack writes it."
  templateId: ID
  "Bytes for VOLUME and VM_SNAPSHOT; 1 for the default NIC, 0 for others."
  size: Float
  resourceType: String
  details: JSON
  startDate: DateTime!
  "Null while the interval is open and this piece runs to the window's end or to now."
  endDate: DateTime
  durationMs: Float!
  "The usage events that opened and closed the interval."
  openedBy: ID!
  closedBy: ID
}

type UsageRecordConnection {
  nodes: [UsageRecord!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`;
