// An instance schedule (behaviour §5.2): a cron expression in a time zone, a window (start, end) and
// an action run on the instance at each fire, in a stream of its own (`vmschedule-<id>`). The
// aggregate decides what each fire of its timer does — run, skip it for an earlier schedule of the
// instance that fires in the same minute ("first created wins"), or record the fires vmledger was not
// running for as missed — and remembers the last fire it handled, so a fire is handled once whichever
// process fires the timer and however often a crash makes its handler run again. Whether the action
// fits the instance's state is the instance's decision (domain/instance/decide-schedule.ts).
import { optionalText } from '../config/validation.js';
import { reject, type Decider, type Decision, type DomainEvent } from '../shared/decider.js';
import { isCron, isTimeZone, nextFire, parseCron, firesAt, type Cron } from './cron.js';

/** The stream's name: the one place it is spelled. */
export const VM_SCHEDULE_STREAM_PREFIX = 'vmschedule-';

export function vmScheduleStream(scheduleId: string): string {
  return `${VM_SCHEDULE_STREAM_PREFIX}${scheduleId}`;
}

export const VM_SCHEDULE_ACTIONS = ['START', 'STOP', 'FORCE_STOP', 'REBOOT', 'FORCE_REBOOT'] as const;
export type VMScheduleAction = (typeof VM_SCHEDULE_ACTIONS)[number];

/** What decides when a schedule fires. Dates are ISO-8601 UTC. */
export interface ScheduleTiming {
  readonly scheduleId: string;
  readonly schedule: string;
  readonly timeZone: string;
  readonly startDate: string;
  readonly endDate: string | null;
}

export interface ScheduleDefinition extends ScheduleTiming {
  readonly description: string;
  readonly enabled: boolean;
}

export interface VMSchedule extends ScheduleDefinition {
  readonly exists: true;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly accountId: string;
  readonly action: VMScheduleAction;
  readonly created: string;
  readonly deleted: boolean;
  /** The fire its timer is armed for, while enabled. */
  readonly nextFireAt: string | null;
  /** The latest fire handled (run, skipped or missed): no fire at or before it is handled again. */
  readonly lastFireAt: string | null;
  /** The job of the latest fire that ran, until its outcome on the instance is known. */
  readonly running: { readonly fireAt: string; readonly jobId: string } | null;
}

export type VMScheduleState = VMSchedule | { readonly exists: false };

interface Base {
  readonly scheduleId: string;
  /** ISO-8601 UTC, the caller's clock. */
  readonly at: string;
}

export type VMScheduleCommand =
  | (Base & {
      readonly type: 'CreateVMSchedule';
      readonly instanceId: string;
      readonly instanceName: string;
      readonly accountId: string;
      readonly domainId: string;
      readonly action: VMScheduleAction;
      readonly schedule: string;
      readonly timeZone: string;
      readonly description: string | null;
      readonly startDate: string | null;
      readonly endDate: string | null;
      readonly enabled: boolean;
    })
  | (Base & {
      readonly type: 'UpdateVMSchedule';
      readonly schedule?: string | null;
      readonly timeZone?: string | null;
      readonly description?: string | null;
      readonly startDate?: string | null;
      readonly endDate?: string | null;
      readonly enabled?: boolean | null;
    })
  | (Base & { readonly type: 'DeleteVMSchedule' })
  /** Arms the next fire strictly after `after` (and not before the start), or disables a schedule that has none left. */
  | (Base & { readonly type: 'ArmVMSchedule'; readonly after: string })
  /**
   * The timer armed for `dueAt` fired at `at`. `earlier`: the instance's other enabled schedules
   * created before this one, whose fire in the same minute wins over this one's.
   */
  | (Base & { readonly type: 'FireVMSchedule'; readonly dueAt: string; readonly jobId: string; readonly earlier: readonly ScheduleTiming[] })
  /** The instance refused the fire's action (it does not fit its state): the fire is recorded as skipped. */
  | (Base & { readonly type: 'SkipVMScheduleFire'; readonly fireAt: string; readonly reason: string })
  | (Base & { readonly type: 'DisableVMSchedule'; readonly reason: DisableReason });

export type DisableReason = 'INSTANCE_EXPUNGED' | 'END_DATE' | 'NO_NEXT_FIRE';

type Named = { readonly scheduleId: string; readonly instanceId: string; readonly instanceName: string; readonly action: VMScheduleAction };

