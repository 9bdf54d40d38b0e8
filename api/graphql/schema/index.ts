import { historyTypeDefs } from './history.js';
import { importTypeDefs } from './import.js';
import { infrastructureTypeDefs } from './infrastructure.js';
import { instanceTypeDefs } from './instances.js';
import { operationTypeDefs } from './operations.js';
import { scheduleTypeDefs } from './schedules.js';
import { vmSnapshotTypeDefs } from './vmsnapshots.js';

/** The whole SDL, as one document. */
export const typeDefs = [instanceTypeDefs, historyTypeDefs, infrastructureTypeDefs, scheduleTypeDefs, vmSnapshotTypeDefs, operationTypeDefs, importTypeDefs].join('\n');
