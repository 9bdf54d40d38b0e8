import type { Resolver, SubscriptionResolver } from '../context.js';
import { requiredString } from '../../control-plane/args.js';
import { jobUpdates } from './job-updates.js';

export const jobQueries: Readonly<Record<string, Resolver>> = {
  asyncJob: (_source, args, { controlPlane, caller }) => controlPlane.asyncJob(caller, requiredString(args, 'id')) ?? null,
};

export const jobSubscriptions: Readonly<Record<string, SubscriptionResolver>> = {
  asyncJobUpdated: {
    subscribe: (_source, args, { controlPlane, caller }) => jobUpdates(controlPlane, caller, requiredString(args, 'id')),
    // Each event of the source stream is the job itself, not an object keyed by the field's name.
    resolve: (job: unknown): unknown => job,
  },
};
