// A schedule's five-field cron expression evaluated in its IANA time zone (behaviour §5.2). The
// expression is parsed by cron-parser (CloudStack's Spring CronExpression with "0 " prefixed: minute
// precision); the fires are the zone's wall-clock times, built with luxon, so a change of offset is
// handled the way people read a clock: on a spring-forward day a time the clock skips (02:30) fires
// once, at the instant luxon moves it to (03:30), and on a fall-back day a time the clock shows twice
// fires once, at the one instant luxon resolves it to. Fires are instants, strictly increasing: a skipped time that lands on
// another fire of the day is that fire, not a second one.
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';

/** A parsed schedule: the minutes and hours of a day, and the days (by calendar date) it fires on. */
export interface Cron {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** The day fields alone (`dom month dow`), for matching calendar dates. */
  readonly days: string;
}

/** How far ahead a next fire is looked for: a schedule that matches no date in that time never fires. */
const HORIZON_DAYS = 366 * 8;

/** The cron expression's reading, or why it is not one (cron-parser's message). */
export function parseCron(schedule: string): Cron | { readonly error: string } {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return { error: `a schedule has five fields (minute hour day-of-month month day-of-week), got ${fields.length} in "${schedule}"` };
  // 'H' picks a random value from a seed: a schedule's fires must be the same on every node and replay.
  if (/h/i.test(fields.join(' ').replace(/[a-z]{3}/gi, ''))) return { error: `"H" (a hashed value) is not supported in "${schedule}"` };
  try {
    const parsed = CronExpressionParser.parse(fields.join(' '), { strict: false, tz: 'UTC' });
    const [, , dom, month, dow] = fields;
    return { minutes: [...parsed.fields.minute.values], hours: [...parsed.fields.hour.values], days: `0 0 ${dom} ${month} ${dow}` };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export function isCron(value: Cron | { readonly error: string }): value is Cron {
  return !('error' in value);
}

/** An IANA zone luxon knows (`UTC` included). */
export function isTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Parsed day fields by their text: a schedule's days are matched on every call, and parsing is the costly part. */
const dayExpressions = new Map<string, CronExpression>();

/** Does the calendar date (year, month, day) match the day fields? */
function dayMatches(days: string, year: number, month: number, day: number): boolean {
  let expression = dayExpressions.get(days);
  if (!expression) {
    // A bounded cache: schedules are few, but a process lives long.
    if (dayExpressions.size >= 10_000) dayExpressions.clear();
    expression = CronExpressionParser.parse(days, { tz: 'UTC' });
    dayExpressions.set(days, expression);
  }
  return expression.includesDate(new Date(Date.UTC(year, month - 1, day)));
}

const HOUR_MS = 3_600_000;

/** The first fire strictly after `afterMs`, in ms, or null when none comes within the horizon. */
export function nextFire(cron: Cron, zone: string, afterMs: number): number | null {
  const local = DateTime.fromMillis(afterMs, { zone });
  if (!local.isValid) return null;
  // Wall times are compared as if they were UTC. A candidate whose wall time is not after `after`'s
  // is before it too, unless the offset changes near by (a DST change, at most two hours in any zone):
  // then only candidates more than two hours earlier are passed over unbuilt.
  const localWall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const offsetAt = (ms: number) => DateTime.fromMillis(ms, { zone }).offset;
  const steady = offsetAt(afterMs - 3 * HOUR_MS) === local.offset && offsetAt(afterMs + 3 * HOUR_MS) === local.offset;
  const passOver = localWall - (steady ? 0 : 2 * HOUR_MS);
  // A fire after a skipped time may sit on the previous calendar day's date (luxon moves it forward).
  const start = local.minus({ days: 1 });
  for (let i = 0; i <= HORIZON_DAYS; i++) {
    const date = new Date(Date.UTC(start.year, start.month - 1, start.day + i));
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (Date.UTC(year, month - 1, day, 23, 59) <= passOver || !dayMatches(cron.days, year, month, day)) continue;
    for (const hour of cron.hours) {
      if (Date.UTC(year, month - 1, day, hour, 59) <= passOver) continue;
      for (const minute of cron.minutes) {
        if (Date.UTC(year, month - 1, day, hour, minute) <= passOver) continue;
        const at = DateTime.fromObject({ year, month, day, hour, minute }, { zone }).toMillis();
        if (at > afterMs) return at;
      }
    }
  }
  return null;
}

/** Does the schedule fire at this instant? */
export function firesAt(cron: Cron, zone: string, atMs: number): boolean {
  return nextFire(cron, zone, atMs - 1) === atMs;
}