export type VMScheduleEvent =
  | DomainEvent<'VMScheduleCreated', Named & ScheduleDefinition & { readonly accountId: string; readonly domainId: string; readonly created: string }>
  | DomainEvent<'VMScheduleUpdated', Named & ScheduleDefinition>
  | DomainEvent<'VMScheduleDeleted', Named>
  | DomainEvent<'VMScheduleArmed', Named & { readonly fireAt: string }>
  | DomainEvent<'VMScheduleFired', Named & { readonly fireAt: string; readonly jobId: string }>
  | DomainEvent<'VMScheduleFireSkipped', Named & { readonly fireAt: string; readonly reason: string }>
  | DomainEvent<'VMScheduleFiresMissed', Named & { readonly first: string; readonly last: string; readonly count: number }>
  | DomainEvent<'VMScheduleDisabled', Named & { readonly reason: DisableReason }>;

/** CloudStack's messages (VMScheduleManagerImpl) where it has one. */
export const scheduleMessages = {
  invalidAction: (action: string) => `Invalid value for action: ${action}`,
  invalidCron: (detail: string) => `Invalid cron format: ${detail}`,
  invalidTimeZone: (zone: string) => `Invalid value for timezone: ${zone}; an IANA time zone such as Europe/Paris is expected`,
  invalidDate: (field: string, value: string) => `Invalid value for ${field}: ${JSON.stringify(value)} is not a date`,
  startBeforeNow: (start: string, now: string) => `Invalid value for start date. Start date [${start}] can't be before current time [${now}].`,
  endBeforeNow: (end: string, now: string) => `Invalid value for end date. End date [${end}] can't be before current time [${now}].`,
  endBeforeStart: (end: string, start: string) => `Invalid value for end date. End date [${end}] can't be before start date [${start}].`,
  notFound: "VM schedule doesn't exist",
  endDateCleared: 'Invalid value for end date. An end date cannot be cleared',
  descriptionTooLong: 'Invalid value for description: at most 1024 characters',
};

const MINUTE_MS = 60_000;
/** Missed fires are counted one by one up to this many; beyond, the count says "at least". */
const MISSED_COUNT_LIMIT = 10_000;

const iso = (ms: number) => new Date(ms).toISOString();

function cronOf(schedule: string): Cron {
  const cron = parseCron(schedule);
  if (!isCron(cron)) throw new Error(`stored schedule ${JSON.stringify(schedule)} does not parse: ${cron.error}`);
  return cron;
}

/** The first fire of a timing strictly after `afterMs`, within its window; null when none is left. */
export function nextFireOf(timing: ScheduleTiming, afterMs: number): number | null {
  const from = Math.max(afterMs, Date.parse(timing.startDate) - 1);
  const next = nextFire(cronOf(timing.schedule), timing.timeZone, from);
  if (next === null || (timing.endDate !== null && next > Date.parse(timing.endDate))) return null;
  return next;
}

function firesWithin(timing: ScheduleTiming, atMs: number): boolean {
  if (atMs < Date.parse(timing.startDate) || (timing.endDate !== null && atMs > Date.parse(timing.endDate))) return false;
  return firesAt(cronOf(timing.schedule), timing.timeZone, atMs);
}

/** CloudStack's default description: the action and the schedule. */
function defaultDescription(action: VMScheduleAction, schedule: string, timeZone: string): string {
  return `${action} - ${schedule.trim().split(/\s+/).join(' ')} (${timeZone})`;
}

interface Window {
  readonly startDate: string;
  readonly endDate: string | null;
}

/** Cron, zone and dates checked as CloudStack's createSchedule/updateSchedule do, in its order. */
function validated(
  input: { schedule: string; timeZone: string; startDate: string | null; endDate: string | null; description: string | null },
  at: string,
  checkStart: boolean,
): Window | ReturnType<typeof reject> {
  const cron = parseCron(input.schedule);
  if (!isCron(cron)) return reject('BAD_USER_INPUT', scheduleMessages.invalidCron(cron.error), 'schedule');
  if (!isTimeZone(input.timeZone)) return reject('BAD_USER_INPUT', scheduleMessages.invalidTimeZone(input.timeZone), 'timeZone');
  if (input.description !== null && input.description.length > 1024) return reject('BAD_USER_INPUT', scheduleMessages.descriptionTooLong, 'description');
  const text = optionalText(input.description, 'description', 'Description', 1024);
  if (text) return text;
  for (const [field, value] of [['startDate', input.startDate], ['endDate', input.endDate]] as const) {
    if (value !== null && Number.isNaN(Date.parse(value))) return reject('BAD_USER_INPUT', scheduleMessages.invalidDate(field, value), field);
  }
  const now = Date.parse(at);
  // Without a start date a schedule starts a minute from now (CloudStack's default).
  const start = input.startDate === null ? iso(now + MINUTE_MS) : iso(Date.parse(input.startDate));
  if (checkStart && input.startDate !== null && Date.parse(start) < now) return reject('BAD_USER_INPUT', scheduleMessages.startBeforeNow(start, at), 'startDate');
  if (input.endDate !== null) {
    const end = iso(Date.parse(input.endDate));
    if (Date.parse(end) < now) return reject('BAD_USER_INPUT', scheduleMessages.endBeforeNow(end, at), 'endDate');
    if (Date.parse(end) < Date.parse(start)) return reject('BAD_USER_INPUT', scheduleMessages.endBeforeStart(end, start), 'endDate');
    return { startDate: start, endDate: end };
  }
  return { startDate: start, endDate: null };
}

