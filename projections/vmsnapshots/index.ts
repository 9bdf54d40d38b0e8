export { vmSnapshotsProjection } from './projection.js';
export * from './queries.js';
