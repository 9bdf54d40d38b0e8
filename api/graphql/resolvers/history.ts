// The audit trail, the usage events and the usage records. Dates arrive normalised to UTC by the DateTime scalar.
import { USAGE_RECORD_TYPES, type UsageRecordType } from '../../../projections/usage-records/index.js';
import { optionalEnum, optionalString, pageArgs, requiredString } from '../../control-plane/args.js';
import type { Resolver } from '../context.js';

const USAGE_RECORD_TYPE_NAMES = Object.keys(USAGE_RECORD_TYPES) as UsageRecordType[];

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
      type: optionalEnum(args, 'type', USAGE_RECORD_TYPE_NAMES),
      ...pageArgs(args),
    }),
};
