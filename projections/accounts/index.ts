// Read models of the domain tree, accounts and users, and the API-key lookup authentication uses.
import type { Projection } from '../projection.js';
import { accountProjection } from './account-projection.js';
import { domainProjection } from './domain-projection.js';

export { accountProjection, domainProjection };

export const accountProjections: readonly Projection[] = [domainProjection, accountProjection];

export * from './queries.js';
export * from './caller.js';
