// The instances read model: one row per instance holding the state the domain's own evolve folds,
// plus the columns the list filters use. Re-using evolve means the read model can never disagree
// with the aggregate about what an event does.
import { evolveInstance, type Instance, type InstanceEvent, type InstanceState } from '../../domain/instance/index.js';
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { jobIdOfPending } from '../../domain/job/index.js';
import type { Projection } from '../projection.js';

export const INSTANCE_STREAM_PREFIX = 'instance-';

export const instancesProjection: Projection = {
  name: 'instances',
  version: 1,
  filter: { streamNamePrefixes: [INSTANCE_STREAM_PREFIX] },
  schema: `
    CREATE TABLE instances (
      id            TEXT PRIMARY KEY,
      account_id    TEXT NOT NULL,
      domain_id     TEXT NOT NULL,
      zone_id       TEXT NOT NULL,
      host_id       TEXT,
      state         TEXT NOT NULL,
      name          TEXT NOT NULL,
      display_name  TEXT NOT NULL,
      instance_name TEXT NOT NULL,
      state_since   TEXT NOT NULL,
      pending_job   TEXT,
      leased        INTEGER NOT NULL,
      expunged      INTEGER NOT NULL,
      created       TEXT NOT NULL,
      revision      INTEGER NOT NULL,
      instance      TEXT NOT NULL
    );
    CREATE INDEX instances_by_created ON instances (expunged, created, id);
    CREATE INDEX instances_by_account ON instances (account_id, expunged, created, id);
    CREATE INDEX instances_by_account_state ON instances (account_id, expunged, state, created, id);
    CREATE INDEX instances_by_domain ON instances (domain_id, expunged, created, id);
    CREATE INDEX instances_by_host ON instances (host_id, created, id);
    CREATE INDEX instances_by_state ON instances (state, created, id);
    CREATE INDEX instances_by_instance_name ON instances (instance_name);
    CREATE INDEX instances_pending ON instances (pending_job) WHERE pending_job IS NOT NULL;
  `,
  handle(event, db) {
    // Usage records are consequences, not facts about the instance: its state never depends on them.
    if (event.type.startsWith('usage.')) return;
    const id = instanceIdOf(event.stream);
    const memoKey = `instances|${id}`;
    let row = db.memo.get(memoKey) as { instance: Instance; revision: number } | undefined;
    if (!row) {
      const stored = db.get<{ instance: string; revision: number }>('SELECT instance, revision FROM instances WHERE id = ?', id);
      row = stored && { instance: JSON.parse(stored.instance) as Instance, revision: stored.revision };
    }
    // A replayed event the row already holds changes nothing.
    if (row && row.revision >= event.revision) return;
    const before: InstanceState = row ? row.instance : { exists: false };
    const after = evolveInstance(before, toDomainEvent<InstanceEvent>(event));
    if (!after.exists || after === before) return;
    db.memo.set(memoKey, { instance: after, revision: event.revision });
    db.run(
      `INSERT INTO instances (id, account_id, domain_id, zone_id, host_id, state, name, display_name, instance_name, state_since,
         pending_job, leased, expunged, created, revision, instance)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, domain_id = excluded.domain_id,
         zone_id = excluded.zone_id, host_id = excluded.host_id, state = excluded.state, name = excluded.name,
         display_name = excluded.display_name, instance_name = excluded.instance_name,
         state_since = CASE WHEN instances.state = excluded.state THEN instances.state_since ELSE excluded.state_since END,
         pending_job = excluded.pending_job, leased = excluded.leased, expunged = excluded.expunged,
         revision = excluded.revision, instance = excluded.instance`,
      after.id,
      after.accountId,
      after.domainId,
      after.zoneId,
      after.hostId,
      after.state,
      after.name,
      after.displayName,
      after.instanceName,
      typeof event.metadata.occurredAt === 'string' ? event.metadata.occurredAt : event.recordedAt,
      after.pending ? jobIdOfPending(after.pending, after.id) : null,
      after.leaseDuration === null ? 0 : 1,
      after.expunged ? 1 : 0,
      after.created,
      event.revision,
      JSON.stringify(after),
    );
  },
};

function instanceIdOf(stream: string): string {
  return stream.slice(INSTANCE_STREAM_PREFIX.length);
}
