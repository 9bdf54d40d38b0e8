// CloudStack's usage record types (`UsageTypes`) that vmledger produces, by name and number.
export const USAGE_RECORD_TYPES = {
  RUNNING_VM: 1,
  ALLOCATED_VM: 2,
  VOLUME: 6,
  NETWORK_OFFERING: 13,
  VM_SNAPSHOT: 25,
} as const;

export type UsageRecordType = keyof typeof USAGE_RECORD_TYPES;

export function isUsageRecordType(name: string): name is UsageRecordType {
  return Object.prototype.hasOwnProperty.call(USAGE_RECORD_TYPES, name);
}

export function usageRecordTypeOf(number: number): UsageRecordType {
  const found = (Object.keys(USAGE_RECORD_TYPES) as UsageRecordType[]).find((name) => USAGE_RECORD_TYPES[name] === number);
  if (!found) throw new Error(`no usage record type numbered ${number}`);
  return found;
}
