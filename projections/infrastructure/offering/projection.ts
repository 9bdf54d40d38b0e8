// Service and disk offerings, from the `offering-<id>` streams. The compute spec is flattened into
// columns (null where a kind has no such field) because that is how the API shows it.
import { OFFERING_STREAM_PREFIX, type ComputeSpec, type OfferingEvent } from '../../../domain/offering/index.js';
import type { Projection } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime, flag } from '../../sql.js';

export const offeringProjection: Projection = {
  name: 'infra_offering',
  version: 2,
  schema: `
    CREATE TABLE infra_offering_service (
      id                      TEXT PRIMARY KEY,
      name                    TEXT NOT NULL,
      display_text            TEXT NOT NULL,
      compute_kind            TEXT NOT NULL,
      cpu_number              INTEGER,
      cpu_speed               INTEGER,
      memory                  INTEGER,
      min_cpu_number          INTEGER,
      max_cpu_number          INTEGER,
      min_memory              INTEGER,
      max_memory              INTEGER,
      host_tags               TEXT NOT NULL,
      storage_tags            TEXT NOT NULL,
      is_volatile             INTEGER NOT NULL,
      dynamic_scaling_enabled INTEGER NOT NULL,
      offer_ha                INTEGER NOT NULL,
      lease_duration          INTEGER,
      lease_expiry_action     TEXT,
      deleted                 INTEGER NOT NULL DEFAULT 0,
      created                 TEXT NOT NULL
    );
    CREATE INDEX infra_offering_service_by_created ON infra_offering_service (deleted, created, id);
    CREATE TABLE infra_offering_disk (
      id           TEXT PRIMARY KEY,
      name         TEXT NOT NULL,
      display_text TEXT NOT NULL,
      disk_size    INTEGER,
      storage_tags TEXT NOT NULL,
      deleted      INTEGER NOT NULL DEFAULT 0,
      created      TEXT NOT NULL
    );
    CREATE INDEX infra_offering_disk_by_created ON infra_offering_disk (deleted, created, id);
  `,
  filter: { streamNamePrefixes: [OFFERING_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<OfferingEvent>(recorded);
    switch (event.type) {
      case 'ServiceOfferingCreated': {
        const o = event.data;
        const c = computeColumns(o.compute);
        db.run(
          `INSERT INTO infra_offering_service (id, name, display_text, compute_kind, cpu_number, cpu_speed, memory,
             min_cpu_number, max_cpu_number, min_memory, max_memory, host_tags, storage_tags, is_volatile, dynamic_scaling_enabled, offer_ha,
             lease_duration, lease_expiry_action, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          o.offeringId,
          o.name,
          o.displayText,
          o.compute.kind,
          c.cpuNumber,
          c.cpuSpeed,
          c.memory,
          c.minCpuNumber,
          c.maxCpuNumber,
          c.minMemory,
          c.maxMemory,
          JSON.stringify(o.hostTags),
          JSON.stringify(o.storageTags ?? []),
          flag(o.isVolatile ?? false),
          flag(o.dynamicScalingEnabled),
          flag(o.offerHa),
          o.leaseDuration,
          o.leaseExpiryAction,
          canonicalTime(o.created),
        );
        return;
      }
      case 'DiskOfferingCreated': {
        const o = event.data;
        db.run(
          `INSERT INTO infra_offering_disk (id, name, display_text, disk_size, storage_tags, created) VALUES (?, ?, ?, ?, ?, ?)`,
          o.offeringId,
          o.name,
          o.displayText,
          o.diskSize,
          JSON.stringify(o.storageTags),
          canonicalTime(o.created),
        );
        return;
      }
      case 'OfferingDeleted': {
        const table = event.data.offeringKind === 'service' ? 'infra_offering_service' : 'infra_offering_disk';
        db.run(`UPDATE ${table} SET deleted = 1 WHERE id = ?`, event.data.offeringId);
        return;
      }
    }
  },
};

interface ComputeColumns {
  readonly cpuNumber: number | null;
  readonly cpuSpeed: number | null;
  readonly memory: number | null;
  readonly minCpuNumber: number | null;
  readonly maxCpuNumber: number | null;
  readonly minMemory: number | null;
  readonly maxMemory: number | null;
}

const NO_COMPUTE: ComputeColumns = {
  cpuNumber: null,
  cpuSpeed: null,
  memory: null,
  minCpuNumber: null,
  maxCpuNumber: null,
  minMemory: null,
  maxMemory: null,
};

function computeColumns(compute: ComputeSpec): ComputeColumns {
  switch (compute.kind) {
    case 'fixed':
      return { ...NO_COMPUTE, cpuNumber: compute.cpuNumber, cpuSpeed: compute.cpuSpeed, memory: compute.memory };
    case 'customConstrained':
      return {
        ...NO_COMPUTE,
        cpuSpeed: compute.cpuSpeed,
        minCpuNumber: compute.minCpuNumber,
        maxCpuNumber: compute.maxCpuNumber,
        minMemory: compute.minMemory,
        maxMemory: compute.maxMemory,
      };
    case 'customUnconstrained':
      return { ...NO_COMPUTE, cpuSpeed: compute.cpuSpeed };
  }
}
