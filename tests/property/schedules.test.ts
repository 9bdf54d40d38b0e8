// Instance schedules, whatever the clock does (behaviour §5.2): for random five-field schedules, IANA
// zones (DST and half-hour ones among them), start dates near DST changes and clock steps — the timer
// polled every second, an outage of hours (a clock stepped forward), a fire handled twice (two processes, a crash) — every fire
// of the schedule is handled exactly once: it runs, or (only when the clock jumped a period past it)
// is counted as missed; none runs before its time or outside its window; and when every step is
// shorter than the gap between two fires, every fire runs. Separately, the fires are exactly the zone's
// wall-clock times the cron names, found by scanning every minute: each once, a skipped one moved on.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { fold, isRejection } from '../../domain/shared/decider.js';
import { isCron, nextFire, parseCron, vmScheduleDecider, type VMScheduleCommand, type VMScheduleEvent, type VMScheduleState } from '../../domain/schedule/index.js';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham'] as const;
/** Days of DST changes in some of those zones (2026), and ordinary ones. */
const DAYS = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-09-06', '2026-09-27', '2026-10-25', '2026-11-01', '2026-06-15'] as const;

const minuteField = fc.oneof(
  fc.constant('*'),
  fc.integer({ min: 1, max: 30 }).map((k) => `*/${k}`),
  fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 4 }).map((v) => v.join(',')),
);
const hourField = fc.oneof(
  fc.constant('*'),
  fc.integer({ min: 1, max: 12 }).map((k) => `*/${k}`),
  fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 3 }).map((v) => v.join(',')),
  fc.integer({ min: 0, max: 21 }).map((h) => `${h}-${h + 2}`),
);
const dayFields = fc.constantFrom('* * *', '* * 1-5', '* * 0,6', '1,15 * *', '*/2 * *');
const schedule = fc.tuple(minuteField, hourField, dayFields).map(([m, h, d]) => `${m} ${h} ${d}`);

const step = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 200, max: 1_000 }).map((ms) => ({ ms, twice: false })) },
  { weight: 2, arbitrary: fc.record({ ms: fc.integer({ min: 1_000, max: 30 * 60_000 }), twice: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ ms: fc.integer({ min: 60 * 60_000, max: 5 * 3_600_000 }), twice: fc.boolean() }) },
);

const iso = (ms: number) => new Date(ms).toISOString();

function decide(events: VMScheduleEvent[], command: VMScheduleCommand): VMScheduleEvent[] {
  const decision = vmScheduleDecider.decide(command, fold(vmScheduleDecider, events));
  if (isRejection(decision)) throw new Error(`${command.type} refused: ${decision.message}`);
  events.push(...decision);
  return [...decision];
}

const stateOf = (events: readonly VMScheduleEvent[]) => fold(vmScheduleDecider, events) as Extract<VMScheduleState, { exists: true }>;

