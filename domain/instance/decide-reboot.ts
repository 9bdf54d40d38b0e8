// rebootVirtualMachine and its outcomes. A reboot happens inside Running: no edge is taken until it
// succeeds (Running --OperationSucceeded--> Running), and no usage is written (behaviour §2.3). An
// instance with a volatile root is restored instead (behaviour §1.4: stopped, a fresh root from its
// template, started again), as CloudStack's rebootVirtualMachine does for `isVolatileVm()`.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { RebootInstance, RecordRebootFailed, RecordRebootSucceeded } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import { expectMove, expectPending } from './outcome.js';
import type { Instance } from './state.js';
import { freshVolatileRoot } from './volatile.js';

export function decideReboot(command: RebootInstance, instance: Instance): Decision<InstanceEvent> {
  if (instance.state !== 'Running') return reject('INVALID_STATE', messages.rebootNotRunning(instance));
  if (instance.pending !== null) return reject('INVALID_STATE', messages.busy(instance, instance.pending));
  const fresh = freshVolatileRoot(instance, command.jobId);
  if (fresh) {
    const to = expectMove(instance, 'StopRequested', 'Stopping');
    if (isRejection(to)) return to;
    const afterStop = { action: 'restore', jobId: command.jobId, template: instance.template, rootVolume: fresh, expungeOldRoot: true } as const;
    return [{ type: 'InstanceStopRequested', data: { instanceId: instance.id, jobId: command.jobId, forced: command.forced, afterStop, state: to } }];
  }
  return [
    {
      type: 'InstanceRebootRequested',
      data: { instanceId: instance.id, jobId: command.jobId, forced: command.forced, hostId: instance.hostId },
    },
  ];
}

export function decideRebootSucceeded(command: RecordRebootSucceeded, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationSucceeded', 'Running');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'reboot', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceRebooted', data: { instanceId: instance.id, jobId: command.jobId, state: to, settledAt: command.at } }];
}

export function decideRebootFailed(command: RecordRebootFailed, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'reboot', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceRebootFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason, settledAt: command.at } }];
}
