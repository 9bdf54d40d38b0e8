// The audit trail, the usage events and the usage records. Dates arrive normalised to UTC by the DateTime scalar.
import { isUsageRecordType, type UsageRecordType } from '../../../projections/usage-records/index.js';
import type { Args, Resolver } from '../context.js';
import { optionalString, pageArgs, requiredString } from './args.js';

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
  usageRecords: (_source, args, { controlPlane, caller }) =>
    controlPlane.usageRecords(caller, {
      accountId: optionalString(args, 'accountId'),
      startDate: requiredString(args, 'startDate'),
      endDate: requiredString(args, 'endDate'),
      type: optionalUsageRecordType(args),
      ...pageArgs(args),
    }),
};

function optionalUsageRecordType(args: Args): UsageRecordType | null | undefined {
  const value = optionalString(args, 'type');
  if (value === null || value === undefined || isUsageRecordType(value)) return value;
  throw new TypeError(`argument type should be a UsageRecordType by the schema, got ${value}`);
}
