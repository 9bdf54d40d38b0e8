// Accounts and their users, from the `account-<id>` streams. Users are indexed by API-key hash because
// every authenticated request looks its caller up that way. Instance-name claims are kept with the
// time they were made, so claims whose deployment never happened (a crash between claiming the name
// and recording the instance) can be found and given back.
import { ACCOUNT_STREAM_PREFIX, INSTANCE_NAME_STREAM_PREFIX, type AccountEvent, type EnabledState } from '../../domain/account/index.js';
import type { Projection, ReadModelWriter } from '../projection.js';
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { canonicalTime, occurredAt } from '../sql.js';

export const accountProjection: Projection = {
  name: 'acct_account',
  version: 2,
  schema: `
    CREATE TABLE acct_account (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      role        TEXT NOT NULL,
      domain_id   TEXT NOT NULL,
      domain_path TEXT NOT NULL,
      state       TEXT NOT NULL,
      created     TEXT NOT NULL
    );
    CREATE INDEX acct_account_by_created ON acct_account (created, id);
    CREATE INDEX acct_account_by_domain_path ON acct_account (domain_path, created, id);
    -- User ids are unique only within their account as far as the aggregate guarantees.
    CREATE TABLE acct_account_user (
      account_id   TEXT NOT NULL,
      id           TEXT NOT NULL,
      username     TEXT NOT NULL,
      state        TEXT NOT NULL,
      api_key_hash TEXT NOT NULL,
      created      TEXT NOT NULL,
      PRIMARY KEY (account_id, id)
    ) WITHOUT ROWID;
    CREATE INDEX acct_account_user_by_key ON acct_account_user (api_key_hash);
    CREATE TABLE acct_instance_name (
      account_id  TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      name        TEXT NOT NULL,
      claimed_at  TEXT NOT NULL,
      PRIMARY KEY (account_id, instance_id)
    ) WITHOUT ROWID;
    CREATE INDEX acct_instance_name_by_claim ON acct_instance_name (claimed_at);
  `,
  // Instance names are claimed on streams of their own (older logs: on the account stream).
  filter: { streamNamePrefixes: [ACCOUNT_STREAM_PREFIX, INSTANCE_NAME_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<AccountEvent>(recorded);
    switch (event.type) {
      case 'AccountCreated': {
        const a = event.data;
        db.run(
          `INSERT INTO acct_account (id, name, role, domain_id, domain_path, state, created) VALUES (?, ?, ?, ?, ?, 'enabled', ?)`,
          a.accountId,
          a.name,
          a.role,
          a.domainId,
          a.domainPath,
          canonicalTime(a.created),
        );
        return;
      }
      case 'UserCreated': {
        const u = event.data;
        db.run(
          `INSERT INTO acct_account_user (account_id, id, username, state, api_key_hash, created) VALUES (?, ?, ?, 'enabled', ?, ?)`,
          u.accountId,
          u.userId,
          u.username,
          u.apiKeyHash,
          canonicalTime(u.created),
        );
        return;
      }
      case 'UserApiKeyRotated':
        db.run('UPDATE acct_account_user SET api_key_hash = ? WHERE account_id = ? AND id = ?', event.data.apiKeyHash, event.data.accountId, event.data.userId);
        return;
      case 'UserDisabled':
        return setUserState(db, event.data.accountId, event.data.userId, 'disabled');
      case 'UserEnabled':
        return setUserState(db, event.data.accountId, event.data.userId, 'enabled');
      case 'AccountDisabled':
        return setAccountState(db, event.data.accountId, 'disabled');
      case 'AccountEnabled':
        return setAccountState(db, event.data.accountId, 'enabled');
      case 'InstanceNameReserved':
        db.run(
          `INSERT INTO acct_instance_name (account_id, instance_id, name, claimed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (account_id, instance_id) DO UPDATE SET name = excluded.name`,
          event.data.accountId,
          event.data.instanceId,
          event.data.name,
          occurredAt(recorded),
        );
        return;
      case 'InstanceNameReleased':
        db.run('DELETE FROM acct_instance_name WHERE account_id = ? AND instance_id = ?', event.data.accountId, event.data.instanceId);
        return;
      // Affinity group names are the account stream's to keep unique; the groups' own projection lists them.
      case 'AffinityGroupNameReserved':
      case 'AffinityGroupNameReleased':
        return;
    }
  },
};

function setUserState(db: ReadModelWriter, accountId: string, userId: string, state: EnabledState): void {
  db.run('UPDATE acct_account_user SET state = ? WHERE account_id = ? AND id = ?', state, accountId, userId);
}

function setAccountState(db: ReadModelWriter, accountId: string, state: EnabledState): void {
  db.run('UPDATE acct_account SET state = ? WHERE id = ?', state, accountId);
}
