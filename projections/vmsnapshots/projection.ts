// VM snapshots as vmSnapshots lists them (API.md "Instance snapshots"): what each is and its state
// from its own stream (`vmsnapshot-<id>`), its parent and the `current` flag from its instance's
// chain (the instance stream decides them, domain/vmsnapshot/chain.ts). The instance's events
// arrive in their order, each snapshot's in its own; a row is made by whichever comes first.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import type { InstanceEvent } from '../../domain/instance/index.js';
import type { VMSnapshotEvent } from '../../domain/vmsnapshot/index.js';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import type { Projection, ReadModelWriter } from '../projection.js';

/** The rows' columns the instance's request knows; the snapshot's allocation fills in the rest. */
function upsertRequested(db: ReadModelWriter, event: Extract<InstanceEvent, { type: 'InstanceVMSnapshotRequested' }>, at: string): void {
  const d = event.data;
  db.run(
    `INSERT INTO vm_snapshots (id, instance_id, name, display_name, description, type, state, current, parent_id, created)
     VALUES (?, ?, ?, ?, ?, ?, 'Allocated', 0, ?, ?)
     ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id`,
    d.vmSnapshotId, d.instanceId, d.name, d.displayName, d.description, d.snapshotType, d.parentId, at,
  );
}

/** The domain's time of the event (its metadata), or when the log committed it. */
const occurredAt = (recorded: RecordedEvent): string =>
  typeof recorded.metadata.occurredAt === 'string' ? recorded.metadata.occurredAt : recorded.recordedAt;

function makeCurrent(db: ReadModelWriter, instanceId: string, vmSnapshotId: string | null): void {
  db.run('UPDATE vm_snapshots SET current = CASE WHEN id = ? THEN 1 ELSE 0 END WHERE instance_id = ?', vmSnapshotId, instanceId);
}

function handleInstance(event: InstanceEvent, db: ReadModelWriter, at: string): void {
  switch (event.type) {
    case 'InstanceVMSnapshotRequested':
      upsertRequested(db, event, at);
      return;
    case 'InstanceVMSnapshotCreated':
    case 'InstanceVMSnapshotReverted':
      makeCurrent(db, event.data.instanceId, event.data.vmSnapshotId);
      return;
    case 'InstanceVMSnapshotDeleted': {
      const gone = db.get<{ parent_id: string | null; current: number }>('SELECT parent_id, current FROM vm_snapshots WHERE id = ?', event.data.vmSnapshotId);
      if (!gone) return;
      db.run('UPDATE vm_snapshots SET parent_id = ? WHERE parent_id = ?', gone.parent_id, event.data.vmSnapshotId);
      if (gone.current === 1) makeCurrent(db, event.data.instanceId, gone.parent_id);
      db.run('DELETE FROM vm_snapshots WHERE id = ?', event.data.vmSnapshotId);
      return;
    }
    case 'InstanceDestroyed':
      for (const id of event.data.deletedVmSnapshotIds) db.run('DELETE FROM vm_snapshots WHERE id = ?', id);
      return;
    default:
      return;
  }
}

function handleSnapshot(event: VMSnapshotEvent, db: ReadModelWriter): void {
  switch (event.type) {
    case 'VMSnapshotAllocated': {
      const d = event.data;
      db.run(
        `INSERT INTO vm_snapshots (id, instance_id, account_id, domain_id, name, display_name, description, type, state, current, parent_id, service_offering_id, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, domain_id = excluded.domain_id,
           service_offering_id = excluded.service_offering_id, state = excluded.state`,
        d.vmSnapshotId, d.instanceId, d.accountId, d.domainId, d.name, d.displayName, d.description, d.type, d.status, d.parentId, d.serviceOffering.id, d.created,
      );
      return;
    }
    case 'VMSnapshotTaskStarted':
    case 'VMSnapshotTaskFailed':
      db.run('UPDATE vm_snapshots SET state = ? WHERE id = ?', event.data.status, event.data.vmSnapshotId);
      return;
    case 'VMSnapshotTaskSucceeded':
      // A Removed one stays until its instance's chain lets it go (its children are re-parented then).
      db.run('UPDATE vm_snapshots SET state = ?, size = COALESCE(?, size) WHERE id = ?', event.data.status, event.data.sizeBytes, event.data.vmSnapshotId);
      return;
  }
}

export const vmSnapshotsProjection: Projection = {
  name: 'vm-snapshots',
  version: 1,
  schema: `
    CREATE TABLE vm_snapshots (
      id                  TEXT PRIMARY KEY,
      instance_id         TEXT NOT NULL,
      account_id          TEXT,
      domain_id           TEXT,
      name                TEXT NOT NULL,
      display_name        TEXT NOT NULL,
      description         TEXT,
      type                TEXT NOT NULL,
      state               TEXT NOT NULL,
      current             INTEGER NOT NULL,
      parent_id           TEXT,
      service_offering_id TEXT,
      size                INTEGER,
      created             TEXT NOT NULL
    );
    CREATE INDEX vm_snapshots_by_instance ON vm_snapshots (instance_id, created, id);
  `,
  filter: { eventTypePrefixes: ['VMSnapshot', 'InstanceVMSnapshot', 'InstanceDestroyed'] },
  handle(recorded, db) {
    if (recorded.type.startsWith('VMSnapshot')) handleSnapshot(toDomainEvent<VMSnapshotEvent>(recorded), db);
    else handleInstance(toDomainEvent<InstanceEvent>(recorded), db, occurredAt(recorded));
  },
};
