export * from './pool.js';
export * from './capacity.js';