const named = (s: VMSchedule): Named => ({ scheduleId: s.scheduleId, instanceId: s.instanceId, instanceName: s.instanceName, action: s.action });

function decideUpdate(command: Extract<VMScheduleCommand, { type: 'UpdateVMSchedule' }>, s: VMSchedule): Decision<VMScheduleEvent> {
  if (command.endDate === null) return reject('BAD_USER_INPUT', scheduleMessages.endDateCleared, 'endDate');
  const schedule = command.schedule ?? s.schedule;
  const timeZone = command.timeZone ?? s.timeZone;
  const now = Date.parse(command.at);
  // A start already past moves to a minute from now, unless a start is given (CloudStack's updateSchedule).
  const startDate = command.startDate ?? (Date.parse(s.startDate) < now + MINUTE_MS ? iso(now + MINUTE_MS) : s.startDate);
  const endDate = command.endDate ?? s.endDate;
  const dateChanged = command.startDate != null || command.endDate != null || (command.timeZone != null && command.timeZone !== s.timeZone);
  const window = validated({ schedule, timeZone, startDate, endDate: dateChanged ? endDate : null, description: command.description ?? null }, command.at, command.startDate != null);
  if ('kind' in window) return window;
  const next: ScheduleDefinition = {
    scheduleId: s.scheduleId,
    schedule: schedule.trim().split(/\s+/).join(' '),
    timeZone,
    startDate: window.startDate,
    endDate: dateChanged ? window.endDate : s.endDate,
    description: command.description ?? s.description,
    enabled: command.enabled ?? s.enabled,
  };
  const same = (Object.keys(next) as Array<keyof ScheduleDefinition>).every((key) => next[key] === s[key]);
  return same ? [] : [{ type: 'VMScheduleUpdated', data: { ...named(s), ...next } }];
}

/**
 * The fires from `dueAt` to `at`: the last one runs unless it is a period old or more (the next fire
 * after it is due too, as past an end date), and the ones before it were missed: vmledger was not
 * running, and a fire is never run late more than once.
 */
function firePlan(s: VMSchedule, dueMs: number, atMs: number): { missed: { first: number; last: number; count: number } | null; run: number | null } {
  const cron = cronOf(s.schedule);
  const startMs = Date.parse(s.startDate);
  const endMs = s.endDate === null ? Number.POSITIVE_INFINITY : Date.parse(s.endDate);
  let first: number | null = null;
  let beforeLast: number | null = null;
  let last: number | null = null;
  let count = 0;
  for (let cursor = Math.max(dueMs, startMs) - 1; ; ) {
    const next = nextFire(cron, s.timeZone, cursor);
    if (next === null || next > atMs || next > endMs) break;
    count++;
    first ??= next;
    beforeLast = last;
    last = next;
    // A long outage of a frequent schedule: counted up to a limit, then on to the latest fires.
    cursor = count === MISSED_COUNT_LIMIT ? Math.max(next, atMs - 86_400_000) : next;
  }
  if (first === null || last === null) return { missed: null, run: null };
  // The period after the last fire: when the next fire is due too, the last one is a period old.
  const after = nextFire(cron, s.timeZone, last);
  const run = after !== null && after <= atMs ? null : last;
  const missedCount = run === null ? count : count - 1;
  if (missedCount === 0) return { missed: null, run };
  return { missed: { first, last: run === null ? last : (beforeLast ?? first), count: missedCount }, run };
}

function decideFire(command: Extract<VMScheduleCommand, { type: 'FireVMSchedule' }>, s: VMSchedule): Decision<VMScheduleEvent> {
  const dueMs = Date.parse(command.dueAt);
  const atMs = Date.parse(command.at);
  if (atMs < dueMs) return reject('INVALID_STATE', `Schedule ${s.scheduleId} is due at ${command.dueAt}, not at ${command.at}`, 'at');
  // A stale timer (the schedule was changed, disabled or deleted since) or a fire handled already.
  if (s.deleted || !s.enabled || (s.lastFireAt !== null && Date.parse(s.lastFireAt) >= dueMs)) return [];
  const plan = firePlan(s, dueMs, atMs);
  const events: VMScheduleEvent[] = [];
  if (plan.missed) events.push({ type: 'VMScheduleFiresMissed', data: { ...named(s), first: iso(plan.missed.first), last: iso(plan.missed.last), count: plan.missed.count } });
  if (plan.run !== null) {
    const fireAt = iso(plan.run);
    const winner = command.earlier.find((other) => firesWithin(other, plan.run!));
    events.push(
      winner
        ? { type: 'VMScheduleFireSkipped', data: { ...named(s), fireAt, reason: `conflict with schedule ${winner.scheduleId}, created earlier, firing in the same minute` } }
        : { type: 'VMScheduleFired', data: { ...named(s), fireAt, jobId: command.jobId } },
    );
  }
  return events;
}

