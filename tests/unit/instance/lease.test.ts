// The lease after deployment (behaviour §3.5, §3.7), given/when/then on the instance decider: an
// update redefines or disables it; at expiry it acts once with a STOP or DESTROY request; it is
// announced within its last days; turning the feature off cancels it.
import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceCommand, type InstanceEvent } from '../../../domain/instance/index.js';
import { given } from '../../support/given.js';
import { AT, ID, cmd, deploy, eventsOf, instanceOf } from './fixtures.js';

const EXPIRY = '2025-03-02T10:00:00.000Z'; // AT + 1 day
const AFTER = '2025-03-02T10:00:01.000Z';
const SYSTEM = { role: 'ROOT_ADMIN', accountId: 'system' } as const;

const leased = (action: 'STOP' | 'DESTROY' = 'STOP') => deploy({ leaseDuration: 1, leaseExpiryAction: action, leaseFeatureEnabled: true });
const act = (at = AFTER, jobId = 'job-lease', leaseFeatureEnabled = true): InstanceCommand => ({ type: 'ActOnLease', instanceId: ID.vm, at, caller: SYSTEM, jobId, leaseFeatureEnabled });
const expired = (action: 'STOP' | 'DESTROY', done = false, jobId = 'job-lease'): InstanceEvent => ({
  type: 'LeaseExpired',
  data: { instanceId: ID.vm, name: 'web-1', expiryAction: action, jobId, done },
});
const stopRequested = (jobId = 'job-lease'): InstanceEvent => ({
  type: 'InstanceStopRequested',
  data: { instanceId: ID.vm, jobId, forced: false, afterStop: null, state: 'Stopping' },
});
const lease = (fields: { leaseDuration?: number | null; leaseExpiryAction?: string | null; at?: string; leaseFeatureEnabled?: boolean }) =>
  cmd.update({ leaseFeatureEnabled: true, ...fields });

