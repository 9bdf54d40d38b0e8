export * from './lease.js';
export * from './offering.js';
export * from './resolve.js';
