// deployVirtualMachine: the instance comes into being Stopped with its volumes allocated, and with
// startVm it is asked to start in the same decision (CloudStack allocates, then starts).
import { isRejection, reject, type Decision, type Rejection } from '../shared/decider.js';
import { firstFailure, optionalName } from '../config/validation.js';
import { checkLeaseDuration, parseLeaseExpiryAction } from '../offering/index.js';
import type { AbandonDeployment, DeployInstance } from './commands.js';
import type { InstanceDeployed, InstanceEvent } from './events.js';
import { messages } from './messages.js';
import type { Lease, Volume, VolumeSpec } from './model.js';
import { instanceFromDeployment, type InstanceState } from './state.js';
import { vmUsage, volumeCreated } from './usage.js';
import { addDays, checkHostname, checkUserData, resolveCompute } from './validation.js';

function firstDuplicate(ids: readonly string[]): string | undefined {
  const seen = new Set<string>();
  return ids.find((id) => (seen.has(id) ? true : (seen.add(id), false)));
}

const volume = (spec: VolumeSpec, type: Volume['type'], templateId: string | null): Volume => ({
  id: spec.id,
  name: spec.name,
  type,
  size: spec.size,
  storagePoolId: spec.storagePoolId,
  diskOfferingId: spec.diskOfferingId,
  templateId,
  state: 'Allocated',
  deleteProtection: false,
});

/** Closes the stream of an instance whose deployment never recorded it; refused once it was recorded. */
export function decideAbandonDeployment(command: AbandonDeployment, state: InstanceState): Decision<InstanceEvent> {
  if (state.exists) return reject('CONFLICT', messages.alreadyExists(command.instanceId));
  if (state.abandoned) return [];
  return [{ type: 'InstanceDeploymentAbandoned', data: { instanceId: command.instanceId, jobId: command.jobId, reason: command.reason } }];
}