describe('updating a lease (§3.5)', () => {
  it('redefines it from now, not from the old expiry, with its action, PENDING again', () => {
    const state = given(instanceDecider, eventsOf(leased()))
      .when(lease({ leaseDuration: 10, leaseExpiryAction: 'destroy', at: '2025-03-01T12:00:00.000Z' }))
      .then([{ type: 'LeaseUpdated', data: { instanceId: ID.vm, duration: 10, expiryAction: 'DESTROY', expiryDate: '2025-03-11T12:00:00.000Z' } }]);
    expect(state.exists && [state.leaseExpiryDate, state.leaseExecution]).toEqual(['2025-03-11T12:00:00.000Z', 'PENDING']);
  });

  it('disables it with -1, for good', () => {
    const state = given(instanceDecider, eventsOf(leased())).when(lease({ leaseDuration: -1 })).then([{ type: 'LeaseDisabled', data: { instanceId: ID.vm } }]);
    expect(state.exists && state.leaseExecution).toBe('DISABLED');
    given(instanceDecider, eventsOf(leased(), lease({ leaseDuration: -1 })))
      .when(lease({ leaseDuration: 5, leaseExpiryAction: 'STOP' }))
      .then('INVALID_STATE', { message: `Lease can't be applied on instance with id: ${ID.vm}, it doesn't have active lease`, field: 'leaseDuration' });
  });

  it('needs an action with a duration; a lone action asks for nothing', () => {
    given(instanceDecider, eventsOf(leased()))
      .when(lease({ leaseDuration: 5 }))
      .then('BAD_USER_INPUT', { message: 'Provide values for both: leaseduration and leaseexpiryaction', field: 'leaseExpiryAction' });
    given(instanceDecider, eventsOf(leased())).when(lease({ leaseExpiryAction: 'DESTROY' })).then([]);
  });

  it('is refused on an instance deployed without a lease, and on an expired lease', () => {
    given(instanceDecider, eventsOf(deploy()))
      .when(lease({ leaseDuration: 5, leaseExpiryAction: 'STOP' }))
      .then('INVALID_STATE', { message: `Lease can't be applied on instance with id: ${ID.vm}, it doesn't have lease associated during deployment` });
    given(instanceDecider, eventsOf(leased()))
      .when(lease({ leaseDuration: 5, leaseExpiryAction: 'STOP', at: AFTER }))
      .then('INVALID_STATE', { message: 'Lease is not allowed to be redefined on expired leased instance' });
  });

  it('is refused once the lease acted (DONE)', () => {
    given(instanceDecider, eventsOf(leased(), act()))
      .when(lease({ leaseDuration: 5, leaseExpiryAction: 'STOP', at: AT }))
      .then('INVALID_STATE', { message: /doesn't have active lease/ });
  });

  it('counts for nothing while the feature is off', () => {
    given(instanceDecider, eventsOf(leased())).when(lease({ leaseDuration: 5, leaseExpiryAction: 'STOP', leaseFeatureEnabled: false })).then([]);
  });
});

describe('acting on an expired lease (§3.7)', () => {
  const running = (action: 'STOP' | 'DESTROY' = 'STOP') => eventsOf(leased(action), cmd.start(), cmd.startOk());

  it('does nothing before the expiry, or while the feature is off', () => {
    given(instanceDecider, running()).when(act('2025-03-02T09:59:59.999Z')).then([]);
    given(instanceDecider, running()).when(act(AFTER, 'job-lease', false)).then([]);
  });

  it('at expiry stops a running instance through its job, and is DONE when the stop is recorded', () => {
    given(instanceDecider, running()).when(act(EXPIRY)).then([expired('STOP'), stopRequested()]);
    const acting = instanceOf(eventsOf(leased(), cmd.start(), cmd.startOk(), act()));
    expect([acting.leaseExecution, acting.leaseActionJobId]).toEqual(['PENDING', 'job-lease']);
    // While its job runs, a second look acts no more.
    given(instanceDecider, eventsOf(leased(), cmd.start(), cmd.startOk(), act())).when(act(AFTER, 'job-other')).then([]);
    const done = instanceOf(eventsOf(leased(), cmd.start(), cmd.startOk(), act(), cmd.stopOk('job-lease')));
    expect(done.leaseExecution).toBe('DONE');
    // Started again by its user, it is out of lease: nothing acts any more.
    given(instanceDecider, eventsOf(leased(), cmd.start(), cmd.startOk(), act(), cmd.stopOk('job-lease'), cmd.start('job-2'), cmd.startOk('job-2')))
      .when(act('2025-03-09T10:00:00.000Z', 'job-3'))
      .then([]);
  });

  it('acts again after a failed job (the lease stays PENDING)', () => {
    const failed = eventsOf(leased(), cmd.start(), cmd.startOk(), act(), cmd.stopFail('job-lease'));
    expect(instanceOf(failed).leaseExecution).toBe('PENDING');
    given(instanceDecider, failed).when(act(AFTER, 'job-retry')).then([expired('STOP', false, 'job-retry'), stopRequested('job-retry')]);
  });

  it('is DONE at once for a STOP lease on a stopped instance (its job has nothing to do)', () => {
    const state = given(instanceDecider, eventsOf(leased())).when(act()).then([expired('STOP', true)]);
    expect(state.exists && state.leaseExecution).toBe('DONE');
  });

  it('destroys without expunging, and is DONE with the destroy', () => {
    const events = given(instanceDecider, eventsOf(leased('DESTROY'))).when(act()).accepted();
    expect(events.map((e) => e.type)).toEqual(['LeaseExpired', 'InstanceDestroyed', 'usage.VM.DESTROY', 'usage.VOLUME.DELETE']);
    expect(events[1]).toMatchObject({ data: { jobId: 'job-lease', expunge: false, state: 'Destroyed' } });
    const after = instanceOf([...eventsOf(leased('DESTROY')), ...events]);
    expect([after.state, after.leaseExecution]).toEqual(['Destroyed', 'DONE']);
  });

  it('skips a DESTROY on a delete-protected instance (still PENDING, looked at again), but still STOPs one', () => {
    const protect = cmd.update({ deleteProtection: true });
    given(instanceDecider, eventsOf(leased('DESTROY'), protect)).when(act()).then([]);
    given(instanceDecider, eventsOf(leased('DESTROY'), protect, cmd.update({ deleteProtection: false }))).when(act()).accepted();
    given(instanceDecider, eventsOf(leased('STOP'), cmd.start(), cmd.startOk(), protect)).when(act()).then([expired('STOP'), stopRequested()]);
  });

  it('passes over an instance busy with another job or in a state the expiry task skips', () => {
    given(instanceDecider, eventsOf(leased(), cmd.start())).when(act()).then([]);
    given(instanceDecider, eventsOf(leased(), cmd.destroy())).when(act()).then([]);
  });
});

describe('announcing and cancelling a lease (§3.7)', () => {
  const announce = (at: string, daysBefore = 7): InstanceCommand => ({ type: 'AnnounceLeaseExpiry', instanceId: ID.vm, at, daysBefore });
  const cancel = (at: string): InstanceCommand => ({ type: 'CancelLease', instanceId: ID.vm, at });

  it('announces a PENDING lease that ends within the days before, not one further off or expired', () => {
    given(instanceDecider, eventsOf(leased()))
      .when(announce(AT))
      .then([{ type: 'LeaseExpiring', data: { instanceId: ID.vm, name: 'web-1', expiryAction: 'STOP', expiryDate: EXPIRY } }]);
    given(instanceDecider, eventsOf(leased())).when(announce('2025-02-20T10:00:00.000Z')).then([]);
    given(instanceDecider, eventsOf(leased())).when(announce(AFTER)).then([]);
    given(instanceDecider, eventsOf(leased(), lease({ leaseDuration: -1 }))).when(announce(AT)).then([]);
  });

  it('cancels a PENDING lease not yet expired, for good; an expired one is left as it is', () => {
    const state = given(instanceDecider, eventsOf(leased())).when(cancel(AT)).then([{ type: 'LeaseCancelled', data: { instanceId: ID.vm, name: 'web-1' } }]);
    expect(state.exists && state.leaseExecution).toBe('CANCELLED');
    given(instanceDecider, eventsOf(leased(), cancel(AT))).when(act()).then([]);
    given(instanceDecider, eventsOf(leased())).when(cancel(AFTER)).then([]);
  });
});