describe('instance schedules (property)', () => {
  it('handle every fire exactly once, none early, whatever the clock steps', () => {
    fc.assert(
      fc.property(
        schedule,
        fc.constantFrom(...ZONES),
        fc.constantFrom(...DAYS),
        fc.integer({ min: 0, max: 36 * 60 }),
        fc.array(step, { minLength: 1, maxLength: 120 }),
        (cronText, zone, day, offsetMinutes, steps) => {
          const t0 = Date.parse(`${day}T00:00:00.000Z`) - 12 * 3_600_000 + offsetMinutes * 60_000 + 17_000;
          const events: VMScheduleEvent[] = [];
          decide(events, {
            type: 'CreateVMSchedule',
            scheduleId: 's1',
            at: iso(t0),
            instanceId: 'vm-1',
            instanceName: 'web-1',
            accountId: 'a',
            domainId: 'd',
            action: 'STOP',
            schedule: cronText,
            timeZone: zone,
            description: null,
            startDate: null,
            endDate: null,
            enabled: true,
          });
          const start = Date.parse(stateOf(events).startDate);
          decide(events, { type: 'ArmVMSchedule', scheduleId: 's1', at: iso(t0), after: iso(t0) });
          let now = t0;
          const ran: Array<{ fireAt: number; at: number }> = [];
          let missed = 0;
          for (const { ms, twice } of steps) {
            now += ms;
            const due = stateOf(events).nextFireAt;
            if (due === null || Date.parse(due) > now) continue;
            for (let delivery = 0; delivery < (twice ? 2 : 1); delivery++) {
              for (const event of decide(events, { type: 'FireVMSchedule', scheduleId: 's1', at: iso(now), dueAt: due, jobId: `job-${due}`, earlier: [] })) {
                if (event.type === 'VMScheduleFired') ran.push({ fireAt: Date.parse(event.data.fireAt), at: now });
                if (event.type === 'VMScheduleFiresMissed') missed += event.data.count;
              }
            }
            decide(events, { type: 'ArmVMSchedule', scheduleId: 's1', at: iso(now), after: iso(now) });
          }
          // The fires the schedule had up to the last one handled, from its own definition.
          const cron = parseCron(cronText);
          if (!isCron(cron)) throw new Error(cron.error);
          const last = stateOf(events).lastFireAt;
          const fires: number[] = [];
          for (let f = nextFire(cron, zone, start - 1); last !== null && f !== null && f <= Date.parse(last); f = nextFire(cron, zone, f)) fires.push(f);

          for (const r of ran) {
            expect(r.fireAt).toBeLessThanOrEqual(r.at);
            expect(r.fireAt).toBeGreaterThanOrEqual(start);
          }
          const ranAt = ran.map((r) => r.fireAt);
          expect(new Set(ranAt).size).toBe(ranAt.length);
          expect(ranAt.every((f) => fires.includes(f))).toBe(true);
          expect(ranAt.length + missed).toBe(fires.length);
          const gaps = fires.slice(1).map((f, i) => f - fires[i]!);
          const minGap = Math.min(...gaps, Number.POSITIVE_INFINITY);
          if (steps.every((s) => s.ms < minGap) && fires.length > 0 && steps[0]!.ms < fires[0]! - t0 + minGap) expect(missed).toBe(0);
          // The fire armed now is the next one after the last handled, not early, not skipped.
          const next = stateOf(events).nextFireAt;
          if (next !== null) expect(Date.parse(next)).toBe(nextFire(cron, zone, Math.max(last === null ? start - 1 : Date.parse(last), start - 1, now === t0 ? t0 : Math.max(now, start - 1))) ?? Number.NaN);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fire at exactly the wall-clock times the cron names in the zone, each once, a skipped time moved forward', () => {
    fc.assert(
      fc.property(schedule, fc.constantFrom(...ZONES), fc.constantFrom(...DAYS), (cronText, zone, day) => {
        const cron = parseCron(cronText);
        if (!isCron(cron)) throw new Error(cron.error);
        const from = Date.parse(`${day}T00:00:00.000Z`) - 24 * 3_600_000;
        const to = from + 48 * 3_600_000;
        const fires: number[] = [];
        for (let f = nextFire(cron, zone, from); f !== null && f <= to; f = nextFire(cron, zone, f)) fires.push(f);

        // The oracle: every minute of the window, read on the zone's wall clock.
        const dayMatches = (local: DateTime) => {
          const next = nextFire({ minutes: [0], hours: [0], days: cron.days }, 'UTC', Date.UTC(local.year, local.month - 1, local.day) - 1);
          return next === Date.UTC(local.year, local.month - 1, local.day);
        };
        const expected = new Set<number>();
        for (let m = from + 60_000; m <= to; m += 60_000) {
          const local = DateTime.fromMillis(m, { zone });
          if (!cron.minutes.includes(local.minute) || !cron.hours.includes(local.hour) || !dayMatches(local)) continue;
          // A wall time shown twice (fall-back) fires at one of its instants: the one luxon resolves it to.
          const resolved = DateTime.fromObject({ year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute }, { zone }).toMillis();
          if (resolved === m) expected.add(m);
        }
        // A wall time the clock skips (spring-forward) fires once, where luxon moves it.
        for (let d = DateTime.fromMillis(from, { zone }).startOf('day'); d.toMillis() <= to; d = d.plus({ days: 1 })) {
          if (!dayMatches(d)) continue;
          for (const hour of cron.hours) {
            for (const minute of cron.minutes) {
              const at = DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour, minute }, { zone });
              if ((at.hour !== hour || at.minute !== minute) && at.toMillis() > from && at.toMillis() <= to) expected.add(at.toMillis());
            }
          }
        }
        expect(fires).toEqual([...expected].sort((a, b) => a - b));
      }),
      { numRuns: 50 },
    );
  });
});
