// Usage records with the CloudStack usage server's semantics (behaviour §2.4): each usage event opens
// or closes intervals per resource. Rows hold whole intervals in epoch milliseconds; the query cuts
// them into days of the configured zone, so changing `usage.timezone` re-splits history without a
// rebuild. Every row is keyed by the id of the event that opened it, and every event is applied at
// most once (`usage_records_applied`), so a replayed or repeated event never adds or moves a record.
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { USAGE_EVENT_PREFIX, usageTypeOf, type UsageSubject } from '../../domain/instance/index.js';
import type { ReadModelWriter, Projection } from '../projection.js';
import { USAGE_RECORD_TYPES, type UsageRecordType } from './usage-types.js';

/** The §2.2 fields this projection reads, with the time as epoch milliseconds; anything else in the payload is carried through untouched. */
type Payload = UsageSubject & { readonly atMs: number };

interface OpenRow {
  id: string;
  offering_id: string | null;
  details: string | null;
}

export const usageRecordsProjection: Projection = {
  name: 'usage_records',
  version: 1,
  filter: { eventTypePrefixes: [USAGE_EVENT_PREFIX] },
  schema: `
    CREATE TABLE usage_records (
      id            TEXT PRIMARY KEY,
      usage_type    INTEGER NOT NULL,
      resource_key  TEXT NOT NULL,
      account_id    TEXT NOT NULL,
      domain_id     TEXT NOT NULL,
      zone_id       TEXT NOT NULL,
      resource_id   TEXT NOT NULL,
      resource_name TEXT NOT NULL,
      offering_id   TEXT,
      template_id   TEXT,
      size          INTEGER,
      resource_type TEXT,
      details       TEXT,
      start_ms      INTEGER NOT NULL,
      end_ms        INTEGER,
      opened_by     TEXT NOT NULL,
      closed_by     TEXT,
      position      INTEGER NOT NULL
    );
    CREATE INDEX usage_records_open ON usage_records (usage_type, resource_key) WHERE end_ms IS NULL;
    CREATE INDEX usage_records_by_account ON usage_records (account_id, start_ms);
    CREATE TABLE usage_records_applied (event_id TEXT PRIMARY KEY);
  `,
  handle(event, db) {
    if (db.get('SELECT 1 AS applied FROM usage_records_applied WHERE event_id = ?', event.id)) return;
    db.run('INSERT INTO usage_records_applied (event_id) VALUES (?)', event.id);
    const payload = payloadOf(event);
    // A payload without the fields every usage event carries is not one vmledger wrote; it bills nothing.
    if (!payload) return;
    apply(new Intervals(db, event, payload), usageTypeOf(event.type), payload);
  },
};

function apply(intervals: Intervals, type: string, payload: Payload): void {
  // The VM's id for VM.* and NIC events, the volume's for VOLUME.*.
  const id = payload.resourceId;
  switch (type) {
    case 'VM.CREATE':
      return intervals.open('ALLOCATED_VM', id);
    case 'VM.DESTROY':
      return intervals.close('ALLOCATED_VM', id);
    case 'VM.UPGRADE':
      return intervals.open('ALLOCATED_VM', id);
    case 'VM.START':
    case 'VM.DYNAMIC.SCALE':
      // open() first ends any RUNNING_VM row still open: the usage server's "found entries for a vm
      // running ... Ending them all".
      intervals.repointIfChanged('ALLOCATED_VM', id);
      return intervals.open('RUNNING_VM', id);
    case 'VM.STOP':
      return intervals.close('RUNNING_VM', id);
    case 'VOLUME.CREATE':
      return intervals.open('VOLUME', id);
    case 'VOLUME.DELETE':
      return intervals.close('VOLUME', id);
    case 'NETWORK.OFFERING.ASSIGN':
      return intervals.open('NETWORK_OFFERING', `${id}/${payload.resourceName}`);
    case 'NETWORK.OFFERING.REMOVE':
      return intervals.close('NETWORK_OFFERING', `${id}/${payload.resourceName}`);
    case 'VMSNAPSHOT.CREATE':
      return intervals.open('VM_SNAPSHOT', snapshotKey(payload));
    case 'VMSNAPSHOT.DELETE':
      return intervals.close('VM_SNAPSHOT', snapshotKey(payload));
    default:
      // MIGRATE, RESTORE, EXPUNGE, ON/OFF_PRIMARY and the rest have no interval of their own (§2.4).
      return;
  }
}

