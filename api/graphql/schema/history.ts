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
`;
