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
