export * from './addressing.js';
export * from './network.js';
export * from './nic-address.js';
