/** Whose resources a caller may see: everything (root admin), one account's (user), or a domain subtree's (domain admin). */
export type Visibility =
  | { readonly kind: 'all' }
  | { readonly kind: 'account'; readonly accountId: string }
  | { readonly kind: 'domains'; readonly domainIds: readonly string[] };

/** Adds the SQL condition that keeps rows to the caller's visibility. */
export function restrictTo(visibility: Visibility, where: string[], params: unknown[], columns = { account: 'account_id', domain: 'domain_id' }): void {
  if (visibility.kind === 'account') {
    where.push(`${columns.account} = ?`);
    params.push(visibility.accountId);
  } else if (visibility.kind === 'domains') {
    where.push(`${columns.domain} IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(visibility.domainIds));
  }
}
