// Time-window filters of the list queries.

/** Keeps rows whose occurred_at lies within [startDate, endDate], both inclusive. */
export function addDateRange(filter: { startDate?: string | null; endDate?: string | null }, where: string[], params: unknown[]): void {
  // Stored times are ISO-8601 UTC with milliseconds, so they compare as text once normalised.
  if (filter.startDate) {
    where.push('occurred_at >= ?');
    params.push(new Date(filter.startDate).toISOString());
  }
  if (filter.endDate) {
    where.push('occurred_at <= ?');
    params.push(new Date(filter.endDate).toISOString());
  }
}
