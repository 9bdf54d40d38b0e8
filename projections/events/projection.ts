// The audit trail: one row per domain event that stands for a CloudStack action event, oldest first.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import type { InstanceDomainEvent } from '../../domain/instance/index.js';
import type { ActionEventType } from '../../domain/shared/action-event-types.js';
import { INSTANCE_STREAM_PREFIX } from '../instances/projection.js';
import type { Projection, ReadModelWriter } from '../projection.js';
import { instanceActionEvent } from './action-events.js';

export const eventsProjection: Projection = {
  name: 'events',
  version: 1,
  filter: { streamNamePrefixes: [INSTANCE_STREAM_PREFIX] },
  schema: `
    CREATE TABLE events (
      position      INTEGER PRIMARY KEY,
      event_id      TEXT NOT NULL,
      type          TEXT NOT NULL,
      state         TEXT NOT NULL,
      level         TEXT NOT NULL,
      resource_id   TEXT NOT NULL,
      resource_type TEXT NOT NULL,
      account_id    TEXT NOT NULL,
      domain_id     TEXT NOT NULL,
      description   TEXT NOT NULL,
      actor         TEXT NOT NULL,
      occurred_at   TEXT NOT NULL
    );
    CREATE INDEX events_by_resource ON events (resource_id, position);
    CREATE INDEX events_by_account ON events (account_id, position);
    CREATE INDEX events_by_type ON events (type, position);
    CREATE TABLE events_owners (resource_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, domain_id TEXT NOT NULL);
  `,
  handle(event, db) {
    if (event.type.startsWith('usage.')) return;
    const domainEvent = toDomainEvent<InstanceDomainEvent>(event);
    const resourceId = event.stream.slice(INSTANCE_STREAM_PREFIX.length);
    const memoKey = `events|owner|${resourceId}`;
    if (domainEvent.type === 'InstanceDeployed') {
      const { accountId, domainId } = domainEvent.data;
      db.run('INSERT OR REPLACE INTO events_owners (resource_id, account_id, domain_id) VALUES (?, ?, ?)', resourceId, accountId, domainId);
      db.memo.set(memoKey, { account_id: accountId, domain_id: domainId });
    }
    let owner = db.memo.get(memoKey) as { account_id: string; domain_id: string } | undefined;
    owner ??= db.get<{ account_id: string; domain_id: string }>('SELECT account_id, domain_id FROM events_owners WHERE resource_id = ?', resourceId);
    if (!owner) return;
    db.memo.set(memoKey, owner);
    const action = instanceActionEvent(domainEvent);
    insertEvent(db, event, { ...action, resourceId, resourceType: 'VirtualMachine', accountId: owner.account_id, domainId: owner.domain_id });
  },
};

function insertEvent(
  db: ReadModelWriter,
  event: RecordedEvent,
  row: { type: ActionEventType; state: string; level: string; description: string; resourceId: string; resourceType: string; accountId: string; domainId: string },
): void {
  db.run(
    `INSERT OR IGNORE INTO events (position, event_id, type, state, level, resource_id, resource_type, account_id, domain_id, description, actor, occurred_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    event.position,
    event.id,
    row.type,
    row.state,
    row.level,
    row.resourceId,
    row.resourceType,
    row.accountId,
    row.domainId,
    row.description,
    JSON.stringify(event.metadata.actor ?? { kind: 'system', component: 'unknown' }),
    typeof event.metadata.occurredAt === 'string' ? event.metadata.occurredAt : event.recordedAt,
  );
}
