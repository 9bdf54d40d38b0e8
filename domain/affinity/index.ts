export * from './group.js';
export * from './constraints.js';
