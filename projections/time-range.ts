// Time-window filters of the list queries, and the one rule for a window a caller gives.
import { where, type Condition } from './listing.js';

/** A window the caller gave that is no window: a date that is not one, or an end before its start. */
export class InvalidTimeWindowError extends Error {
  constructor(
    readonly field: 'startDate' | 'endDate',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTimeWindowError';
  }
}

export interface TimeWindow {
  readonly startDate?: string | null;
  readonly endDate?: string | null;
}

/** Milliseconds of a window's bound, refusing text that is no date-time. */
export function windowBound(window: TimeWindow, field: 'startDate' | 'endDate'): number | undefined {
  const text = window[field];
  if (text === undefined || text === null) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InvalidTimeWindowError(field, `${field} is not a date-time: ${JSON.stringify(text)}`);
  return ms;
}

/**
 * Keeps rows whose occurred_at lies within [startDate, endDate], both inclusive. An end before the
 * start would match nothing; it is refused as usageRecords refuses it, rather than answered empty.
 */
export function occurredBetween(filter: TimeWindow): Condition[] {
  const from = windowBound(filter, 'startDate');
  const to = windowBound(filter, 'endDate');
  if (from !== undefined && to !== undefined && to < from) {
    throw new InvalidTimeWindowError('endDate', `endDate ${filter.endDate} is before startDate ${filter.startDate}`);
  }
  // Stored times are ISO-8601 UTC with milliseconds, so they compare as text once normalised.
  const conditions: Condition[] = [];
  if (from !== undefined) conditions.push(where('occurred_at >= ?', new Date(from).toISOString()));
  if (to !== undefined) conditions.push(where('occurred_at <= ?', new Date(to).toISOString()));
  return conditions;
}
