// Primary storage pools, from the `storagepool-<id>` streams. Like hosts, allocated bytes are the sum of
// the per-volume reservation rows, recomputed on each change so a re-reservation replaces, never adds.
import { STORAGE_POOL_STREAM_PREFIX, type StoragePoolEvent } from '../../../domain/storage/index.js';
import type { Projection, ReadModelWriter } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime } from '../../sql.js';

export const storagePoolProjection: Projection = {
  name: 'infra_storage_pool',
  version: 2,
  schema: `
    CREATE TABLE infra_storage_pool (
      id              TEXT PRIMARY KEY,
      name            TEXT NOT NULL,
      zone_id         TEXT NOT NULL,
      scope           TEXT NOT NULL,
      cluster_id      TEXT,
      host_id         TEXT,
      type            TEXT NOT NULL,
      server          TEXT,
      path            TEXT NOT NULL,
      capacity_bytes  INTEGER NOT NULL,
      allocated_bytes INTEGER NOT NULL DEFAULT 0,
      tags            TEXT NOT NULL,
      created         TEXT NOT NULL
    );
    CREATE INDEX infra_storage_pool_by_created ON infra_storage_pool (created, id);
    CREATE INDEX infra_storage_pool_by_zone ON infra_storage_pool (zone_id, created, id);
    CREATE INDEX infra_storage_pool_by_cluster ON infra_storage_pool (cluster_id, created, id);
    CREATE TABLE infra_storage_pool_reservation (
      pool_id   TEXT NOT NULL,
      volume_id TEXT NOT NULL,
      bytes     INTEGER NOT NULL,
      PRIMARY KEY (pool_id, volume_id)
    ) WITHOUT ROWID;
    CREATE INDEX infra_storage_pool_reservation_by_volume ON infra_storage_pool_reservation (volume_id);
  `,
  filter: { streamNamePrefixes: [STORAGE_POOL_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<StoragePoolEvent>(recorded);
    switch (event.type) {
      case 'StoragePoolCreated': {
        const p = event.data;
        db.run(
          `INSERT INTO infra_storage_pool (id, name, zone_id, scope, cluster_id, host_id, type, server, path, capacity_bytes, tags, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          p.poolId,
          p.name,
          p.zoneId,
          p.scope,
          p.clusterId,
          p.hostId,
          p.type,
          p.server,
          p.path,
          p.capacityBytes,
          JSON.stringify(p.tags),
          canonicalTime(p.created),
        );
        return;
      }
      case 'StoragePoolSpaceReserved':
        db.run(
          `INSERT INTO infra_storage_pool_reservation (pool_id, volume_id, bytes) VALUES (?, ?, ?)
           ON CONFLICT (pool_id, volume_id) DO UPDATE SET bytes = excluded.bytes`,
          event.data.poolId,
          event.data.volumeId,
          event.data.bytes,
        );
        return recomputeAllocated(db, event.data.poolId);
      case 'StoragePoolSpaceReleased':
        db.run('DELETE FROM infra_storage_pool_reservation WHERE pool_id = ? AND volume_id = ?', event.data.poolId, event.data.volumeId);
        return recomputeAllocated(db, event.data.poolId);
    }
  },
};

function recomputeAllocated(db: ReadModelWriter, poolId: string): void {
  db.run(
    `UPDATE infra_storage_pool
     SET allocated_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM infra_storage_pool_reservation WHERE pool_id = ?)
     WHERE id = ?`,
    poolId,
    poolId,
  );
}
