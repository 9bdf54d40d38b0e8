export * from './offering.js';
export * from './resolve.js';
