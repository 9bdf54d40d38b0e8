// A lease acts at most once (behaviour §3.7: "expiry action is executed at most once"), whatever
// the interleaving of updates, feature toggles, timer firings (repeated: two processes, restarts),
// job failures and the user's own starts and stops: no action before the expiry in force, none while
// the feature is off, none after the lease was disabled, cancelled or done; a failed action may be
// retried, but once one succeeded there is never another.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceCommand, type InstanceEvent, type InstanceState } from '../../domain/instance/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { ID, cmd, deploy } from '../unit/instance/fixtures.js';

const START = Date.parse('2025-03-01T10:00:00.000Z');
const HOUR = 3_600_000;
const SYSTEM = { role: 'ROOT_ADMIN', accountId: 'system' } as const;

type Op =
  | { readonly kind: 'time'; readonly hours: number }
  | { readonly kind: 'update'; readonly days: number; readonly action: 'STOP' | 'DESTROY' }
  | { readonly kind: 'disable' }
  | { readonly kind: 'toggle'; readonly on: boolean }
  | { readonly kind: 'fire' }
  | { readonly kind: 'jobEnds'; readonly ok: boolean }
  | { readonly kind: 'userStart' }
  | { readonly kind: 'userStop' }
  | { readonly kind: 'protect'; readonly on: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('time' as const), hours: fc.integer({ min: 1, max: 72 }) }),
  fc.record({ kind: fc.constant('update' as const), days: fc.integer({ min: 1, max: 3 }), action: fc.constantFrom('STOP' as const, 'DESTROY' as const) }),
  fc.record({ kind: fc.constant('disable' as const) }),
  fc.record({ kind: fc.constant('toggle' as const), on: fc.boolean() }),
  fc.record({ kind: fc.constant('fire' as const) }),
  fc.record({ kind: fc.constant('fire' as const) }),
  fc.record({ kind: fc.constant('jobEnds' as const), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('userStart' as const) }),
  fc.record({ kind: fc.constant('userStop' as const) }),
  fc.record({ kind: fc.constant('protect' as const), on: fc.boolean() }),
);

describe('instance lease (property)', () => {
  it('acts at most once, never early, never while off, never once disabled, cancelled or done', () => {
    fc.assert(
      fc.property(fc.constantFrom('STOP' as const, 'DESTROY' as const), fc.boolean(), fc.array(op, { maxLength: 40 }), (action, startVm, ops) => {
        let state: InstanceState = instanceDecider.initialState;
        let now = START;
        let enabled = true;
        let jobs = 0;
        const log: InstanceEvent[] = [];
        const run = (command: InstanceCommand): readonly InstanceEvent[] => {
          const decision = instanceDecider.decide(command, state);
          if (isRejection(decision)) return [];
          for (const event of decision) state = instanceDecider.evolve(state, event);
          log.push(...decision);
          return decision;
        };
        const at = () => new Date(now).toISOString();
        run({ ...deploy({ leaseDuration: 1, leaseExpiryAction: action, leaseFeatureEnabled: true }), at: at() });
        if (startVm) {
          run({ ...cmd.start('job-boot'), at: at() });
          run({ ...cmd.startOk('job-boot'), at: at() });
        }
        let succeeded = 0;
        for (const o of ops) {
          if (!state.exists) break;
          const before = state;
          switch (o.kind) {
            case 'time':
              now += o.hours * HOUR;
              break;
            case 'update':
              run({ ...cmd.update({ leaseDuration: o.days, leaseExpiryAction: o.action, leaseFeatureEnabled: enabled }), at: at() });
              break;
            case 'disable':
              run({ ...cmd.update({ leaseDuration: -1, leaseFeatureEnabled: enabled }), at: at() });
              break;
            case 'toggle':
              if (!o.on && enabled) run({ type: 'CancelLease', instanceId: ID.vm, at: at() });
              enabled = o.on;
              break;
            case 'fire': {
              const events = run({ type: 'ActOnLease', instanceId: ID.vm, at: at(), caller: SYSTEM, jobId: `lease-${++jobs}`, leaseFeatureEnabled: enabled });
              if (events.some((e) => e.type === 'LeaseExpired')) {
                expect(enabled).toBe(true);
                expect(before.leaseExecution).toBe('PENDING');
                expect(now).toBeGreaterThanOrEqual(Date.parse(before.leaseExpiryDate!));
                expect(succeeded).toBe(0);
              }
              break;
            }
            case 'jobEnds': {
              const pending = state.pending;
              if (pending?.kind !== 'stop') break;
              run(o.ok ? { ...cmd.stopOk(pending.jobId), at: at() } : { ...cmd.stopFail(pending.jobId), at: at() });
              break;
            }
            case 'userStart':
              run({ ...cmd.start(`user-${++jobs}`), at: at() });
              if (state.pending?.kind === 'start') run({ ...cmd.startOk(state.pending.jobId), at: at() });
              break;
            case 'userStop':
              run({ ...cmd.stop(`user-${++jobs}`), at: at() });
              break;
            case 'protect':
              run({ ...cmd.update({ deleteProtection: o.on }), at: at() });
              break;
          }
          if (state.exists && before.leaseExecution !== 'DONE' && state.leaseExecution === 'DONE') succeeded++;
          // DISABLED, DONE and CANCELLED are final.
          if (before.leaseExecution !== 'PENDING' && before.leaseExecution !== null) expect(state.exists && state.leaseExecution).toBe(before.leaseExecution);
        }
        expect(succeeded).toBeLessThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });
});
