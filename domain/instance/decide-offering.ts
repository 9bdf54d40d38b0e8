// Changing an instance's compute: changeServiceForVirtualMachine while stopped (VM.UPGRADE) and
// scaleVirtualMachine while running (VM.DYNAMIC.SCALE).
//
// Scaling is asked of the hypervisor, so it is modelled as request and outcome: ScaleInstance appends
// InstanceScaleRequested and the instance keeps its old size (and keeps being billed for it) until
// the saga reports RecordScaleSucceeded; only then do InstanceScaled and VM.DYNAMIC.SCALE appear.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { ChangeServiceOffering, RecordScaleFailed, RecordScaleSucceeded, ScaleInstance } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import type { Compute } from './model.js';
import { Outcome, expectMove, expectPending } from './outcome.js';
import type { Instance } from './state.js';
import { vmUsage } from './usage.js';
import { resolveCompute } from './validation.js';

export function decideChangeServiceOffering(command: ChangeServiceOffering, instance: Instance): Decision<InstanceEvent> {
  if (instance.state !== 'Stopped') return reject('INVALID_STATE', messages.upgradeNotStopped(instance));
  const offering = command.serviceOffering;
  if (!offering.customized && offering.id === instance.serviceOfferingId) {
    return reject('BAD_USER_INPUT', messages.sameOffering(instance, offering.name), 'serviceOfferingId');
  }
  const compute = resolveCompute(offering, command.customCompute);
  if (isRejection(compute)) return compute;
  const outcome = new Outcome(instance).add({
    type: 'InstanceServiceOfferingChanged',
    data: {
      instanceId: instance.id,
      serviceOffering: offering,
      ...compute,
      haEnabled: offering.offerHa,
      dynamicallyScalable: instance.template.dynamicallyScalable && offering.dynamicScalingEnabled,
    },
  });
  return outcome.add(vmUsage('VM.UPGRADE', outcome.state, command.at)).events;
}

const scalesUp = (to: Compute, from: Compute) =>
  to.cpuNumber >= from.cpuNumber &&
  to.cpuSpeed >= from.cpuSpeed &&
  to.memory >= from.memory &&
  (to.cpuNumber > from.cpuNumber || to.cpuSpeed > from.cpuSpeed || to.memory > from.memory);

/** The checks of `upgradeRunningVirtualMachine`, in its order. */
export function decideScale(command: ScaleInstance, instance: Instance): Decision<InstanceEvent> {
  if (instance.state !== 'Running') return reject('INVALID_STATE', messages.scaleNotRunning(instance));
  if (instance.pending !== null) return reject('INVALID_STATE', messages.busy(instance, instance.pending));
  const offering = command.serviceOffering;
  const compute = resolveCompute(offering, command.customCompute);
  if (isRejection(compute)) return compute;
  if (!offering.customized && offering.id === instance.serviceOfferingId) {
    return reject('BAD_USER_INPUT', messages.sameOffering(instance, offering.name), 'serviceOfferingId');
  }
  if (offering.dynamicScalingEnabled !== instance.serviceOffering.dynamicScalingEnabled) {
    return reject('BAD_USER_INPUT', messages.scaleFlagMismatch, 'serviceOfferingId');
  }
  if (!scalesUp(compute, instance)) return reject('BAD_USER_INPUT', messages.scaleDown(compute, instance), 'serviceOfferingId');
  if (instance.hypervisorType === 'KVM' && !instance.serviceOffering.customized) {
    return reject('BAD_USER_INPUT', messages.scaleKvmFixed, 'serviceOfferingId');
  }
  if (!command.enableDynamicScaleVm) return reject('FORBIDDEN', messages.scaleZoneDisabled);
  if (!instance.dynamicallyScalable) return reject('INVALID_STATE', messages.scaleNotScalable(instance));
  return [
    {
      type: 'InstanceScaleRequested',
      data: { instanceId: instance.id, jobId: command.jobId, serviceOffering: offering, ...compute },
    },
  ];
}

export function decideScaleSucceeded(command: RecordScaleSucceeded, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationSucceeded', 'Running');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'scale', command.jobId);
  if (isRejection(pending)) return pending;
  const outcome = new Outcome(instance).add({
    type: 'InstanceScaled',
    data: {
      instanceId: instance.id,
      jobId: command.jobId,
      serviceOffering: pending.serviceOffering,
      cpuNumber: pending.cpuNumber,
      cpuSpeed: pending.cpuSpeed,
      memory: pending.memory,
      state: to,
    },
  });
  return outcome.add(vmUsage('VM.DYNAMIC.SCALE', outcome.state, command.at)).events;
}

export function decideScaleFailed(command: RecordScaleFailed, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'scale', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceScaleFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason } }];
}
