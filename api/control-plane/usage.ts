// The usage records query: the read model's intervals, cut into days of the configured usage zone.
import { listUsageRecords, type UsageRecordView } from '../../projections/usage-records/index.js';
import type { Connection } from '../../projections/pagination.js';
import { db, guarded, setting, visibilityOf, type ControlPlaneContext } from './context.js';
import type { Caller, UsageRecordsArgs } from './port.js';

export function usageRecords(context: ControlPlaneContext, caller: Caller, args: UsageRecordsArgs): Connection<UsageRecordView> {
  return guarded(() =>
    listUsageRecords(db(context), visibilityOf(context, caller), args, args, { timeZone: setting(context, 'usage.timezone'), nowMs: context.clock.now().getTime() }),
  );
}
