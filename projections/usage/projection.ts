// Usage events as billing consumers read them from the log: one row per `usage.*` event, with its
// log position and event id, so a consumer can check this view against the log itself.
import { USAGE_EVENT_PREFIX, usageTypeOf } from '../../domain/instance/index.js';
import type { Projection } from '../projection.js';

export const usageEventsProjection: Projection = {
  name: 'usage_events',
  version: 1,
  filter: { eventTypePrefixes: [USAGE_EVENT_PREFIX] },
  schema: `
    CREATE TABLE usage_events (
      position      INTEGER PRIMARY KEY,
      event_id      TEXT NOT NULL,
      type          TEXT NOT NULL,
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
      occurred_at   TEXT NOT NULL
    );
    CREATE INDEX usage_events_by_account ON usage_events (account_id, position);
    CREATE INDEX usage_events_by_type ON usage_events (type, position);
  `,
  handle(event, db) {
    const d = event.data as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    db.run(
      `INSERT OR IGNORE INTO usage_events (position, event_id, type, account_id, domain_id, zone_id, resource_id, resource_name,
         offering_id, template_id, size, resource_type, details, occurred_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      event.position,
      event.id,
      usageTypeOf(event.type),
      text(d.accountId) ?? '',
      text(d.domainId) ?? '',
      text(d.zoneId) ?? '',
      text(d.resourceId) ?? '',
      text(d.resourceName) ?? '',
      text(d.offeringId),
      text(d.templateId),
      typeof d.size === 'number' ? d.size : null,
      text(d.resourceType),
      d.details === null || d.details === undefined ? null : JSON.stringify(d.details),
      text(d.occurredAt) ?? event.recordedAt,
    );
  },
};
