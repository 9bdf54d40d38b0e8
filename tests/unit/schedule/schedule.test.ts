// Instance schedules (behaviour §5.2), given/when/then on the schedule decider: CloudStack's refusals,
// the defaults, updates, the arming of the next fire in the schedule's zone (across DST changes), and
// what a fire does — runs once, is skipped for an earlier schedule firing the same minute, records the
// fires an outage made a period old as missed — and disabling when no fire is left.
import { describe, expect, it } from 'vitest';
import { vmScheduleDecider, type VMScheduleCommand, type VMScheduleEvent } from '../../../domain/schedule/index.js';
import { given } from '../../support/given.js';

const AT = '2026-03-01T10:00:00.000Z';
const named = { scheduleId: 's1', instanceId: 'vm-1', instanceName: 'web-1', action: 'STOP' } as const;

const create = (fields: Partial<Extract<VMScheduleCommand, { type: 'CreateVMSchedule' }>> = {}): VMScheduleCommand => ({
  type: 'CreateVMSchedule',
  scheduleId: 's1',
  at: AT,
  instanceId: 'vm-1',
  instanceName: 'web-1',
  accountId: 'acct-1',
  domainId: 'dom-1',
  action: 'STOP',
  schedule: '0 22 * * *',
  timeZone: 'Europe/Paris',
  description: null,
  startDate: null,
  endDate: null,
  enabled: true,
  ...fields,
});

const created = (fields: Partial<Extract<VMScheduleEvent, { type: 'VMScheduleCreated' }>['data']> = {}): VMScheduleEvent => ({
  type: 'VMScheduleCreated',
  data: {
    ...named,
    accountId: 'acct-1',
    domainId: 'dom-1',
    schedule: '0 22 * * *',
    timeZone: 'Europe/Paris',
    description: 'STOP - 0 22 * * * (Europe/Paris)',
    startDate: '2026-03-01T10:01:00.000Z',
    endDate: null,
    enabled: true,
    created: AT,
    ...fields,
  },
});

const arm = (after = AT, at = after): VMScheduleCommand => ({ type: 'ArmVMSchedule', scheduleId: 's1', at, after });
const armed = (fireAt: string): VMScheduleEvent => ({ type: 'VMScheduleArmed', data: { ...named, fireAt } });
const fire = (dueAt: string, at: string, earlier: Extract<VMScheduleCommand, { type: 'FireVMSchedule' }>['earlier'] = [], jobId = 'job-1'): VMScheduleCommand => ({
  type: 'FireVMSchedule',
  scheduleId: 's1',
  at,
  dueAt,
  jobId,
  earlier,
});
const fired = (fireAt: string, jobId = 'job-1'): VMScheduleEvent => ({ type: 'VMScheduleFired', data: { ...named, fireAt, jobId } });

describe('creating a schedule', () => {
  it('starts a minute from now by default, with CloudStack-style default description, the cron normalised', () => {
    given(vmScheduleDecider).when(create({ schedule: ' 0  22 * * * ' })).then([created()]);
  });

  it.each([
    [{ schedule: '61 * * * *' }, 'schedule', /^Invalid cron format: Constraint error, got value 61 expected range 0-59$/],
    [{ schedule: '0 0 * * * *' }, 'schedule', /^Invalid cron format: a schedule has five fields/],
    [{ schedule: 'H * * * *' }, 'schedule', /^Invalid cron format: "H"/],
    // A date that never comes (February 30th).
    [{ schedule: '0 0 30 2 *' }, 'schedule', 'Invalid cron format: Invalid explicit day of month definition'],
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone', /^Invalid value for timezone: Mars\/Olympus_Mons/],
    [{ startDate: 'tomorrow' }, 'startDate', 'Invalid value for startDate: "tomorrow" is not a date'],
    [{ startDate: '2026-03-01T09:00:00.000Z' }, 'startDate', `Invalid value for start date. Start date [2026-03-01T09:00:00.000Z] can't be before current time [${AT}].`],
    [{ endDate: '2026-03-01T09:00:00.000Z' }, 'endDate', `Invalid value for end date. End date [2026-03-01T09:00:00.000Z] can't be before current time [${AT}].`],
    [
      { startDate: '2026-03-03T00:00:00.000Z', endDate: '2026-03-02T00:00:00.000Z' },
      'endDate',
      "Invalid value for end date. End date [2026-03-02T00:00:00.000Z] can't be before start date [2026-03-03T00:00:00.000Z].",
    ],
  ] as const)('refuses %j', (fields, field, message) => {
    given(vmScheduleDecider).when(create(fields)).then('BAD_USER_INPUT', { field, message });
  });

  it('refuses a second creation of the same id', () => {
    given(vmScheduleDecider, [created()]).when(create()).then('CONFLICT');
  });
});

