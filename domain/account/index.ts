export * from './domain.js';
export * from './account.js';
export * from './access.js';