function decideArm(command: Extract<VMScheduleCommand, { type: 'ArmVMSchedule' }>, s: VMSchedule): Decision<VMScheduleEvent> {
  if (s.deleted || !s.enabled) return [];
  const atMs = Date.parse(command.at);
  if (s.endDate !== null && Date.parse(s.endDate) < atMs) return [{ type: 'VMScheduleDisabled', data: { ...named(s), reason: 'END_DATE' } }];
  const next = nextFireOf(s, Math.max(Date.parse(command.after), s.lastFireAt === null ? -Infinity : Date.parse(s.lastFireAt)));
  if (next === null) return [{ type: 'VMScheduleDisabled', data: { ...named(s), reason: s.endDate === null ? 'NO_NEXT_FIRE' : 'END_DATE' } }];
  const fireAt = iso(next);
  return fireAt === s.nextFireAt ? [] : [{ type: 'VMScheduleArmed', data: { ...named(s), fireAt } }];
}

export const vmScheduleDecider: Decider<VMScheduleCommand, VMScheduleState, VMScheduleEvent> = {
  initialState: { exists: false },
  decide(command, state) {
    if (command.type === 'CreateVMSchedule') {
      if (state.exists) return reject('CONFLICT', `VM schedule ${command.scheduleId} already exists`);
      const window = validated(command, command.at, true);
      if ('kind' in window) return window;
      const schedule = command.schedule.trim().split(/\s+/).join(' ');
      return [
        {
          type: 'VMScheduleCreated',
          data: {
            scheduleId: command.scheduleId,
            instanceId: command.instanceId,
            instanceName: command.instanceName,
            accountId: command.accountId,
            domainId: command.domainId,
            action: command.action,
            schedule,
            timeZone: command.timeZone,
            description: command.description ?? defaultDescription(command.action, schedule, command.timeZone),
            startDate: window.startDate,
            endDate: window.endDate,
            enabled: command.enabled,
            created: command.at,
          },
        },
      ];
    }
    if (!state.exists || (state.deleted && command.type !== 'DeleteVMSchedule')) return reject('NOT_FOUND', scheduleMessages.notFound, 'id');
    switch (command.type) {
      case 'UpdateVMSchedule':
        return decideUpdate(command, state);
      case 'DeleteVMSchedule':
        return state.deleted ? [] : [{ type: 'VMScheduleDeleted', data: named(state) }];
      case 'ArmVMSchedule':
        return decideArm(command, state);
      case 'FireVMSchedule':
        return decideFire(command, state);
      case 'SkipVMScheduleFire':
        // Only the fire that ran, once: a handler run again after a crash records nothing twice.
        if (state.running?.fireAt !== command.fireAt) return [];
        return [{ type: 'VMScheduleFireSkipped', data: { ...named(state), fireAt: command.fireAt, reason: command.reason } }];
      case 'DisableVMSchedule':
        return state.enabled ? [{ type: 'VMScheduleDisabled', data: { ...named(state), reason: command.reason } }] : [];
    }
  },
  evolve(state, event) {
    if (event.type === 'VMScheduleCreated') {
      const { domainId: _domainId, ...data } = event.data;
      return { exists: true, ...data, deleted: false, nextFireAt: null, lastFireAt: null, running: null };
    }
    if (!state.exists) return state;
    switch (event.type) {
      case 'VMScheduleUpdated': {
        const { scheduleId, schedule, timeZone, description, startDate, endDate, enabled } = event.data;
        // A changed schedule is armed afresh: the timer's fire no longer stands.
        return { ...state, scheduleId, schedule, timeZone, description, startDate, endDate, enabled, nextFireAt: null };
      }
      case 'VMScheduleDeleted':
        return { ...state, deleted: true, enabled: false, nextFireAt: null };
      case 'VMScheduleArmed':
        return { ...state, nextFireAt: event.data.fireAt };
      case 'VMScheduleFired':
        return { ...state, lastFireAt: event.data.fireAt, nextFireAt: null, running: { fireAt: event.data.fireAt, jobId: event.data.jobId } };
      case 'VMScheduleFireSkipped':
        return { ...state, lastFireAt: event.data.fireAt, nextFireAt: null, running: null };
      case 'VMScheduleFiresMissed':
        return { ...state, lastFireAt: event.data.last, nextFireAt: null };
      case 'VMScheduleDisabled':
        return { ...state, enabled: false, nextFireAt: null };
    }
  },
};
