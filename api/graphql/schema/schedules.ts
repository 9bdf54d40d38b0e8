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

type VMScheduleConnection {
  nodes: [VMSchedule!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`;
