// Hosts with their capacity, from the `host-<id>` streams. Every reservation is a row, and the host's
// used CPU/memory move by the difference between a reservation's row before and after each change
// (a resize replaces one instance's reservation), so the totals stay the sums of the rows. They were
// summed again from every row of the host on each change: a host carrying thousands of instances made
// each start and stop cost thousands of rows.
import { HOST_STREAM_PREFIX, type HostEvent, type HostResourceState } from '../../../domain/host/index.js';
import type { Projection, ReadModelWriter } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime } from '../../sql.js';

export const hostProjection: Projection = {
  name: 'infra_host',
  version: 2,
  schema: `
    CREATE TABLE infra_host (
      id                TEXT PRIMARY KEY,
      name              TEXT NOT NULL,
      zone_id           TEXT NOT NULL,
      cluster_id        TEXT NOT NULL,
      hypervisor        TEXT NOT NULL,
      driver            TEXT NOT NULL,
      cpu_number        INTEGER NOT NULL,
      cpu_speed         INTEGER NOT NULL,
      memory            INTEGER NOT NULL,
      host_tags         TEXT NOT NULL,
      url               TEXT,
      username          TEXT,
      simulator         TEXT,
      status            TEXT NOT NULL,
      resource_state    TEXT NOT NULL,
      used_cpu          INTEGER NOT NULL DEFAULT 0,
      used_memory       INTEGER NOT NULL DEFAULT 0,
      reservation_count INTEGER NOT NULL DEFAULT 0,
      capabilities      TEXT NOT NULL DEFAULT '[]',
      removed           INTEGER NOT NULL DEFAULT 0,
      created           TEXT NOT NULL
    );
    CREATE INDEX infra_host_by_created ON infra_host (removed, created, id);
    CREATE INDEX infra_host_by_zone ON infra_host (zone_id, removed, created, id);
    CREATE INDEX infra_host_by_cluster ON infra_host (cluster_id, removed, created, id);
    CREATE TABLE infra_host_reservation (
      host_id     TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      cpu_number  INTEGER NOT NULL,
      cpu_speed   INTEGER NOT NULL,
      memory      INTEGER NOT NULL,
      PRIMARY KEY (host_id, instance_id)
    ) WITHOUT ROWID;
    CREATE INDEX infra_host_reservation_by_instance ON infra_host_reservation (instance_id);
  `,
  filter: { streamNamePrefixes: [HOST_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<HostEvent>(recorded);
    switch (event.type) {
      case 'HostAdded': {
        const h = event.data;
        db.run(
          `INSERT INTO infra_host (id, name, zone_id, cluster_id, hypervisor, driver, cpu_number, cpu_speed, memory, host_tags,
             url, username, simulator, status, resource_state, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Up', 'Enabled', ?)`,
          h.hostId,
          h.name,
          h.zoneId,
          h.clusterId,
          h.hypervisor,
          h.driver,
          h.cpuNumber,
          h.cpuSpeed,
          h.memory,
          JSON.stringify(h.hostTags),
          h.url,
          h.username,
          h.simulator === null ? null : JSON.stringify(h.simulator),
          canonicalTime(h.created),
        );
        return;
      }
      case 'HostCapacityReserved': {
        const r = event.data;
        const held = reservation(db, r.hostId, r.instanceId);
        db.run(
          `INSERT INTO infra_host_reservation (host_id, instance_id, cpu_number, cpu_speed, memory) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (host_id, instance_id) DO UPDATE SET
             cpu_number = excluded.cpu_number, cpu_speed = excluded.cpu_speed, memory = excluded.memory`,
          r.hostId,
          r.instanceId,
          r.cpuNumber,
          r.cpuSpeed,
          r.memory,
        );
        addUsage(db, r.hostId, r.cpuNumber * r.cpuSpeed - (held?.cpu ?? 0), r.memory - (held?.memory ?? 0), held ? 0 : 1);
        return;
      }
      case 'HostCapacityReleased': {
        const held = reservation(db, event.data.hostId, event.data.instanceId);
        if (!held) return;
        db.run('DELETE FROM infra_host_reservation WHERE host_id = ? AND instance_id = ?', event.data.hostId, event.data.instanceId);
        addUsage(db, event.data.hostId, -held.cpu, -held.memory, -1);
        return;
      }
      case 'HostStatusChanged':
        db.run('UPDATE infra_host SET status = ? WHERE id = ?', event.data.to, event.data.hostId);
        return;
      case 'HostDisabled':
        return setResourceState(db, event.data.hostId, 'Disabled');
      case 'HostEnabled':
      case 'HostMaintenanceCancelled':
        return setResourceState(db, event.data.hostId, 'Enabled');
      case 'HostMaintenancePrepared':
        return setResourceState(db, event.data.hostId, 'PrepareForMaintenance');
      case 'HostEnteredMaintenance':
        return setResourceState(db, event.data.hostId, 'Maintenance');
      case 'HostTagsUpdated':
        db.run('UPDATE infra_host SET host_tags = ? WHERE id = ?', JSON.stringify(event.data.hostTags), event.data.hostId);
        return;
      case 'HostCapabilitiesReported':
        db.run('UPDATE infra_host SET capabilities = ? WHERE id = ?', JSON.stringify(event.data.capabilities), event.data.hostId);
        return;
      case 'HostRemoved':
        db.run('UPDATE infra_host SET removed = 1 WHERE id = ?', event.data.hostId);
        return;
    }
  },
};

function setResourceState(db: ReadModelWriter, hostId: string, state: HostResourceState): void {
  db.run('UPDATE infra_host SET resource_state = ? WHERE id = ?', state, hostId);
}

function reservation(db: ReadModelWriter, hostId: string, instanceId: string): { cpu: number; memory: number } | undefined {
  return db.get<{ cpu: number; memory: number }>(
    'SELECT cpu_number * cpu_speed AS cpu, memory FROM infra_host_reservation WHERE host_id = ? AND instance_id = ?',
    hostId,
    instanceId,
  );
}

function addUsage(db: ReadModelWriter, hostId: string, cpu: number, memory: number, count: number): void {
  db.run('UPDATE infra_host SET used_cpu = used_cpu + ?, used_memory = used_memory + ?, reservation_count = reservation_count + ? WHERE id = ?', cpu, memory, count, hostId);
}
