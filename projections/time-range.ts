// Time-window filters of the list queries.
import { where, type Condition } from './listing.js';

/** Keeps rows whose occurred_at lies within [startDate, endDate], both inclusive. */
export function occurredBetween(filter: { startDate?: string | null; endDate?: string | null }): Condition[] {
  // Stored times are ISO-8601 UTC with milliseconds, so they compare as text once normalised.
  const conditions: Condition[] = [];
  if (filter.startDate) conditions.push(where('occurred_at >= ?', new Date(filter.startDate).toISOString()));
  if (filter.endDate) conditions.push(where('occurred_at <= ?', new Date(filter.endDate).toISOString()));
  return conditions;
}
