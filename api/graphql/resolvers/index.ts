import type { ResolverMap } from '../context.js';
import { historyQueries } from './history.js';
import { importMutations, importQueries } from './import.js';
import { infrastructureMutations, infrastructureQueries, infrastructureTypeResolvers } from './infrastructure.js';
import { instanceMutations, instanceQueries, instanceTypeResolvers } from './instances.js';
import { jobQueries, jobSubscriptions } from './jobs.js';
import { scheduleMutations, scheduleQueries } from './schedules.js';
import { vmSnapshotMutations, vmSnapshotQueries } from './vmsnapshots.js';

export const resolvers: ResolverMap = {
  Query: { ...instanceQueries, ...jobQueries, ...historyQueries, ...infrastructureQueries, ...scheduleQueries, ...vmSnapshotQueries, ...importQueries },
  Mutation: { ...instanceMutations, ...scheduleMutations, ...vmSnapshotMutations, ...infrastructureMutations, ...importMutations },
  Subscription: { ...jobSubscriptions },
  types: { ...infrastructureTypeResolvers, ...instanceTypeResolvers },
};
