export * from './messages.js';
export * from './handlers.js';
