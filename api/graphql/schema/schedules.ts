// Instance schedules (API.md "Leases and schedules", behaviour §5.2).
export const scheduleTypeDefs = /* GraphQL */ `
enum VMScheduleAction { START STOP FORCE_STOP REBOOT FORCE_REBOOT }

"An action run on an instance at each fire of a five-field cron expression in an IANA time zone, between startDate and endDate."
type VMSchedule {
  id: ID!
  virtualMachineId: ID!
  action: VMScheduleAction!
  schedule: String!
  timeZone: String!
  description: String!
  startDate: DateTime!
  endDate: DateTime
  "False once disabled by an update, by its instance's expunge, or when no fire is left before its end date."
  enabled: Boolean!
  created: DateTime!
}

"Instances of one account kept on one host (affinity) or apart (anti-affinity), strictly or by priority."
type AffinityGroup {
  id: ID!
  name: String!
  "CloudStack's type name: host affinity, host anti-affinity, non-strict host affinity, non-strict host anti-affinity."
  type: String!
  description: String
  accountId: ID!
  domainId: ID!
  virtualMachineIds: [ID!]!
}

type AffinityGroupConnection {
  nodes: [AffinityGroup!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

type VMScheduleConnection {
  nodes: [VMSchedule!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`;
