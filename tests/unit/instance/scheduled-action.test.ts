// A schedule's fire on its instance (behaviour §5.2, VMSchedulerImpl.processJob), given/when/then on
// the instance decider: START on a Stopped instance and STOP/REBOOT (forced or not) on a Running one
// are the ordinary requests a user's would be; any other combination is refused with the reason the
// schedule records as a skipped fire; the same fire asked twice adds nothing.
import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceCommand, type InstanceEvent } from '../../../domain/instance/index.js';
import { fold, isRejection } from '../../../domain/shared/decider.js';
import type { VMScheduleAction } from '../../../domain/schedule/index.js';
import { given } from '../../support/given.js';
import { AT, ID, history } from './fixtures.js';

const SYSTEM = { role: 'ROOT_ADMIN', accountId: 'system' } as const;
const base = { instanceId: ID.vm, at: AT, caller: SYSTEM, jobId: 'job-sched' } as const;
const run = (action: VMScheduleAction, jobId = 'job-sched'): InstanceCommand => ({ type: 'RunScheduledAction', ...base, jobId, action, scheduleId: 's1' });

/** What the user's own request would append on this history. */
function ordinary(events: readonly InstanceEvent[], command: InstanceCommand): readonly InstanceEvent[] {
  const decision = instanceDecider.decide(command, fold(instanceDecider, events));
  if (isRejection(decision)) throw new Error(`${command.type}: ${decision.message}`);
  return decision;
}

describe('a scheduled action on its instance', () => {
  it.each([
    ['START', history.stopped, { type: 'StartInstance', ...base, hostId: null, considerLastHost: true }],
    ['STOP', history.running, { type: 'StopInstance', ...base, forced: false }],
    ['FORCE_STOP', history.running, { type: 'StopInstance', ...base, forced: true }],
    ['REBOOT', history.running, { type: 'RebootInstance', ...base, forced: false }],
    ['FORCE_REBOOT', history.running, { type: 'RebootInstance', ...base, forced: true }],
  ] as const)('%s is the ordinary request when it fits the state', (action, events, request) => {
    const expected = ordinary(events(), request as InstanceCommand);
    expect(expected.length).toBeGreaterThan(0);
    given(instanceDecider, events()).when(run(action)).then(expected);
  });

  it.each([
    ['START', history.running, /instance web-1 is Running$/],
    ['STOP', history.stopped, /instance web-1 is Stopped$/],
    ['REBOOT', history.stopped, /instance web-1 is Stopped$/],
    ['FORCE_STOP', history.destroyed, /instance web-1 is in an invalid state \(Destroyed\)$/],
    ['START', history.error, /invalid state \(Error\)$/],
  ] as const)('%s is refused (skipped) when it does not fit: %s', (action, events, message) => {
    given(instanceDecider, events()).when(run(action)).then('INVALID_STATE', { message });
  });

  it('is refused while the instance is busy with another job, and adds nothing when the same fire asks again', () => {
    given(instanceDecider, history.stopping()).when(run('STOP')).then('INVALID_STATE');
    const requested = [...history.running(), ...ordinary(history.running(), run('STOP'))];
    given(instanceDecider, requested).when(run('STOP')).then([]);
  });

  it('is unknown on an expunged instance (the schedule is then disabled)', () => {
    given(instanceDecider, history.expunged()).when(run('START')).then('NOT_FOUND');
  });
});