/** One VM snapshot is billed per volume: CloudStack writes the volume's id into templateId. */
function snapshotKey(payload: Payload): string {
  const details = payload.details as { vmSnapshotId?: unknown } | null;
  const snapshot = typeof details?.vmSnapshotId === 'string' ? details.vmSnapshotId : payload.resourceName;
  return `${snapshot}/${payload.templateId ?? ''}`;
}

/** The interval operations of one event against the rows open for a resource. */
class Intervals {
  constructor(
    private readonly db: ReadModelWriter,
    private readonly event: RecordedEvent,
    private readonly payload: Payload,
  ) {}

  /** Opens a row from this event, ending any row of the same kind still open for the resource. */
  open(type: UsageRecordType, key: string): void {
    this.close(type, key);
    const p = this.payload;
    this.db.run(
      `INSERT OR IGNORE INTO usage_records (id, usage_type, resource_key, account_id, domain_id, zone_id, resource_id, resource_name,
         offering_id, template_id, size, resource_type, details, start_ms, end_ms, opened_by, closed_by, position)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)`,
      `${this.event.id}:${USAGE_RECORD_TYPES[type]}`,
      USAGE_RECORD_TYPES[type],
      key,
      p.accountId,
      p.domainId,
      p.zoneId,
      p.resourceId,
      p.resourceName,
      p.offeringId,
      p.templateId,
      p.size,
      p.resourceType,
      detailsText(p.details),
      p.atMs,
      this.event.id,
      this.event.position,
    );
  }

  /** Ends the open rows of this kind for the resource at the event's time (never before they began). */
  close(type: UsageRecordType, key: string): void {
    this.db.run(
      `UPDATE usage_records SET end_ms = MAX(start_ms, ?), closed_by = ?
       WHERE usage_type = ? AND resource_key = ? AND end_ms IS NULL`,
      this.payload.atMs,
      this.event.id,
      USAGE_RECORD_TYPES[type],
      key,
    );
  }

  /** Re-opens the open row when the event names another offering or other dynamic compute. */
  repointIfChanged(type: UsageRecordType, key: string): void {
    const open = this.db.get<OpenRow>(
      'SELECT id, offering_id, details FROM usage_records WHERE usage_type = ? AND resource_key = ? AND end_ms IS NULL',
      USAGE_RECORD_TYPES[type],
      key,
    );
    if (!open) return;
    if (open.offering_id === this.payload.offeringId && open.details === detailsText(this.payload.details)) return;
    this.open(type, key);
  }
}

function detailsText(details: unknown): string | null {
  return details === null || details === undefined ? null : JSON.stringify(details);
}

function payloadOf(event: RecordedEvent): Payload | undefined {
  const d = event.data;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const accountId = text(d.accountId);
  const resourceId = text(d.resourceId);
  const atMs = Date.parse(text(d.occurredAt) ?? event.recordedAt);
  if (accountId === null || resourceId === null || Number.isNaN(atMs)) return undefined;
  return {
    accountId,
    domainId: text(d.domainId) ?? '',
    zoneId: text(d.zoneId) ?? '',
    resourceId,
    resourceName: text(d.resourceName) ?? '',
    offeringId: text(d.offeringId),
    templateId: text(d.templateId),
    size: typeof d.size === 'number' ? d.size : null,
    resourceType: text(d.resourceType),
    details: d.details,
    atMs,
  };
}
