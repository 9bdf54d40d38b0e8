import type { Database } from 'better-sqlite3';
import type { AffinityGroupType, AffinityMember, GroupMembership } from '../../domain/affinity/index.js';
import { isStrict } from '../../domain/affinity/index.js';
import { byCreated, listPage, where } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { prepared } from '../sql.js';
import { visibleTo, type Visibility } from '../visibility.js';

/** AffinityGroup of API.md. */
export interface AffinityGroupListing {
  readonly id: string;
  readonly name: string;
  readonly type: AffinityGroupType;
  readonly description: string | null;
  readonly accountId: string;
  readonly domainId: string;
  readonly virtualMachineIds: readonly string[];
  readonly created: string;
}

interface Row {
  id: string;
  name: string;
  type: AffinityGroupType;
  description: string | null;
  account_id: string;
  domain_id: string;
  created: string;
}

function membersOf(db: Database, groupId: string): string[] {
  const rows = prepared(db, 'SELECT instance_id FROM affinity_group_members WHERE group_id = ? ORDER BY instance_id').all(groupId) as Array<{ instance_id: string }>;
  return rows.map((row) => row.instance_id);
}

function toListing(db: Database, row: Row): AffinityGroupListing {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    description: row.description,
    accountId: row.account_id,
    domainId: row.domain_id,
    virtualMachineIds: membersOf(db, row.id),
    created: row.created,
  };
}

export interface AffinityGroupFilter {
  readonly id?: string | null;
  readonly name?: string | null;
  readonly type?: AffinityGroupType | null;
  readonly virtualMachineId?: string | null;
  readonly accountId?: string | null;
  readonly domainId?: string | null;
}

/** The groups the caller may see, oldest first. */
export function listAffinityGroups(db: Database, visibility: Visibility, filter: AffinityGroupFilter, page: PageRequest): Connection<AffinityGroupListing> {
  const conditions = [
    visibleTo(visibility),
    filter.id ? where('id = ?', filter.id) : undefined,
    filter.name ? where('name = ? COLLATE NOCASE', filter.name) : undefined,
    filter.type ? where('type = ?', filter.type) : undefined,
    filter.accountId ? where('account_id = ?', filter.accountId) : undefined,
    filter.domainId ? where('domain_id = ?', filter.domainId) : undefined,
    filter.virtualMachineId ? where('id IN (SELECT group_id FROM affinity_group_members WHERE instance_id = ?)', filter.virtualMachineId) : undefined,
  ];
  return listPage(db, byCreated<Row>('affinity_groups', conditions), page, (row) => toListing(db, row));
}

export function getAffinityGroup(db: Database, id: string): AffinityGroupListing | undefined {
  const row = prepared(db, 'SELECT * FROM affinity_groups WHERE id = ?').get(id) as Row | undefined;
  return row && toListing(db, row);
}

/** The account's group of that name; names are compared as CloudStack's database does, ignoring case. */
export function findAffinityGroupByName(db: Database, accountId: string, name: string): AffinityGroupListing | undefined {
  const row = prepared(db, 'SELECT * FROM affinity_groups WHERE account_id = ? AND name = ? COLLATE NOCASE').get(accountId, name) as Row | undefined;
  return row && toListing(db, row);
}

interface MemberRow {
  instance_id: string;
  host_id: string | null;
  last_host_id: string | null;
  state: string | null;
  state_since: string | null;
}

/**
 * What the planner needs of the groups: for a strict group where its members are placed (the group's
 * own record, which its stream checks), for a non-strict one each member's host, last host, state and
 * when it last changed state. Groups that no longer exist are left out.
 */
export function groupMemberships(db: Database, groupIds: readonly string[]): GroupMembership[] {
  const out: GroupMembership[] = [];
  for (const groupId of new Set(groupIds)) {
    const group = prepared(db, 'SELECT id, name, type FROM affinity_groups WHERE id = ?').get(groupId) as Pick<Row, 'id' | 'name' | 'type'> | undefined;
    if (!group) continue;
    let members: AffinityMember[];
    if (isStrict(group.type)) {
      const rows = prepared(db, 'SELECT instance_id, host_id FROM affinity_group_placements WHERE group_id = ?').all(groupId) as Array<{ instance_id: string; host_id: string }>;
      const hosts = new Map<string, string[]>();
      for (const row of rows) hosts.set(row.instance_id, [...(hosts.get(row.instance_id) ?? []), row.host_id]);
      members = [...hosts].map(([instanceId, hostIds]) => ({ instanceId, hostIds, lastHostId: null, state: 'Running', updatedAt: '' }));
    } else {
      const rows = prepared(
        db,
        `SELECT m.instance_id, i.host_id, json_extract(i.instance, '$.lastHostId') AS last_host_id, i.state, i.state_since
         FROM affinity_group_members m LEFT JOIN instances i ON i.id = m.instance_id WHERE m.group_id = ?`,
      ).all(groupId) as MemberRow[];
      members = rows.map((row) => ({
        instanceId: row.instance_id,
        hostIds: row.host_id === null ? [] : [row.host_id],
        lastHostId: row.last_host_id,
        state: row.state ?? 'Expunging',
        updatedAt: row.state_since ?? '',
      }));
    }
    out.push({ groupId: group.id, name: group.name, type: group.type, members });
  }
  return out;
}
