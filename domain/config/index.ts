export * from './registry.js';
export * from './configuration.js';
export * from './validation.js';
