// Whose resources an account may act on, as CloudStack decides it: the root admin on everyone's
// (AccountManagerImpl.checkAccess returns at once for it), an account on its own, a domain admin on
// those of its domain subtree (DomainChecker) except a root admin's: a caller never operates for an
// account of a higher role type (AccountManagerImpl.checkCallerRoleTypeAllowedForUserOrAccountOperations,
// checkCallerApiPermissionsForUserOrAccountOperations), so a domain admin of ROOT cannot reach the
// root admin by way of the ROOT domain.
import type { Caller } from './caller.js';
import { isInDomainSubtree } from './domain.js';

/** An account as access is decided for it: a caller's, or the owner of what it acts on. */
export type AccessParty = Pick<Caller, 'accountId' | 'role' | 'domainPath'>;

export function mayActFor(caller: AccessParty, owner: AccessParty): boolean {
  if (caller.role === 'ROOT_ADMIN' || caller.accountId === owner.accountId) return true;
  if (caller.role !== 'DOMAIN_ADMIN') return false;
  return owner.role !== 'ROOT_ADMIN' && isInDomainSubtree(caller.domainPath, owner.domainPath);
}
