// The audit trail and the usage events. Dates arrive normalised to UTC by the DateTime scalar.
import type { Resolver } from '../context.js';
import { optionalString, pageArgs } from './args.js';

export const historyQueries: Readonly<Record<string, Resolver>> = {
  events: (_source, args, { controlPlane, caller }) =>
    controlPlane.events(caller, {
      resourceId: optionalString(args, 'resourceId'),
      type: optionalString(args, 'type'),
      startDate: optionalString(args, 'startDate'),
      endDate: optionalString(args, 'endDate'),
      ...pageArgs(args),
    }),
  usageEvents: (_source, args, { controlPlane, caller }) =>
    controlPlane.usageEvents(caller, {
      accountId: optionalString(args, 'accountId'),
      type: optionalString(args, 'type'),
      startDate: optionalString(args, 'startDate'),
      endDate: optionalString(args, 'endDate'),
      ...pageArgs(args),
    }),
};
