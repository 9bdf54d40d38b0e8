// Read model of configuration overrides and the effective settings derived from them.
export { configurationProjection } from './projection.js';
export * from './queries.js';
