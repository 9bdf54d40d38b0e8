export * from './pool.js';
export * from './capacity.js';
export * from './pool-snapshot.js';
