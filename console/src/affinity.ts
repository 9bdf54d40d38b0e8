// Affinity groups as the screens read them: the groups an owner account has (the deploy wizard and an
// instance's groups offer only those: the API refuses another account's group), and the names of
// their members.
import { gql } from './api.ts';
import { AFFINITY_GROUP_FIELDS, allPages, type AffinityGroup, type Connection, type Vm } from './model.ts';

/** The groups the caller may see, or those of one account; oldest first. */
export function loadAffinityGroups(accountId: string | null = null): Promise<AffinityGroup[]> {
  return allPages((after) =>
    gql<{ affinityGroups: Connection<AffinityGroup> }>(
      `query($after: String, $accountId: ID) { affinityGroups(first: 100, after: $after, accountId: $accountId) { nodes { ${AFFINITY_GROUP_FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
      { after, accountId },
    ).then((d) => d.affinityGroups),
  );
}

export type Member = Pick<Vm, 'id' | 'name' | 'state' | 'hostId'>;

/** The instances behind the ids (an expunged one is no longer listed). */
export async function loadMembers(ids: readonly string[]): Promise<Map<string, Member>> {
  if (ids.length === 0) return new Map();
  const members = await allPages((after) =>
    gql<{ virtualMachines: Connection<Member> }>(
      `query($ids: [ID!], $after: String) { virtualMachines(ids: $ids, first: 100, after: $after) { nodes { id name state hostId } pageInfo { hasNextPage endCursor } totalCount } }`,
      { ids: [...new Set(ids)], after },
    ).then((d) => d.virtualMachines),
  );
  return new Map(members.map((vm) => [vm.id, vm]));
}
