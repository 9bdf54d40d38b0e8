// The domain tree, from the `domain-<id>` streams. Name claims (child domains, account names) are the
// aggregate's concurrency guard and are not shown; the accounts come from their own streams.
import { DOMAIN_STREAM_PREFIX, type DomainEventType } from '../../domain/account/index.js';
import type { Projection } from '../projection.js';
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { canonicalTime } from '../sql.js';

export const domainProjection: Projection = {
  name: 'acct_domain',
  version: 1,
  schema: `
    CREATE TABLE acct_domain (
      id        TEXT PRIMARY KEY,
      name      TEXT NOT NULL,
      parent_id TEXT,
      path      TEXT NOT NULL,
      created   TEXT NOT NULL
    );
    CREATE INDEX acct_domain_by_created ON acct_domain (created, id);
    CREATE INDEX acct_domain_by_path ON acct_domain (path);
  `,
  filter: { streamNamePrefixes: [DOMAIN_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<DomainEventType>(recorded);
    if (event.type !== 'DomainCreated') return;
    const d = event.data;
    db.run(
      'INSERT INTO acct_domain (id, name, parent_id, path, created) VALUES (?, ?, ?, ?, ?)',
      d.domainId,
      d.name,
      d.parentId,
      d.path,
      canonicalTime(d.created),
    );
  },
};