describe('updating and deleting', () => {
  it('keeps what is not given; a start already past moves to a minute from now', () => {
    const later = '2026-03-05T10:00:00.000Z';
    given(vmScheduleDecider, [created()])
      .when({ type: 'UpdateVMSchedule', scheduleId: 's1', at: later, schedule: '30 7 * * 1-5', enabled: false })
      .then([
        {
          type: 'VMScheduleUpdated',
          data: { ...named, schedule: '30 7 * * 1-5', timeZone: 'Europe/Paris', description: 'STOP - 0 22 * * * (Europe/Paris)', startDate: '2026-03-05T10:01:00.000Z', endDate: null, enabled: false },
        },
      ]);
  });

  it('refuses clearing the end date, a bad cron, an end before the start, and an unknown or deleted schedule', () => {
    const history = [created({ endDate: '2026-04-01T00:00:00.000Z' })];
    given(vmScheduleDecider, history).when({ type: 'UpdateVMSchedule', scheduleId: 's1', at: AT, endDate: null }).then('BAD_USER_INPUT', { field: 'endDate' });
    given(vmScheduleDecider, history).when({ type: 'UpdateVMSchedule', scheduleId: 's1', at: AT, schedule: 'every day' }).then('BAD_USER_INPUT', { field: 'schedule' });
    given(vmScheduleDecider, history)
      .when({ type: 'UpdateVMSchedule', scheduleId: 's1', at: AT, startDate: '2026-03-10T00:00:00.000Z', endDate: '2026-03-09T00:00:00.000Z' })
      .then('BAD_USER_INPUT', { field: 'endDate', message: /can't be before start date/ });
    given(vmScheduleDecider).when({ type: 'UpdateVMSchedule', scheduleId: 's1', at: AT, enabled: false }).then('NOT_FOUND', { message: "VM schedule doesn't exist" });
    given(vmScheduleDecider, [created(), { type: 'VMScheduleDeleted', data: named }])
      .when({ type: 'UpdateVMSchedule', scheduleId: 's1', at: AT, enabled: false })
      .then('NOT_FOUND', { message: "VM schedule doesn't exist" });
  });

  it('deletes once', () => {
    given(vmScheduleDecider, [created()]).when({ type: 'DeleteVMSchedule', scheduleId: 's1', at: AT }).then([{ type: 'VMScheduleDeleted', data: named }]);
    given(vmScheduleDecider, [created(), { type: 'VMScheduleDeleted', data: named }]).when({ type: 'DeleteVMSchedule', scheduleId: 's1', at: AT }).then([]);
  });
});

describe('arming the next fire in the schedule zone', () => {
  it('arms the first fire after the start, 22:00 Paris time (21:00 UTC in winter), once', () => {
    given(vmScheduleDecider, [created()]).when(arm()).then([armed('2026-03-01T21:00:00.000Z')]);
    given(vmScheduleDecider, [created(), armed('2026-03-01T21:00:00.000Z')]).when(arm()).then([]);
  });

  it('fires a 02:30 schedule once on a spring-forward day (at 03:30) and once on a fall-back day', () => {
    const berlin = created({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin', startDate: '2026-03-28T00:00:00.000Z' });
    // 2026-03-29: 02:00 CET → 03:00 CEST; 02:30 does not exist and fires at 03:30 CEST (01:30 UTC).
    given(vmScheduleDecider, [berlin]).when(arm('2026-03-28T02:00:00.000Z')).then([armed('2026-03-29T01:30:00.000Z')]);
    given(vmScheduleDecider, [berlin]).when(arm('2026-03-29T01:30:00.000Z')).then([armed('2026-03-30T00:30:00.000Z')]);
    // 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens twice and fires once.
    const october = created({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin', startDate: '2026-10-24T02:00:00.000Z' });
    const first = given(vmScheduleDecider, [october]).when(arm('2026-10-24T02:00:00.000Z')).accepted();
    const fireAt = (first[0] as Extract<VMScheduleEvent, { type: 'VMScheduleArmed' }>).data.fireAt;
    expect(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']).toContain(fireAt);
    given(vmScheduleDecider, [october]).when(arm(fireAt)).then([armed('2026-10-26T01:30:00.000Z')]);
  });

  it('disables a schedule with no fire left before its end date, or past it', () => {
    const ending = created({ endDate: '2026-03-02T00:00:00.000Z' });
    given(vmScheduleDecider, [ending]).when(arm('2026-03-01T21:00:00.000Z')).then([{ type: 'VMScheduleDisabled', data: { ...named, reason: 'END_DATE' } }]);
    given(vmScheduleDecider, [ending]).when(arm(AT, '2026-03-03T00:00:00.000Z')).then([{ type: 'VMScheduleDisabled', data: { ...named, reason: 'END_DATE' } }]);
  });

  it('arms nothing for a disabled schedule', () => {
    given(vmScheduleDecider, [created({ enabled: false })]).when(arm()).then([]);
  });
});

describe('a fire', () => {
  const due = '2026-03-01T21:00:00.000Z';
  const history = [created(), armed(due)];

  it('runs at or after its due time, once, whoever fires it and however often', () => {
    given(vmScheduleDecider, history).when(fire(due, '2026-03-01T21:00:00.400Z')).then([fired(due)]);
    given(vmScheduleDecider, [...history, fired(due)]).when(fire(due, '2026-03-01T21:00:01.000Z', [], 'job-2')).then([]);
  });

  it('is refused before its due time', () => {
    given(vmScheduleDecider, history).when(fire(due, '2026-03-01T20:59:59.999Z')).then('INVALID_STATE', { message: /is due at/ });
  });

  it('is skipped when a schedule of the instance created earlier fires in the same minute (first created wins)', () => {
    const earlier = { scheduleId: 's0', schedule: '*/30 * * * *', timeZone: 'UTC', startDate: '2026-01-01T00:00:00.000Z', endDate: null };
    given(vmScheduleDecider, history)
      .when(fire(due, due, [earlier]))
      .then([{ type: 'VMScheduleFireSkipped', data: { ...named, fireAt: due, reason: 'conflict with schedule s0, created earlier, firing in the same minute' } }]);
    // One that does not fire that minute, or whose window is over, does not win it.
    given(vmScheduleDecider, history).when(fire(due, due, [{ ...earlier, schedule: '15 * * * *' }])).then([fired(due)]);
    given(vmScheduleDecider, history).when(fire(due, due, [{ ...earlier, endDate: '2026-03-01T20:00:00.000Z' }])).then([fired(due)]);
  });

  it('after an outage runs the latest fire if it is less than a period old, and records the older ones as missed', () => {
    // Down from before 21:00 on day 1 to 09:00 on day 4: fires of days 1, 2, 3 were due; day 3's is 12 hours old.
    given(vmScheduleDecider, history)
      .when(fire(due, '2026-03-04T09:00:00.000Z'))
      .then([
        { type: 'VMScheduleFiresMissed', data: { ...named, first: due, last: '2026-03-02T21:00:00.000Z', count: 2 } },
        fired('2026-03-03T21:00:00.000Z'),
      ]);
  });

  it('records a fire a period old or more as missed, as past its end date', () => {
    const ending = [created({ endDate: '2026-03-02T00:00:00.000Z' }), armed(due)];
    given(vmScheduleDecider, ending)
      .when(fire(due, '2026-03-02T21:30:00.000Z'))
      .then([{ type: 'VMScheduleFiresMissed', data: { ...named, first: due, last: due, count: 1 } }]);
  });

  it('does nothing for a timer gone stale: the schedule disabled or deleted since', () => {
    given(vmScheduleDecider, [...history, { type: 'VMScheduleDisabled', data: { ...named, reason: 'INSTANCE_EXPUNGED' } }]).when(fire(due, due)).then([]);
    given(vmScheduleDecider, [...history, { type: 'VMScheduleDeleted', data: named }]).when(fire(due, due)).then('NOT_FOUND');
  });

  it('records the skip the instance asked for once, and only for the fire that ran', () => {
    const ran = [...history, fired(due)];
    const skip: VMScheduleCommand = { type: 'SkipVMScheduleFire', scheduleId: 's1', at: due, fireAt: due, reason: 'instance web-1 is Stopped' };
    given(vmScheduleDecider, ran).when(skip).then([{ type: 'VMScheduleFireSkipped', data: { ...named, fireAt: due, reason: 'instance web-1 is Stopped' } }]);
    given(vmScheduleDecider, [...ran, { type: 'VMScheduleFireSkipped', data: { ...named, fireAt: due, reason: 'instance web-1 is Stopped' } }]).when(skip).then([]);
    given(vmScheduleDecider, history).when(skip).then([]);
  });
});
