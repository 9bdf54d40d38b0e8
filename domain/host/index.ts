export * from './capacity.js';
export * from './host.js';
