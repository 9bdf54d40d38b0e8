export * from './addressing.js';
export * from './network.js';
