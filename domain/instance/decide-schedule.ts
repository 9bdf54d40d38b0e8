// A schedule's fire on its instance (behaviour §5.2, VMSchedulerImpl.processJob): START runs on a
// Stopped instance, STOP/FORCE_STOP and REBOOT/FORCE_REBOOT on a Running one; anything else is
// refused with the reason, which the schedule records as a skipped fire. The request is an ordinary
// one (a StopInstance, ...), so the job that follows is the workflows' like any user's.
import { reject, type Decision } from '../shared/decider.js';
import type { RunScheduledAction } from './commands.js';
import { decideReboot } from './decide-reboot.js';
import { decideStart } from './decide-start.js';
import { decideStop } from './decide-stop.js';
import type { InstanceEvent } from './events.js';
import type { Instance } from './state.js';

export function decideScheduledAction(command: RunScheduledAction, instance: Instance): Decision<InstanceEvent> {
  // The same fire asked again (its handler run again after a crash): already requested.
  if (instance.pending?.jobId === command.jobId) return [];
  const base = { instanceId: instance.id, at: command.at, caller: command.caller, jobId: command.jobId } as const;
  if (instance.state !== 'Running' && instance.state !== 'Stopped') {
    return reject('INVALID_STATE', `Skipping scheduled action ${command.action} of schedule ${command.scheduleId}: instance ${instance.name} is in an invalid state (${instance.state})`);
  }
  const fits = command.action === 'START' ? instance.state === 'Stopped' : instance.state === 'Running';
  if (!fits) return reject('INVALID_STATE', `Skipping scheduled action ${command.action} of schedule ${command.scheduleId}: instance ${instance.name} is ${instance.state}`);
  switch (command.action) {
    case 'START':
      return decideStart({ type: 'StartInstance', ...base, hostId: null, considerLastHost: true }, instance);
    case 'STOP':
    case 'FORCE_STOP':
      return decideStop({ type: 'StopInstance', ...base, forced: command.action === 'FORCE_STOP' }, instance);
    case 'REBOOT':
    case 'FORCE_REBOOT':
      return decideReboot({ type: 'RebootInstance', ...base, forced: command.action === 'FORCE_REBOOT' }, instance);
  }
}
