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

/** The calendar dates the day fields match, from `fromDate` (yyyy-mm-dd) on, as UTC midnights. */
function matchingDays(cron: Cron, year: number, month: number, day: number): CronExpression {
  return CronExpressionParser.parse(cron.days, { tz: 'UTC', currentDate: new Date(Date.UTC(year, month - 1, day) - 1) });
}

/** The first fire strictly after `afterMs`, in ms, or null when none comes within the horizon. */
export function nextFire(cron: Cron, zone: string, afterMs: number): number | null {
  const local = DateTime.fromMillis(afterMs, { zone });
  if (!local.isValid) return null;
  // A fire after a skipped time may sit on the previous calendar day's date (luxon moves it forward).
  const start = local.minus({ days: 1 });
  let days: CronExpression;
  try {
    days = matchingDays(cron, start.year, start.month, start.day);
  } catch {
    return null;
  }
  const horizon = afterMs + HORIZON_DAYS * 86_400_000;
  for (;;) {
    let date: Date;
    try {
      if (!days.hasNext()) return null;
      date = days.next().toDate();
    } catch {
      return null;
    }
    if (date.getTime() > horizon) return null;
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        const at = DateTime.fromObject(
          { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour, minute },
          { zone },
        ).toMillis();
        if (at > afterMs) return at;
      }
    }
  }
}

/** Does the schedule fire at this instant? */
export function firesAt(cron: Cron, zone: string, atMs: number): boolean {
  return nextFire(cron, zone, atMs - 1) === atMs;
}
