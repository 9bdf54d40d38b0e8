export * from './capacity.js';
export * from './host.js';
export * from './host-snapshot.js';
