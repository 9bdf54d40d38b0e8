// Registered templates, from the `template-<id>` streams.
import { TEMPLATE_STREAM_PREFIX, type TemplateEvent } from '../../../domain/template/index.js';
import type { Projection } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime, flag } from '../../sql.js';

export const templateProjection: Projection = {
  name: 'infra_template',
  version: 1,
  schema: `
    CREATE TABLE infra_template (
      id                      TEXT PRIMARY KEY,
      name                    TEXT NOT NULL,
      display_text            TEXT NOT NULL,
      os_type_name            TEXT NOT NULL,
      url                     TEXT NOT NULL,
      format                  TEXT NOT NULL,
      hypervisor              TEXT NOT NULL,
      size                    INTEGER NOT NULL,
      is_dynamically_scalable INTEGER NOT NULL,
      zone_id                 TEXT,
      account_id              TEXT,
      is_public               INTEGER NOT NULL,
      deleted                 INTEGER NOT NULL DEFAULT 0,
      created                 TEXT NOT NULL
    );
    CREATE INDEX infra_template_by_created ON infra_template (deleted, created, id);
  `,
  filter: { streamNamePrefixes: [TEMPLATE_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<TemplateEvent>(recorded);
    switch (event.type) {
      case 'TemplateRegistered': {
        const t = event.data;
        db.run(
          `INSERT INTO infra_template (id, name, display_text, os_type_name, url, format, hypervisor, size,
             is_dynamically_scalable, zone_id, account_id, is_public, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          t.templateId,
          t.name,
          t.displayText,
          t.osTypeName,
          t.url,
          t.format,
          t.hypervisor,
          t.size,
          flag(t.isDynamicallyScalable),
          t.zoneId,
          t.accountId,
          flag(t.isPublic),
          canonicalTime(t.created),
        );
        return;
      }
      case 'TemplateDeleted':
        db.run('UPDATE infra_template SET deleted = 1 WHERE id = ?', event.data.templateId);
        return;
    }
  },
};
