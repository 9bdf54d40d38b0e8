// The audit trail: one row per domain event that stands for a CloudStack action event, oldest first.
// An instance's events belong to the instance's owner; the administration of the cloud (accounts,
// zones, hosts, offerings, settings, ...) belongs to the account that acted, as in CloudStack.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { ACCOUNT_STREAM_PREFIX } from '../../domain/account/index.js';
import { AFFINITY_GROUP_STREAM_PREFIX, type AffinityGroupEvent } from '../../domain/affinity/index.js';
import { CONFIG_STREAM_PREFIX } from '../../domain/config/index.js';
import { HOST_STREAM_PREFIX } from '../../domain/host/index.js';
import { INSTANCE_STREAM_PREFIX, isUsageEventType, type InstanceDomainEvent } from '../../domain/instance/index.js';
import { NETWORK_STREAM_PREFIX } from '../../domain/network/index.js';
import { OFFERING_STREAM_PREFIX } from '../../domain/offering/index.js';
import { STORAGE_POOL_STREAM_PREFIX } from '../../domain/storage/index.js';
import { VM_SCHEDULE_STREAM_PREFIX, type VMScheduleEvent } from '../../domain/schedule/index.js';
import { TEMPLATE_STREAM_PREFIX } from '../../domain/template/index.js';
import { ZONE_STREAM_PREFIX } from '../../domain/zone/index.js';
import type { ActionEventType } from '../../domain/shared/action-event-types.js';
import type { Projection, ReadModelWriter } from '../projection.js';
import { administrationActionEvent, affinityGroupActionEvent, instanceActionEvent, scheduleActionEvent, type AdministrationDomainEvent } from './action-events.js';

/** The streams of the administration: accounts, zones (with their clusters), hosts, storage pools, networks, offerings, templates, settings. */
const ADMINISTRATION_STREAM_PREFIXES = [
  ACCOUNT_STREAM_PREFIX,
  ZONE_STREAM_PREFIX,
  HOST_STREAM_PREFIX,
  STORAGE_POOL_STREAM_PREFIX,
  NETWORK_STREAM_PREFIX,
  OFFERING_STREAM_PREFIX,
  TEMPLATE_STREAM_PREFIX,
  CONFIG_STREAM_PREFIX,
];

interface Owner {
  readonly account_id: string;
  readonly domain_id: string;
}

/**
 * Who an administration event belongs to when no account acted: a system component (the bootstrap
 * that creates the first root admin). Only root admins, who see every row, see it.
 */
const NO_ACCOUNT: Owner = { account_id: '', domain_id: '' };

