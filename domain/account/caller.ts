// Who calls: a user of an account, as its API key identifies it. The one declaration of a caller for
// the API, the read model and the deciders; what needs less of it takes a Pick.
import type { Role } from './account.js';

export interface Caller {
  readonly userId: string;
  readonly accountId: string;
  readonly role: Role;
  readonly domainId: string;
  /** The path of the account's domain: `/` for ROOT, `/child/` below it. */
  readonly domainPath: string;
}
