export * from './domain.js';
export * from './account.js';
