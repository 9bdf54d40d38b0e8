// Instance snapshots (API.md "Instance snapshots", behaviour §5.1).
export const vmSnapshotTypeDefs = /* GraphQL */ `
enum VMSnapshotType { Disk DiskAndMemory }
enum VMSnapshotState { Allocated Creating Ready Reverting Expunging Error }

"A snapshot of an instance's disks (Disk), or of its disks and memory while it runs (DiskAndMemory)."
type VMSnapshot {
  id: ID!
  "The hypervisor's name: <instanceName>_VS_<yyyyMMddHHmmss> (GMT)."
  name: String!
  displayName: String!
  description: String
  virtualMachineId: ID!
  type: VMSnapshotType!
  state: VMSnapshotState!
  "The snapshot the instance was last created from or reverted to; new snapshots are its children."
  current: Boolean!
  "The snapshot that was current when this one was taken (its children move up to its parent when it is deleted)."
  parentId: ID
  "The instance's offering when it was taken: a revert restores it."
  serviceOfferingId: ID
  created: DateTime!
}

type VMSnapshotConnection {
  nodes: [VMSnapshot!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`;
