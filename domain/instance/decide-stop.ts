// stopVirtualMachine, the stop saga's outcomes, and what a finished stop owes: the destroy or
// restore that asked for it.
import { isRejection, type Decision } from '../shared/decider.js';
import type { RecordStopFailed, RecordStopSucceeded, StopInstance } from './commands.js';
import type { InstanceEvent, InstancePowerStateReported, InstanceStopped } from './events.js';
import { destroyStopped } from './decide-removal.js';
import { restoreStopped } from './decide-restore.js';
import { messages } from './messages.js';
import { Outcome, expectMove, expectPending } from './outcome.js';
import type { Instance } from './state.js';
import { stoppedUsage } from './usage.js';

/**
 * Records that a Stopping instance went down (by the saga's answer or the agent's report), its usage,
 * and then the work the stop was for, all in one decision.
 */
export function completeStop(
  instance: Instance,
  stopped: InstanceStopped | InstancePowerStateReported,
  at: string,
): readonly InstanceEvent[] {
  const after = instance.pending?.kind === 'stop' ? instance.pending.afterStop : null;
  const outcome = new Outcome(instance).add(stopped);
  outcome.add(...stoppedUsage(outcome.state, at));
  if (after === null) return outcome.events;
  const { jobId } = after;
  if (after.action === 'destroy') {
    destroyStopped(outcome, { jobId, expunge: after.expunge, volumeIds: after.volumeIds, at });
    return outcome.events;
  }
  restoreStopped(outcome, { jobId, template: after.template, rootVolume: after.rootVolume, expungeOldRoot: after.expungeOldRoot, at });
  const restarting = outcome.state;
  outcome.add({
    type: 'InstanceStartRequested',
    data: {
      instanceId: restarting.id,
      jobId,
      requestedHostId: null,
      considerLastHost: true,
      lastHostId: restarting.lastHostId,
      state: 'Starting',
    },
  });
  return outcome.events;
}

export function decideStop(command: StopInstance, instance: Instance): Decision<InstanceEvent> {
  switch (instance.state) {
    // CloudStack returns without touching an instance that is already down or on its way out.
    case 'Stopped':
    case 'Destroyed':
    case 'Expunging':
    case 'Error':
      return [];
    case 'Stopping': {
      // Only a forced stop adds anything to a stop in flight: it supersedes that job, keeping its follow-up.
      if (!command.forced) return [];
      const to = expectMove(instance, 'StopRequested', 'Stopping');
      if (isRejection(to)) return to;
      const afterStop = instance.pending?.kind === 'stop' ? instance.pending.afterStop : null;
      return [{ type: 'InstanceStopRequested', data: { instanceId: instance.id, jobId: command.jobId, forced: true, afterStop, state: to } }];
    }
    default: {
      // A reboot or scale in flight on a running instance is abandoned: stopping wins.
      const to = expectMove(instance, 'StopRequested', 'Stopping', messages.cannot(instance, 'stop'));
      if (isRejection(to)) return to;
      return [
        { type: 'InstanceStopRequested', data: { instanceId: instance.id, jobId: command.jobId, forced: command.forced, afterStop: null, state: to } },
      ];
    }
  }
}

export function decideStopSucceeded(command: RecordStopSucceeded, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationSucceeded', 'Stopped');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'stop', command.jobId);
  if (isRejection(pending)) return pending;
  return completeStop(
    instance,
    { type: 'InstanceStopped', data: { instanceId: instance.id, jobId: command.jobId, hostId: instance.hostId, state: to, settledAt: command.at } },
    command.at,
  );
}

export function decideStopFailed(command: RecordStopFailed, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationFailed', 'Running');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'stop', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceStopFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason, state: to, settledAt: command.at } }];
}
