// The instances read model: one row per instance holding the state the domain's own evolve folds,
// plus the columns the list filters use. Re-using evolve means the read model can never disagree
// with the aggregate about what an event does.
import { INSTANCE_STREAM_PREFIX, evolveInstance, isUsageEventType, type Instance, type InstanceEvent, type InstanceState } from '../../domain/instance/index.js';
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { jobIdOfPending } from '../../domain/job/index.js';
import type { Projection } from '../projection.js';


export const instancesProjection: Projection = {
  name: 'instances',
  // 2: `leased` means a PENDING lease (a disabled, cancelled or acted-on one is no longer listed as leased).
  // 3: the keyword index (instances_keyword); the account-and-state index covers the domain too.
  // 4: instance_counts, the lists' totals kept by triggers.
  version: 4,
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
    -- A list filtered by account and state (the console's, the API's) counts its rows from this
    -- index alone, whoever asks: an admin's visibility is by domain, so the domain is in it too.
    CREATE INDEX instances_by_account_state ON instances (account_id, expunged, state, created, id, domain_id);
    CREATE INDEX instances_by_domain ON instances (domain_id, expunged, created, id);
    CREATE INDEX instances_by_host ON instances (host_id, created, id);
    CREATE INDEX instances_by_state ON instances (state, created, id);
    CREATE INDEX instances_by_instance_name ON instances (instance_name);
    CREATE INDEX instances_pending ON instances (pending_job) WHERE pending_job IS NOT NULL;
    -- The keyword search (virtualMachines(keyword)): a trigram index of the names, so a substring is
    -- found through the index, not by reading every row (queries.ts). Kept in step by triggers, keyed
    -- by the instances' rowid (stable: the read model is never VACUUMed; a rebuild renumbers both).
    CREATE VIRTUAL TABLE instances_keyword USING fts5(name, display_name, tokenize = 'trigram');
    CREATE TRIGGER instances_keyword_insert AFTER INSERT ON instances BEGIN
      INSERT INTO instances_keyword (rowid, name, display_name) VALUES (new.rowid, new.name, new.display_name);
    END;
    CREATE TRIGGER instances_keyword_update AFTER UPDATE OF name, display_name ON instances BEGIN
      UPDATE instances_keyword SET name = new.name, display_name = new.display_name WHERE rowid = new.rowid;
    END;
    CREATE TRIGGER instances_keyword_delete AFTER DELETE ON instances BEGIN
      DELETE FROM instances_keyword WHERE rowid = old.rowid;
    END;
    -- The lists' totalCount without counting rows: how many listed (not expunged) instances are in
    -- each state, for everything ('*'), each account ('a:<id>'), domain ('d:<id>') and zone
    -- ('z:<id>'), kept by triggers so no write can forget them (queries.ts reads them). Counting
    -- the rows cost 6 ms at 100,000 instances and grows with them.
    CREATE TABLE instance_counts (
      scope TEXT    NOT NULL,
      state TEXT    NOT NULL,
      n     INTEGER NOT NULL,
      PRIMARY KEY (scope, state)
    ) WITHOUT ROWID;
    CREATE TRIGGER instance_counts_insert AFTER INSERT ON instances WHEN new.expunged = 0 BEGIN
      INSERT INTO instance_counts (scope, state, n)
        VALUES ('*', new.state, 1), ('a:' || new.account_id, new.state, 1), ('d:' || new.domain_id, new.state, 1), ('z:' || new.zone_id, new.state, 1)
        ON CONFLICT (scope, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER instance_counts_update AFTER UPDATE OF state, expunged, account_id, domain_id, zone_id ON instances BEGIN
      UPDATE instance_counts SET n = n - 1
        WHERE old.expunged = 0 AND state = old.state AND scope IN ('*', 'a:' || old.account_id, 'd:' || old.domain_id, 'z:' || old.zone_id);
      INSERT INTO instance_counts (scope, state, n)
        SELECT scope, new.state, 1 FROM (SELECT '*' AS scope UNION ALL SELECT 'a:' || new.account_id UNION ALL SELECT 'd:' || new.domain_id UNION ALL SELECT 'z:' || new.zone_id)
        WHERE new.expunged = 0
        ON CONFLICT (scope, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER instance_counts_delete AFTER DELETE ON instances WHEN old.expunged = 0 BEGIN
      UPDATE instance_counts SET n = n - 1
        WHERE state = old.state AND scope IN ('*', 'a:' || old.account_id, 'd:' || old.domain_id, 'z:' || old.zone_id);
    END;
  `,
  handle(event, db) {
    // Usage records are consequences, not facts about the instance: its state never depends on them.
    if (isUsageEventType(event.type)) return;
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
    const at = typeof event.metadata.occurredAt === 'string' ? event.metadata.occurredAt : event.recordedAt;
    const columns = rowColumns(after);
    if (!row) {
      db.run(
        `INSERT INTO instances (id, account_id, domain_id, zone_id, created, state_since, revision, instance, ${MUTABLE_COLUMNS.join(', ')})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${MUTABLE_COLUMNS.map(() => '?').join(', ')})`,
        after.id,
        after.accountId,
        after.domainId,
        after.zoneId,
        after.created,
        at,
        event.revision,
        JSON.stringify(after),
        ...MUTABLE_COLUMNS.map((column) => columns[column]),
      );
      return;
    }
    // Only the columns that changed: SQLite rewrites every index holding a column an UPDATE sets,
    // and most events change the state and little else.
    const previous = rowColumns(row.instance);
    const changed = MUTABLE_COLUMNS.filter((column) => columns[column] !== previous[column]);
    const sets = changed.map((column) => `${column} = ?`);
    if (changed.includes('state')) sets.push('state_since = ?');
    db.run(
      `UPDATE instances SET ${[...sets, 'revision = ?', 'instance = ?'].join(', ')} WHERE id = ?`,
      ...changed.map((column) => columns[column]),
      ...(changed.includes('state') ? [at] : []),
      event.revision,
      JSON.stringify(after),
      after.id,
    );
  },
};

/** The row's columns that events change; the others are fixed when the instance is deployed. */
const MUTABLE_COLUMNS = ['host_id', 'state', 'name', 'display_name', 'instance_name', 'pending_job', 'leased', 'expunged'] as const;
type MutableColumn = (typeof MUTABLE_COLUMNS)[number];

function rowColumns(instance: Instance): Record<MutableColumn, string | number | null> {
  return {
    host_id: instance.hostId,
    state: instance.state,
    name: instance.name,
    display_name: instance.displayName,
    instance_name: instance.instanceName,
    pending_job: instance.pending ? jobIdOfPending(instance.pending, instance.id) : null,
    leased: instance.leaseExecution === 'PENDING' ? 1 : 0,
    expunged: instance.expunged ? 1 : 0,
  };
}

function instanceIdOf(stream: string): string {
  return stream.slice(INSTANCE_STREAM_PREFIX.length);
}
