// Zones and their clusters, from the `zone-<id>` streams (clusters live in their zone's stream).
import { ZONE_STREAM_PREFIX, type ZoneEvent } from '../../../domain/zone/index.js';
import type { Projection } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime } from '../../sql.js';

export const zoneProjection: Projection = {
  name: 'infra_zone',
  version: 1,
  schema: `
    CREATE TABLE infra_zone (
      id               TEXT PRIMARY KEY,
      name             TEXT NOT NULL,
      network_type     TEXT NOT NULL,
      allocation_state TEXT NOT NULL,
      created          TEXT NOT NULL
    );
    CREATE INDEX infra_zone_by_created ON infra_zone (created, id);
    CREATE TABLE infra_zone_cluster (
      id         TEXT PRIMARY KEY,
      zone_id    TEXT NOT NULL,
      name       TEXT NOT NULL,
      hypervisor TEXT NOT NULL,
      created    TEXT NOT NULL
    );
    CREATE INDEX infra_zone_cluster_by_created ON infra_zone_cluster (created, id);
    CREATE INDEX infra_zone_cluster_by_zone ON infra_zone_cluster (zone_id, created, id);
  `,
  filter: { streamNamePrefixes: [ZONE_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<ZoneEvent>(recorded);
    switch (event.type) {
      case 'ZoneCreated': {
        const { zoneId, name, networkType, created } = event.data;
        db.run(
          `INSERT INTO infra_zone (id, name, network_type, allocation_state, created) VALUES (?, ?, ?, 'Enabled', ?)`,
          zoneId,
          name,
          networkType,
          canonicalTime(created),
        );
        return;
      }
      case 'ClusterAdded': {
        const { clusterId, zoneId, name, hypervisor, created } = event.data;
        db.run(
          `INSERT INTO infra_zone_cluster (id, zone_id, name, hypervisor, created) VALUES (?, ?, ?, ?, ?)`,
          clusterId,
          zoneId,
          name,
          hypervisor,
          canonicalTime(created),
        );
        return;
      }
      case 'ZoneDisabled':
        db.run(`UPDATE infra_zone SET allocation_state = 'Disabled' WHERE id = ?`, event.data.zoneId);
        return;
      case 'ZoneEnabled':
        db.run(`UPDATE infra_zone SET allocation_state = 'Enabled' WHERE id = ?`, event.data.zoneId);
        return;
    }
  },
};
