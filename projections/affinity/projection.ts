// Affinity groups as affinityGroups lists them, and what the planner asks of them: the members (from the
// instances' own affinityGroupIds) and, for strict groups, where the members are placed (from the
// group's stream). The planner may read a stale answer; the group's stream re-checks every placement.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { AFFINITY_GROUP_STREAM_PREFIX, type AffinityGroupEvent } from '../../domain/affinity/index.js';
import { INSTANCE_STREAM_PREFIX, type InstanceDomainEvent } from '../../domain/instance/index.js';
import type { Projection, ReadModelWriter } from '../projection.js';

export const affinityGroupsProjection: Projection = {
  name: 'affinity-groups',
  version: 1,
  schema: `
    CREATE TABLE affinity_groups (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      type        TEXT NOT NULL,
      description TEXT,
      account_id  TEXT NOT NULL,
      domain_id   TEXT NOT NULL,
      created     TEXT NOT NULL
    );
    CREATE INDEX affinity_groups_by_created ON affinity_groups (created, id);
    CREATE INDEX affinity_groups_by_account ON affinity_groups (account_id, created, id);
    CREATE INDEX affinity_groups_by_name ON affinity_groups (account_id, name COLLATE NOCASE);
    CREATE TABLE affinity_group_members (
      group_id    TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      PRIMARY KEY (group_id, instance_id)
    ) WITHOUT ROWID;
    CREATE INDEX affinity_group_members_by_instance ON affinity_group_members (instance_id);
    CREATE TABLE affinity_group_placements (
      group_id    TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      host_id     TEXT NOT NULL,
      PRIMARY KEY (group_id, instance_id, host_id)
    ) WITHOUT ROWID;
  `,
  filter: { streamNamePrefixes: [AFFINITY_GROUP_STREAM_PREFIX, INSTANCE_STREAM_PREFIX] },
  handle(recorded, db) {
    if (recorded.stream.startsWith(INSTANCE_STREAM_PREFIX)) return handleInstanceEvent(toDomainEvent<InstanceDomainEvent>(recorded), db);
    const event = toDomainEvent<AffinityGroupEvent>(recorded);
    const d = event.data;
    switch (event.type) {
      case 'AffinityGroupCreated':
        db.run(
          'INSERT OR IGNORE INTO affinity_groups (id, name, type, description, account_id, domain_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
          d.groupId, d.name, d.type, event.data.description, d.accountId, d.domainId, event.data.created,
        );
        return;
      case 'AffinityGroupDeleted':
        // Members are detached: the group is gone for them whatever their instances still say.
        db.run('DELETE FROM affinity_groups WHERE id = ?', d.groupId);
        db.run('DELETE FROM affinity_group_members WHERE group_id = ?', d.groupId);
        db.run('DELETE FROM affinity_group_placements WHERE group_id = ?', d.groupId);
        return;
      case 'AffinityMemberPlaced':
        db.run('INSERT OR IGNORE INTO affinity_group_placements (group_id, instance_id, host_id) VALUES (?, ?, ?)', d.groupId, event.data.instanceId, event.data.hostId);
        return;
      case 'AffinityMemberUnplaced':
        db.run('DELETE FROM affinity_group_placements WHERE group_id = ? AND instance_id = ? AND host_id = ?', d.groupId, event.data.instanceId, event.data.hostId);
        return;
      case 'AffinityMemberSettled':
        db.run('DELETE FROM affinity_group_placements WHERE group_id = ? AND instance_id = ?', d.groupId, event.data.instanceId);
        if (event.data.hostId !== null) {
          db.run('INSERT INTO affinity_group_placements (group_id, instance_id, host_id) VALUES (?, ?, ?)', d.groupId, event.data.instanceId, event.data.hostId);
        }
        return;
    }
  },
};

function handleInstanceEvent(event: InstanceDomainEvent, db: ReadModelWriter): void {
  switch (event.type) {
    case 'InstanceDeployed':
      return setMembership(db, event.data.instanceId, event.data.affinityGroupIds);
    case 'InstanceAffinityGroupsUpdated':
      return setMembership(db, event.data.instanceId, event.data.affinityGroupIds);
    case 'InstanceExpunged':
      return setMembership(db, event.data.instanceId, []);
    default:
      return;
  }
}

/** Only groups that exist take members: an instance may name one deleted meanwhile. */
function setMembership(db: ReadModelWriter, instanceId: string, groupIds: readonly string[]): void {
  db.run('DELETE FROM affinity_group_members WHERE instance_id = ?', instanceId);
  for (const groupId of groupIds) {
    db.run('INSERT OR IGNORE INTO affinity_group_members (group_id, instance_id) SELECT id, ? FROM affinity_groups WHERE id = ?', instanceId, groupId);
  }
}
