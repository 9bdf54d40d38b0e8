// A five-field cron expression (minute hour day-of-month month day-of-week) in words, and its next
// fires: the fires are computed by the very code the schedules run on (domain/schedule/cron.ts), so
// what the console promises is what the control plane does.
import { CronExpressionParser } from 'cron-parser';
import { isCron, nextFire, parseCron } from '../../domain/schedule/cron.ts';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function list(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** Runs of consecutive numbers as "a to b", the others alone. */
function ranges(values: readonly number[], name: (n: number) => string): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${name(sorted[i]!)} to ${name(sorted[j]!)}` : sorted.slice(i, j + 1).map(name).join(', '));
    i = j + 1;
  }
  return list(parts);
}

/** A step (every n) when the values are start, start+n, …; else null. */
function stepOf(values: readonly number[], first: number, last: number): number | null {
  if (values.length < 2 || values[0] !== first) return null;
  const step = values[1]! - values[0]!;
  for (let i = 1; i < values.length; i++) if (values[i]! - values[i - 1]! !== step) return null;
  return last - values[values.length - 1]! < step ? step : null;
}

/** The plain numbers of a cron-parser field (it also holds 'L' and the like). */
const numbers = (values: readonly unknown[]): number[] => values.filter((v): v is number => typeof v === 'number');

const pad = (n: number) => String(n).padStart(2, '0');

/** "At 08:30, Monday to Friday", "Every 15 minutes", …; the expression's own error when it is not one. */
export function describeCron(expression: string): { text: string } | { error: string } {
  const parsed = parseCron(expression);
  if (!isCron(parsed)) return { error: parsed.error };
  const [, , domField = '*', monthField = '*', dowField = '*'] = expression.trim().split(/\s+/);
  const minutes = [...parsed.minutes].sort((a, b) => a - b);
  const hours = [...parsed.hours].sort((a, b) => a - b);
  let time: string;
  const everyMinute = minutes.length === 60;
  const everyHour = hours.length === 24;
  const minuteStep = stepOf(minutes, 0, 59);
  const hourStep = stepOf(hours, 0, 23);
  if (everyMinute && everyHour) time = 'Every minute';
  else if (minuteStep && everyHour) time = `Every ${minuteStep} minutes`;
  else if (everyHour && minutes.length === 1) time = minutes[0] === 0 ? 'Every hour, on the hour' : `Every hour at minute ${minutes[0]}`;
  else if (everyHour) time = `Every hour at minutes ${ranges(minutes, String)}`;
  else if (minutes.length * hours.length <= 6) time = `At ${list(hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`)))}`;
  else if (everyMinute) time = `Every minute from ${ranges(hours, (h) => `${pad(h)}:00`)} hours`;
  else if (hourStep) time = `At minute ${ranges(minutes, String)} every ${hourStep} hours`;
  else time = `At minute ${ranges(minutes, String)} of hours ${ranges(hours, String)}`;

  const days: string[] = [];
  const parts = CronExpressionParser.parse(`0 0 ${domField} ${monthField} ${dowField}`, { tz: 'UTC', strict: false }).fields;
  if (domField !== '*' && domField !== '?') {
    days.push(domField.toUpperCase() === 'L' ? 'on the last day of the month' : `on day ${ranges(numbers(parts.dayOfMonth.values), String)} of the month`);
  }
  if (dowField !== '*' && dowField !== '?') {
    const dows = numbers(parts.dayOfWeek.values).map((d) => d % 7);
    days.push(/[L#]/i.test(dowField) ? `on ${dowField} (day of week)` : ranges(dows, (d) => DAYS[d]!));
  }
  if (monthField !== '*' && monthField !== '?') days.push(`in ${ranges(numbers(parts.month.values), (m) => MONTHS[m - 1]!)}`);
  return { text: [time, ...days].join(', ') };
}

/** The next `count` fires (ms) after `afterMs`, within [startMs, endMs]. */
export function nextFires(expression: string, zone: string, afterMs: number, count: number, startMs?: number, endMs?: number | null): number[] {
  const parsed = parseCron(expression);
  if (!isCron(parsed)) return [];
  const fires: number[] = [];
  let from = Math.max(afterMs, (startMs ?? afterMs) - 1);
  while (fires.length < count) {
    const at = nextFire(parsed, zone, from);
    if (at === null || (endMs != null && at > endMs)) break;
    fires.push(at);
    from = at;
  }
  return fires;
}
