// Explicitly set configuration values, from `config-global` and `config-zone-<id>`. Only overrides are
// stored; defaults stay in the domain's registry so a changed default needs no rebuild.
import { CONFIG_STREAM_PREFIX, type ConfigEvent } from '../../domain/config/index.js';
import type { Projection } from '../projection.js';
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';

/** `scope` of a global value. Zone values use the zone id; a NULL could not be part of the primary key. */
export const GLOBAL_SCOPE = '';

export const configurationProjection: Projection = {
  name: 'config_value',
  version: 1,
  schema: `
    CREATE TABLE config_value (
      scope TEXT NOT NULL,
      name  TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (scope, name)
    ) WITHOUT ROWID;
  `,
  filter: { streamNamePrefixes: [CONFIG_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<ConfigEvent>(recorded);
    switch (event.type) {
      case 'ConfigurationUpdated':
        db.run(
          `INSERT INTO config_value (scope, name, value) VALUES (?, ?, ?)
           ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value`,
          event.data.zoneId ?? GLOBAL_SCOPE,
          event.data.name,
          event.data.value,
        );
        return;
      case 'ConfigurationReset':
        db.run('DELETE FROM config_value WHERE scope = ? AND name = ?', event.data.zoneId ?? GLOBAL_SCOPE, event.data.name);
        return;
    }
  },
};
