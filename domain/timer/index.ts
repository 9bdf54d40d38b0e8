export * from './timer.js';
