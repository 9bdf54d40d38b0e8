import { where, type Condition } from './listing.js';

/** Whose resources a caller may see: everything (root admin), one account's (user), or a domain subtree's (domain admin). */
export type Visibility =
  | { readonly kind: 'all' }
  | { readonly kind: 'account'; readonly accountId: string }
  | { readonly kind: 'domains'; readonly domainIds: readonly string[] };

/** The SQL condition that keeps rows to the caller's visibility (none for the root admin). */
export function visibleTo(visibility: Visibility): Condition | undefined {
  if (visibility.kind === 'account') return where('account_id = ?', visibility.accountId);
  if (visibility.kind === 'domains') return where('domain_id IN (SELECT value FROM json_each(?))', JSON.stringify(visibility.domainIds));
  return undefined;
}

/** Whose own resources a caller may use beside the shared ones: its account's (a user), or every account's in a domain subtree (an admin). */
export type Reach = { readonly kind: 'account'; readonly accountId: string } | { readonly kind: 'subtree'; readonly domainPath: string };

/** Rows owned by nobody (`nobody` is the SQL that says so) or by an account within reach. */
export function ownedByNobodyOrWithin(reach: Reach, nobody: string): Condition {
  if (reach.kind === 'account') return where(`${nobody} OR account_id = ?`, reach.accountId);
  return where(`${nobody} OR account_id IN (SELECT id FROM acct_account WHERE substr(domain_path, 1, length(?)) = ?)`, reach.domainPath, reach.domainPath);
}
