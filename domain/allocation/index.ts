export * from './planner.js';
export * from './pool-choice.js';
