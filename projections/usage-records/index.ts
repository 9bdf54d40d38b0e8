export { usageRecordsProjection } from './projection.js';
export { listUsageRecords, type UsageRecordClock, type UsageRecordFilter, type UsageRecordView } from './queries.js';
export { splitAtMidnights, nextDayStart, UnknownTimeZoneError, type Piece } from './day-split.js';
export { USAGE_RECORD_TYPES, isUsageRecordType, usageRecordTypeOf, type UsageRecordType } from './usage-types.js';
