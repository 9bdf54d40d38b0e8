import type { Database } from 'better-sqlite3';
import { byPosition, listPage, where } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { occurredBetween } from '../time-range.js';
import { visibleTo, type Visibility } from '../visibility.js';

export interface EventView {
  readonly id: string;
  readonly type: string;
  readonly state: string;
  readonly level: string;
  readonly resourceId: string;
  readonly resourceType: string;
  readonly accountId: string;
  readonly domainId: string;
  readonly description: string;
  readonly actor: unknown;
  readonly occurredAt: string;
  readonly position: number;
}

export interface EventFilter {
  readonly resourceId?: string | null;
  readonly type?: string | null;
  /** Inclusive, ISO-8601. */
  readonly startDate?: string | null;
  /** Inclusive, ISO-8601. */
  readonly endDate?: string | null;
}

interface EventRow {
  position: number;
  event_id: string;
  type: string;
  state: string;
  level: string;
  resource_id: string;
  resource_type: string;
  account_id: string;
  domain_id: string;
  description: string;
  actor: string;
  occurred_at: string;
}

/** The audit trail, oldest first. */
export function listEvents(db: Database, visibility: Visibility, filter: EventFilter, page: PageRequest): Connection<EventView> {
  const conditions = [
    visibleTo(visibility),
    filter.resourceId ? where('resource_id = ?', filter.resourceId) : undefined,
    filter.type ? where('type = ?', filter.type) : undefined,
    ...occurredBetween(filter),
  ];
  return listPage(db, byPosition<EventRow>('events', conditions), page, (row) => ({
    id: row.event_id,
    type: row.type,
    state: row.state,
    level: row.level,
    resourceId: row.resource_id,
    resourceType: row.resource_type,
    accountId: row.account_id,
    domainId: row.domain_id,
    description: row.description,
    actor: JSON.parse(row.actor) as unknown,
    occurredAt: row.occurred_at,
    position: row.position,
  }));
}