export const eventsProjection: Projection = {
  name: 'events',
  // 2: the administration's action events (ACCOUNT.CREATE, ZONE.CREATE, ...) joined the instances'.
  // 3: the instance schedules' (VM.SCHEDULE.*).
  // 4: affinity groups' (AG.CREATE, AG.DELETE).
  version: 4,
  filter: { streamNamePrefixes: [INSTANCE_STREAM_PREFIX, VM_SCHEDULE_STREAM_PREFIX, AFFINITY_GROUP_STREAM_PREFIX, ...ADMINISTRATION_STREAM_PREFIXES] },
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
    CREATE TABLE events_accounts (account_id TEXT PRIMARY KEY, domain_id TEXT NOT NULL);
  `,
  handle(event, db) {
    if (isUsageEventType(event.type)) return;
    if (event.stream.startsWith(INSTANCE_STREAM_PREFIX)) handleInstanceEvent(event, db);
    else if (event.stream.startsWith(VM_SCHEDULE_STREAM_PREFIX)) handleScheduleEvent(event, db);
    else if (event.stream.startsWith(AFFINITY_GROUP_STREAM_PREFIX)) handleAffinityGroupEvent(event, db);
    else handleAdministrationEvent(event, db);
  },
};

function handleInstanceEvent(event: RecordedEvent, db: ReadModelWriter): void {
  const domainEvent = toDomainEvent<InstanceDomainEvent>(event);
  const resourceId = event.stream.slice(INSTANCE_STREAM_PREFIX.length);
  const memoKey = `events|owner|${resourceId}`;
  if (domainEvent.type === 'InstanceDeployed' || domainEvent.type === 'InstanceImportRequested') {
    const { accountId, domainId } = domainEvent.data;
    db.run('INSERT OR REPLACE INTO events_owners (resource_id, account_id, domain_id) VALUES (?, ?, ?)', resourceId, accountId, domainId);
    db.memo.set(memoKey, { account_id: accountId, domain_id: domainId });
  }
  let owner = db.memo.get(memoKey) as Owner | undefined;
  owner ??= db.get<Owner>('SELECT account_id, domain_id FROM events_owners WHERE resource_id = ?', resourceId);
  if (!owner) return;
  db.memo.set(memoKey, owner);
  const action = instanceActionEvent(domainEvent);
  insertEvent(db, event, { ...action, resourceId, resourceType: 'VirtualMachine', accountId: owner.account_id, domainId: owner.domain_id });
}

/** A schedule's events belong to its instance's owner, recorded with its creation. */
function handleScheduleEvent(event: RecordedEvent, db: ReadModelWriter): void {
  const domainEvent = toDomainEvent<VMScheduleEvent>(event);
  const resourceId = domainEvent.data.scheduleId;
  if (domainEvent.type === 'VMScheduleCreated') {
    const { accountId, domainId } = domainEvent.data;
    db.run('INSERT OR REPLACE INTO events_owners (resource_id, account_id, domain_id) VALUES (?, ?, ?)', resourceId, accountId, domainId);
  }
  const owner = db.get<Owner>('SELECT account_id, domain_id FROM events_owners WHERE resource_id = ?', resourceId);
  if (!owner) return;
  insertEvent(db, event, { ...scheduleActionEvent(domainEvent), resourceId, resourceType: 'VMSchedule', accountId: owner.account_id, domainId: owner.domain_id });
}

/** A group's events belong to the account that owns the group (which an admin may have created it for). */
function handleAffinityGroupEvent(event: RecordedEvent, db: ReadModelWriter): void {
  const domainEvent = toDomainEvent<AffinityGroupEvent>(event);
  const action = affinityGroupActionEvent(domainEvent);
  if (!action) return;
  const { groupId, accountId, domainId } = domainEvent.data;
  insertEvent(db, event, { ...action, resourceId: groupId, resourceType: 'AffinityGroup', accountId, domainId });
}

function handleAdministrationEvent(event: RecordedEvent, db: ReadModelWriter): void {
  const domainEvent = toDomainEvent<AdministrationDomainEvent>(event);
  // Every account's domain, so that what an account's users do lands in that domain's trail.
  if (domainEvent.type === 'AccountCreated') {
    const { accountId, domainId } = domainEvent.data;
    db.run('INSERT OR REPLACE INTO events_accounts (account_id, domain_id) VALUES (?, ?)', accountId, domainId);
    db.memo.set(`events|account|${accountId}`, { account_id: accountId, domain_id: domainId });
  }
  const action = administrationActionEvent(domainEvent);
  if (!action) return;
  const owner = actingAccount(event, db);
  insertEvent(db, event, { ...action, accountId: owner.account_id, domainId: owner.domain_id });
}

/** The account of the user in the event's metadata, with its domain; NO_ACCOUNT for a system component. */
function actingAccount(event: RecordedEvent, db: ReadModelWriter): Owner {
  const actor = event.metadata.actor;
  const accountId = typeof actor === 'object' && actor !== null && !Array.isArray(actor) ? actor.accountId : undefined;
  if (typeof accountId !== 'string') return NO_ACCOUNT;
  const memoKey = `events|account|${accountId}`;
  const known = (db.memo.get(memoKey) as Owner | undefined) ?? db.get<Owner>('SELECT account_id, domain_id FROM events_accounts WHERE account_id = ?', accountId);
  if (!known) return { account_id: accountId, domain_id: '' };
  db.memo.set(memoKey, known);
  return known;
}

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
