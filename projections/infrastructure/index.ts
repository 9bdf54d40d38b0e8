// Read models of the infrastructure an instance runs on: zones, clusters, hosts (with capacity),
// storage pools, networks (with addresses), offerings and templates.
import type { Projection } from '../projection.js';
import { hostProjection } from './host/projection.js';
import { networkProjection } from './network/projection.js';
import { offeringProjection } from './offering/projection.js';
import { storagePoolProjection } from './storage/projection.js';
import { templateProjection } from './template/projection.js';
import { zoneProjection } from './zone/projection.js';

export { hostProjection, networkProjection, offeringProjection, storagePoolProjection, templateProjection, zoneProjection };

export const infrastructureProjections: readonly Projection[] = [
  zoneProjection,
  hostProjection,
  storagePoolProjection,
  networkProjection,
  offeringProjection,
  templateProjection,
];

export * from './zone/queries.js';
export * from './host/queries.js';
export type { HostNode } from './host/rows.js';
export * from './host/capacity-snapshot.js';
export * from './storage/queries.js';
export * from './network/queries.js';
export * from './offering/queries.js';
export * from './template/queries.js';
