export { timersProjection } from './projection.js';
export * from './queries.js';
