export * from './commands.js';
export * from './decider.js';
export * from './events.js';
export * from './model.js';
export * from './state.js';
export * from './state-machine.js';
export * from './stream.js';
export * from './usage.js';
export { messages as instanceMessages } from './messages.js';
