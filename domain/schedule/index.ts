export * from './cron.js';
export * from './schedule.js';
