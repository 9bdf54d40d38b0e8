import type { Database } from 'better-sqlite3';
import { usageTypeOf, type UsageSubject } from '../../domain/instance/index.js';
import { byPosition, listPage, where } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { occurredBetween } from '../time-range.js';
import { visibleTo, type Visibility } from '../visibility.js';

export interface UsageEventView extends UsageSubject {
  /** Without the `usage.` prefix, e.g. VM.START. */
  readonly type: string;
  readonly occurredAt: string;
  readonly position: number;
  readonly eventId: string;
}

export interface UsageEventFilter {
  readonly accountId?: string | null;
  readonly type?: string | null;
  readonly startDate?: string | null;
  readonly endDate?: string | null;
}

interface UsageRow {
  position: number;
  event_id: string;
  type: string;
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
  occurred_at: string;
}

/** Usage events in log order, as consumers read them from the log. */
export function listUsageEvents(db: Database, visibility: Visibility, filter: UsageEventFilter, page: PageRequest): Connection<UsageEventView> {
  // Asked with or without the prefix: `usage.VM.START` is VM.START.
  const type = filter.type == null ? filter.type : usageTypeOf(filter.type);
  const conditions = [
    visibleTo(visibility),
    filter.accountId ? where('account_id = ?', filter.accountId) : undefined,
    type ? where('type = ?', type) : undefined,
    ...occurredBetween(filter),
  ];
  return listPage(db, byPosition<UsageRow>('usage_events', conditions), page, (row) => ({
    type: row.type,
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
    occurredAt: row.occurred_at,
    position: row.position,
    eventId: row.event_id,
  }));
}
