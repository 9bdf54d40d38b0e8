import type { Database } from 'better-sqlite3';
import type { EnabledState, Role } from '../../domain/account/index.js';
import type { Connection, PageRequest } from '../pagination.js';
import { byCreated, listPage, where } from '../listing.js';
import { prepared } from '../sql.js';

export interface DomainTreeNode {
  readonly id: string;
  readonly name: string;
  /** `/` for ROOT, `/child/grandchild/` below it. */
  readonly path: string;
  readonly parentId: string | null;
  readonly created: string;
}

/** An account; its API keys are never readable, only their hashes are kept. */
export interface AccountNode {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly domainId: string;
  readonly domainPath: string;
  readonly state: EnabledState;
  readonly created: string;
}

export interface UserNode {
  readonly id: string;
  readonly accountId: string;
  readonly username: string;
  readonly state: EnabledState;
  readonly created: string;
}

interface DomainRow {
  id: string;
  name: string;
  parent_id: string | null;
  path: string;
  created: string;
}

interface AccountRow {
  id: string;
  name: string;
  role: Role;
  domain_id: string;
  domain_path: string;
  state: EnabledState;
  created: string;
}

interface UserRow {
  account_id: string;
  id: string;
  username: string;
  state: EnabledState;
  created: string;
}

const domainNode = (row: DomainRow): DomainTreeNode => ({ id: row.id, name: row.name, path: row.path, parentId: row.parent_id, created: row.created });

const accountNode = (row: AccountRow): AccountNode => ({
  id: row.id,
  name: row.name,
  role: row.role,
  domainId: row.domain_id,
  domainPath: row.domain_path,
  state: row.state,
  created: row.created,
});

// The domain's isInDomainSubtree is `path.startsWith(ancestor)`; this is the same test in SQL.
const inSubtree = (column: string, ancestorPath: string) => where(`substr(${column}, 1, length(?)) = ?`, ancestorPath, ancestorPath);

export interface ListDomainsArgs extends PageRequest {
  /** Only this domain and the domains below it. */
  readonly path?: string | null;
}

export function listDomains(db: Database, args: ListDomainsArgs = {}): Connection<DomainTreeNode> {
  return listPage(db, byCreated<DomainRow>('acct_domain', [args.path != null ? inSubtree('path', args.path) : undefined]), args, domainNode);
}

/** The ids of the domain at this path and of every domain below it: a domain admin's reach. */
export function domainSubtreeIds(db: Database, path: string): string[] {
  const rows = prepared(db, 'SELECT id FROM acct_domain WHERE substr(path, 1, length(?)) = ?').all(path, path) as Array<{ id: string }>;
  return rows.map((row) => row.id);
}

export function getDomain(db: Database, id: string): DomainTreeNode | undefined {
  const row = prepared(db, 'SELECT * FROM acct_domain WHERE id = ?').get(id) as DomainRow | undefined;
  return row && domainNode(row);
}

export interface ListAccountsArgs extends PageRequest {
  readonly ids?: readonly string[] | null;
  /** Only accounts in this domain's subtree (a domain admin's reach). */
  readonly domainPath?: string | null;
}

export function listAccounts(db: Database, args: ListAccountsArgs = {}): Connection<AccountNode> {
  const conditions = [
    // One JSON parameter instead of a placeholder per id keeps the statement cacheable.
    args.ids != null ? where('id IN (SELECT value FROM json_each(?))', JSON.stringify(args.ids)) : undefined,
    args.domainPath != null ? inSubtree('domain_path', args.domainPath) : undefined,
  ];
  return listPage(db, byCreated<AccountRow>('acct_account', conditions), args, accountNode);
}

/** The oldest account of this name in the domain: how an admin names the account it deploys for. */
export function findAccountByName(db: Database, name: string, domainId: string): AccountNode | undefined {
  const row = prepared(db, 'SELECT * FROM acct_account WHERE name = ? AND domain_id = ? ORDER BY created, id LIMIT 1').get(name, domainId) as
    | AccountRow
    | undefined;
  return row && accountNode(row);
}

export function getAccount(db: Database, id: string): AccountNode | undefined {
  const row = prepared(db, 'SELECT * FROM acct_account WHERE id = ?').get(id) as AccountRow | undefined;
  return row && accountNode(row);
}

export function listUsers(db: Database, accountId: string): UserNode[] {
  const rows = prepared(db, 'SELECT * FROM acct_account_user WHERE account_id = ? ORDER BY created, id').all(accountId) as UserRow[];
  return rows.map((row) => ({ id: row.id, accountId: row.account_id, username: row.username, state: row.state, created: row.created }));
}
