export * from './domain.js';
export * from './account.js';
export * from './access.js';
export * from './caller.js';
export * from './instance-name.js';
