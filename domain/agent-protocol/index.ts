export * from './messages.js';
export * from './handlers.js';
export * from './queries.js';
