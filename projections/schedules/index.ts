export { vmSchedulesProjection } from './projection.js';
export * from './queries.js';
