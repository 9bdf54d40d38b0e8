// usageRecords: the intervals of the usage_records table that overlap a window, clipped to it and cut
// into days of the usage time zone, oldest first. Pieces are computed per query (a zone change needs
// no rebuild), so the page is cut from the sorted pieces with the same keyset cursors as every list.
import type { Database } from 'better-sqlite3';
import { where } from '../listing.js';
import { InvalidPageRequestError, decodeCursor, pageSize, toConnection, type Connection, type PageRequest } from '../pagination.js';
import { prepared } from '../sql.js';
import { InvalidTimeWindowError, windowBound } from '../time-range.js';
import type { UsageSubject } from '../../domain/instance/index.js';
import { visibleTo, type Visibility } from '../visibility.js';
import { splitAtMidnights } from './day-split.js';
import { USAGE_RECORD_TYPES, usageRecordTypeOf, type UsageRecordType } from './usage-types.js';

/** A record bills what the usage event that opened it named. */
export interface UsageRecordView extends UsageSubject {
  /** The interval's id (the opening event's id and the type number) and the start of this day's piece. */
  readonly id: string;
  readonly type: UsageRecordType;
  /** CloudStack's number for `type`. */
  readonly usageType: number;
  readonly startDate: string;
  /** Null when the interval is still open and this piece runs to the window's end or to now. */
  readonly endDate: string | null;
  readonly durationMs: number;
  /** The usage events that opened and closed the interval. */
  readonly openedBy: string;
  readonly closedBy: string | null;
}

export interface UsageRecordFilter {
  readonly accountId?: string | null;
  readonly type?: UsageRecordType | null;
  /** Inclusive. */
  readonly startDate: string;
  /** Exclusive. */
  readonly endDate: string;
}

export interface UsageRecordClock {
  /** The IANA zone whose midnights cut records into days. */
  readonly timeZone: string;
  /** Open intervals run to here (when it is before the window's end). */
  readonly nowMs: number;
}

interface Row {
  id: string;
  usage_type: number;
  account_id: string;
  domain_id: string;
  zone_id: string;
  resource_id: string;
  resource_name: string;
  offering_id: string | null;
  template_id: string | null;
  size: number | null;
  resource_type: string | null;
  details: string | null;
  start_ms: number;
  end_ms: number | null;
  opened_by: string;
  closed_by: string | null;
}

export function listUsageRecords(
  db: Database,
  visibility: Visibility,
  filter: UsageRecordFilter,
  page: PageRequest,
  clock: UsageRecordClock,
): Connection<UsageRecordView> {
  const size = pageSize(page);
  const cursor = decodeCursor(page.after);
  if (cursor !== undefined && (typeof cursor[0] !== 'string' || typeof cursor[1] !== 'string')) {
    throw new InvalidPageRequestError('after', 'after is a cursor of a different list');
  }
  const { from, to } = windowOf(filter);
  const conditions = [
    visibleTo(visibility),
    filter.accountId ? where('account_id = ?', filter.accountId) : undefined,
    filter.type ? where('usage_type = ?', USAGE_RECORD_TYPES[filter.type]) : undefined,
    where('start_ms < ?', to),
    where('(end_ms IS NULL OR end_ms > ?)', from),
  ].filter((c) => c !== undefined);
  const rows = prepared(db, `SELECT * FROM usage_records WHERE ${conditions.map((c) => `(${c.sql})`).join(' AND ')}`).all(
    ...conditions.flatMap((c) => c.params),
  ) as Row[];

  const pieces = rows.flatMap((row) => piecesOf(row, from, to, clock));
  pieces.sort((a, b) => (a.startDate < b.startDate ? -1 : a.startDate > b.startDate ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after = cursor === undefined ? pieces : pieces.filter((p) => p.startDate > cursor[0] || (p.startDate === cursor[0] && p.id > cursor[1]));
  return toConnection(after.slice(0, size + 1), size, pieces.length, (p) => [p.startDate, p.id], (p) => p);
}

/** [startDate, endDate): half-open, so unlike the inclusive event windows it cannot be empty. */
function windowOf(filter: UsageRecordFilter): { from: number; to: number } {
  const from = windowBound(filter, 'startDate')!;
  const to = windowBound(filter, 'endDate')!;
  if (to <= from) throw new InvalidTimeWindowError('endDate', `endDate ${filter.endDate} must be after startDate ${filter.startDate}`);
  return { from, to };
}

function piecesOf(row: Row, from: number, to: number, clock: UsageRecordClock): UsageRecordView[] {
  const open = row.end_ms === null;
  const start = Math.max(row.start_ms, from);
  const end = Math.min(row.end_ms ?? clock.nowMs, to);
  const type = usageRecordTypeOf(row.usage_type);
  return splitAtMidnights(start, end, clock.timeZone).map((piece) => ({
    id: `${row.id}@${new Date(piece.startMs).toISOString()}`,
    type,
    usageType: row.usage_type,
    accountId: row.account_id,
    domainId: row.domain_id,
    zoneId: row.zone_id,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    offeringId: row.offering_id,
    templateId: row.template_id,
    size: row.size,
    resourceType: row.resource_type,
    details: row.details === null ? null : (JSON.parse(row.details) as unknown),
    startDate: new Date(piece.startMs).toISOString(),
    endDate: open && piece.endMs === end ? null : new Date(piece.endMs).toISOString(),
    durationMs: piece.endMs - piece.startMs,
    openedBy: row.opened_by,
    closedBy: row.closed_by,
  }));
}
