// startVirtualMachine and the start saga's outcomes.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { RecordStartFailed, RecordStartRetried, RecordStartSucceeded, StartInstance } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import { Outcome, expectMove, expectPending } from './outcome.js';
import type { Instance } from './state.js';
import { restoreStopped } from './decide-restore.js';
import { startedUsage, vmUsage, volumeDeleted } from './usage.js';
import { freshVolatileRoot } from './volatile.js';

export function decideStart(command: StartInstance, instance: Instance): Decision<InstanceEvent> {
  const hostId = command.hostId ?? null;
  if (hostId !== null && command.caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', messages.hostIdForbidden, 'hostId');
  if (instance.state === 'Running') return reject('INVALID_STATE', messages.alreadyRunning(instance));
  const to = expectMove(instance, 'StartRequested', 'Starting', messages.cannot(instance, 'start'));
  if (isRejection(to)) return to;
  const outcome = new Outcome(instance);
  // A volatile root is replaced by a fresh copy of the template before every start but the first.
  const fresh = freshVolatileRoot(instance, command.jobId);
  if (fresh) restoreStopped(outcome, { jobId: command.jobId, template: instance.template, rootVolume: fresh, expungeOldRoot: true, at: command.at });
  return outcome.add({
    type: 'InstanceStartRequested',
    data: {
      instanceId: instance.id,
      jobId: command.jobId,
      requestedHostId: hostId,
      considerLastHost: command.considerLastHost,
      lastHostId: instance.lastHostId,
      state: to,
    },
  }).events;
}

export function decideStartSucceeded(command: RecordStartSucceeded, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationSucceeded', 'Running');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'start', command.jobId);
  if (isRejection(pending)) return pending;
  const outcome = new Outcome(instance).add({
    type: 'InstanceStarted',
    data: { instanceId: instance.id, jobId: command.jobId, hostId: command.hostId, state: to, settledAt: command.at },
  });
  return outcome.add(...startedUsage(outcome.state, command.at)).events;
}

export function decideStartRetried(command: RecordStartRetried, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationRetry', 'Starting');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'start', command.jobId);
  if (isRejection(pending)) return pending;
  return [
    {
      type: 'InstanceStartRetried',
      data: { instanceId: instance.id, jobId: command.jobId, hostId: command.hostId, reason: command.reason, state: to },
    },
  ];
}

/**
 * A failed start goes back to Stopped. When it was the deployment's own first start, the deployment
 * failed: CloudStack then moves the instance to Error and destroys its volumes
 * (`updateVmStateForFailedVmCreation`), which ends its allocation in usage.
 */
export function decideStartFailed(command: RecordStartFailed, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationFailed', 'Stopped');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'start', command.jobId);
  if (isRejection(pending)) return pending;
  const outcome = new Outcome(instance).add({
    type: 'InstanceStartFailed',
    data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason, state: to, settledAt: command.at },
  });
  if (instance.everStarted || !instance.startVmOnDeploy) return outcome.events;

  const errored = expectMove(outcome.state, 'OperationFailedToError', 'Error');
  if (isRejection(errored)) return errored;
  const doomed = outcome.state.volumes.filter((v) => v.state !== 'Destroy');
  const before = outcome.state;
  outcome.add({
    type: 'InstanceErrored',
    data: {
      instanceId: instance.id,
      jobId: command.jobId,
      reason: command.reason,
      deletedVolumeIds: doomed.map((v) => v.id),
      state: errored,
    },
  });
  return outcome.add(vmUsage('VM.DESTROY', outcome.state, command.at), ...doomed.map((v) => volumeDeleted(before, v, command.at))).events;
}
