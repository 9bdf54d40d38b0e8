export * from './chain.js';
export * from './state-machine.js';
export * from './vmsnapshot.js';
export { vmSnapshotMessages } from './messages.js';