export function decideDeploy(command: DeployInstance, state: InstanceState): Decision<InstanceEvent> {
  if (state.exists) return reject('CONFLICT', messages.alreadyExists(command.instanceId));
  if (state.abandoned) return reject('CONFLICT', messages.deploymentAbandoned(command.instanceId, state.abandoned.reason));
  const { caller } = command;
  if (caller.role === 'USER' && caller.accountId !== command.accountId) {
    return reject('FORBIDDEN', messages.deployForOtherAccount(caller.accountId, command.accountId), 'account');
  }
  const hostId = command.hostId ?? null;
  if (hostId !== null && caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', messages.hostIdForbidden, 'hostId');
  const clusterId = command.clusterId ?? null;
  if (clusterId !== null && caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', messages.clusterIdForbidden, 'clusterId');
  // A placement is for the deployment's own first start; without one it would be kept and never used.
  if ((hostId !== null || clusterId !== null) && !command.startVm) {
    return reject('BAD_USER_INPUT', messages.placementWithoutStart, hostId !== null ? 'hostId' : 'clusterId');
  }

  const name = command.name ?? `VM-${command.instanceId}`;
  const badName =
    checkHostname(name) ??
    firstFailure(optionalName(command.displayName, 'displayName', 'Display name'), optionalName(command.group, 'group', 'Group name'));
  if (badName) return badName;
  const badUserData = checkUserData(command.userData);
  if (badUserData) return badUserData;

  const compute = resolveCompute(command.serviceOffering, command.customCompute);
  if (isRejection(compute)) return compute;

  if (command.rootVolume.size < command.template.size) {
    return reject('BAD_USER_INPUT', messages.rootSmallerThanTemplate(command.rootVolume.size, command.template.size), 'rootDiskSize');
  }
  const duplicateVolume = firstDuplicate([command.rootVolume.id, ...command.dataVolumes.map((v) => v.id)]);
  if (duplicateVolume !== undefined) return reject('BAD_USER_INPUT', messages.duplicateId('Volume', duplicateVolume), 'volumes');
  const duplicateNic = firstDuplicate(command.nics.map((nic) => nic.id));
  if (duplicateNic !== undefined) return reject('BAD_USER_INPUT', messages.duplicateId('NIC', duplicateNic), 'nics');
  // Two NICs on one network would give the guest two addresses on one segment and CloudStack one NIC per network.
  const networkTwice = firstDuplicate(command.nics.map((nic) => nic.networkId));
  if (networkTwice !== undefined) return reject('BAD_USER_INPUT', messages.networkTwice(networkTwice), 'networkIds');
  const defaults = command.nics.filter((nic) => nic.isDefault).map((nic) => nic.id);
  if (defaults.length > 1) return reject('BAD_USER_INPUT', messages.manyDefaultNics(defaults), 'nics');

  const lease = leaseAtDeploy(command);
  if (isRejection(lease)) return lease;

  const offering = command.serviceOffering;
  const volumes = [
    volume(command.rootVolume, 'ROOT', command.template.id),
    ...command.dataVolumes.map((spec) => volume(spec, 'DATADISK', null)),
  ];
  const deployed: InstanceDeployed = {
    type: 'InstanceDeployed',
    data: {
      instanceId: command.instanceId,
      name,
      displayName: command.displayName || name,
      instanceName: command.instanceName || `i-${command.accountId}-${command.instanceId}-VM`,
      group: command.group ?? null,
      accountId: command.accountId,
      domainId: command.domainId,
      zoneId: command.zoneId,
      hypervisorType: command.hypervisorType,
      serviceOffering: offering,
      cpuNumber: compute.cpuNumber,
      cpuSpeed: compute.cpuSpeed,
      memory: compute.memory,
      template: command.template,
      nics: command.nics,
      volumes,
      affinityGroupIds: command.affinityGroupIds,
      userData: command.userData ?? null,
      details: command.details ?? {},
      haEnabled: offering.offerHa,
      dynamicallyScalable:
        command.template.dynamicallyScalable && offering.dynamicScalingEnabled && (command.dynamicScalingEnabled ?? true),
      lease,
      startVm: command.startVm,
      requestedHostId: hostId,
      jobId: command.jobId,
      created: command.at,
      state: 'Stopped',
    },
  };
  const created = instanceFromDeployment(deployed);

  const usage = [vmUsage('VM.CREATE', created, command.at), ...created.volumes.map((v) => volumeCreated(created, v, command.at))];
  const events: InstanceEvent[] = [deployed, ...usage];
  if (command.startVm) {
    events.push({
      type: 'InstanceStartRequested',
      data: {
        instanceId: command.instanceId,
        jobId: command.jobId,
        requestedHostId: hostId,
        ...(clusterId === null ? {} : { requestedClusterId: clusterId }),
        considerLastHost: true,
        lastHostId: null,
        state: 'Starting',
      },
    });
  }
  return events;
}

const NO_LEASE: Lease = { duration: null, expiryAction: null, expiryDate: null };

/**
 * The lease a deployment gets (behaviour §3.3, §3.4): none while the feature is off, whatever is asked
 * (though the values asked are checked all the same); otherwise the request's, checked, or else the
 * offering's. A duration of -1, or none at all, means no lease.
 */
function leaseAtDeploy(command: DeployInstance): Lease | Rejection {
  const requested = command.leaseDuration ?? null;
  const badDuration = checkLeaseDuration(requested, true);
  if (badDuration) return badDuration;
  const action = parseLeaseExpiryAction(command.leaseExpiryAction);
  if (isRejection(action)) return action;
  if (command.leaseFeatureEnabled !== true) return NO_LEASE;
  if (!(requested === null && action === null) && requested !== -1) {
    if (requested === null) return reject('BAD_USER_INPUT', messages.invalidLeaseDuration, 'leaseDuration');
    if (action === null) return reject('BAD_USER_INPUT', messages.leaseNeedsBoth, 'leaseExpiryAction');
  }
  const duration = requested ?? command.offeringLease?.duration ?? null;
  const expiryAction = action ?? command.offeringLease?.expiryAction ?? null;
  if (duration === null || duration < 1 || expiryAction === null) return NO_LEASE;
  const expiryDate = addDays(command.at, duration);
  if (expiryDate === null) return reject('BAD_USER_INPUT', messages.invalidTime(command.at), 'at');
  return { duration, expiryAction, expiryDate };
}
