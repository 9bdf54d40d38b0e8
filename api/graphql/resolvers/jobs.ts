import type { Resolver, SubscriptionResolver } from '../context.js';
import type { JobStatus } from '../../control-plane/port.js';
import { optionalString, pageArgs, requiredString } from '../../control-plane/args.js';
import { jobUpdates } from './job-updates.js';

export const jobQueries: Readonly<Record<string, Resolver>> = {
  asyncJob: (_source, args, { controlPlane, caller }) => controlPlane.asyncJob(caller, requiredString(args, 'id')) ?? null,
  asyncJobs: (_source, args, { controlPlane, caller }) =>
    controlPlane.asyncJobs(caller, {
      instanceId: optionalString(args, 'instanceId'),
      accountId: optionalString(args, 'accountId'),
      cmd: optionalString(args, 'cmd'),
      status: optionalString(args, 'status') as JobStatus | null,
      ...pageArgs(args),
    }),
};

export const jobSubscriptions: Readonly<Record<string, SubscriptionResolver>> = {
  asyncJobUpdated: {
    subscribe: (_source, args, { controlPlane, caller }) => jobUpdates(controlPlane, caller, requiredString(args, 'id')),
    // Each event of the source stream is the job itself, not an object keyed by the field's name.
    resolve: (job: unknown): unknown => job,
  },
};
