// Usage is billed per day of the operator's time zone (`usage.timezone`), as CloudStack's usage
// server aggregates it: an interval becomes one piece per local day it touches, cut at the zone's
// midnights (which fall 23, 24 or 25 hours apart, or at 01:00 where a zone skips midnight).
import { DateTime } from 'luxon';

export interface Piece {
  /** Epoch milliseconds, inclusive. */
  readonly startMs: number;
  /** Epoch milliseconds, exclusive. */
  readonly endMs: number;
}

export class UnknownTimeZoneError extends Error {
  constructor(readonly zone: string) {
    super(`unknown time zone ${JSON.stringify(zone)}`);
    this.name = 'UnknownTimeZoneError';
  }
}

/** [startMs, endMs) cut at every start of a day in `zone`; empty when the interval is. */
export function splitAtMidnights(startMs: number, endMs: number, zone: string): Piece[] {
  const pieces: Piece[] = [];
  let cursor = startMs;
  while (cursor < endMs) {
    const next = nextDayStart(cursor, zone);
    const end = Math.min(next, endMs);
    pieces.push({ startMs: cursor, endMs: end });
    cursor = end;
  }
  return pieces;
}

/** The first start of a day in `zone` strictly after `ms`. */
export function nextDayStart(ms: number, zone: string): number {
  const local = DateTime.fromMillis(ms, { zone });
  if (!local.isValid) throw new UnknownTimeZoneError(zone);
  const next = local.plus({ days: 1 }).startOf('day').toMillis();
  // The start of tomorrow is after every instant of today; a zone database that said otherwise
  // would make splitting loop for ever.
  if (!(next > ms)) throw new Error(`time zone ${zone} has no day after ${new Date(ms).toISOString()}`);
  return next;
}
