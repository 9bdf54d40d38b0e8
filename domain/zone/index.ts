export * from './zone.js';
export * from './region.js';
