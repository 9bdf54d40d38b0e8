import type { Database } from 'better-sqlite3';
import type { Caller, EnabledState, Role } from '../../domain/account/index.js';
import { prepared } from '../sql.js';

/** Who an API key belongs to. Disabled users and accounts are returned as such: refusing them is the API's call. */
export interface ApiKeyOwner extends Caller {
  readonly accountState: EnabledState;
  readonly userState: EnabledState;
}

interface CallerRow {
  user_id: string;
  account_id: string;
  role: Role;
  domain_id: string;
  domain_path: string;
  account_state: EnabledState;
  user_state: EnabledState;
}

/**
 * The caller whose API key hashes to `apiKeyHash` (see the domain's `hashApiKey`). Nothing makes hashes
 * unique across accounts, so a hash shared by two users identifies no one and authenticates no one.
 */
export function findCallerByApiKeyHash(db: Database, apiKeyHash: string): ApiKeyOwner | undefined {
  const rows = prepared(
    db,
    `SELECT u.id AS user_id, a.id AS account_id, a.role, a.domain_id, a.domain_path, a.state AS account_state, u.state AS user_state
     FROM acct_account_user u JOIN acct_account a ON a.id = u.account_id
     WHERE u.api_key_hash = ? LIMIT 2`,
  ).all(apiKeyHash) as CallerRow[];
  const row = rows.length === 1 ? rows[0] : undefined;
  if (!row) return undefined;
  return {
    userId: row.user_id,
    accountId: row.account_id,
    role: row.role,
    domainId: row.domain_id,
    domainPath: row.domain_path,
    accountState: row.account_state,
    userState: row.user_state,
  };
}
