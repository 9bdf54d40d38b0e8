// CloudStack's action events (the audit trail operators read) derived from domain events. They
// are a view, not stored twice: this mapping is the only place a domain event's action type is
// decided; the types themselves are listed in domain/shared/action-event-types.ts.
import type { AccountEvent } from '../../domain/account/index.js';
import type { AffinityGroupEvent } from '../../domain/affinity/index.js';
import type { ConfigEvent } from '../../domain/config/index.js';
import type { HostEvent } from '../../domain/host/index.js';
import type { InstanceDomainEvent } from '../../domain/instance/index.js';
import type { NetworkEvent } from '../../domain/network/index.js';
import type { ComputeSpec, OfferingEvent } from '../../domain/offering/index.js';
import type { VMScheduleAction, VMScheduleEvent } from '../../domain/schedule/index.js';
import type { ActionEventType } from '../../domain/shared/action-event-types.js';
import type { StoragePoolEvent } from '../../domain/storage/index.js';
import type { TemplateEvent } from '../../domain/template/index.js';
import type { ZoneEvent } from '../../domain/zone/index.js';

export type ActionEventState = 'Scheduled' | 'Started' | 'Completed';
export type ActionEventLevel = 'INFO' | 'ERROR';

export interface ActionEvent {
  readonly type: ActionEventType;
  readonly state: ActionEventState;
  readonly level: ActionEventLevel;
  readonly description: string;
}

const scheduled = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Scheduled', level: 'INFO', description });
const started = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Started', level: 'INFO', description });
const completed = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Completed', level: 'INFO', description });
const failed = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Completed', level: 'ERROR', description });

/** The action event an instance event stands for. */
export function instanceActionEvent(event: InstanceDomainEvent): ActionEvent {
  switch (event.type) {
    case 'InstanceImportRequested':
      return started(
        'VM.IMPORT',
        `Importing unmanaged instance ${event.data.instanceName} from host ${event.data.hostId}` +
          (event.data.importedFrom ? `; it was instance ${event.data.importedFrom} before it was unmanaged` : ''),
      );
    case 'InstanceImported':
      return completed('VM.IMPORT', `Imported instance, ${event.data.state} on host ${event.data.hostId}`);
    case 'InstanceImportFailed':
      return failed('VM.IMPORT', `Import failed: ${event.data.reason}`);
    case 'InstanceUnmanageRequested':
      return started('VM.UNMANAGE', 'Unmanaging instance');
    case 'InstanceUnmanaged':
      // CloudStack's system event text.
      return completed('VM.UNMANAGE', `Successfully unmanaged Instance: ${event.data.instanceId} (ID: ${event.data.instanceId}) on host ID: ${event.data.hostId ?? 'none'}`);
    case 'InstanceUnmanageFailed':
      return failed('VM.UNMANAGE', `Unmanage failed: ${event.data.reason}`);
    case 'InstanceDeployed':
      return completed('VM.CREATE', `Deployed instance ${event.data.name} (${event.data.displayName})`);
    case 'InstanceStartRequested':
      return started('VM.START', 'Starting instance');
    case 'InstanceStartRetried':
      return started('VM.START', `Retrying the start elsewhere after host ${event.data.hostId} failed: ${event.data.reason}`);
    case 'InstanceStarted':
      return completed('VM.START', `Instance started on host ${event.data.hostId}`);
    case 'InstanceStartFailed':
      return failed('VM.START', `Instance failed to start: ${event.data.reason}`);
    case 'InstanceVolumeMigrationRequested':
      return started('VM.MIGRATE', `Migrating ${event.data.migrations.map((m) => `volume ${m.volumeId} from storage pool ${m.fromPoolId} to ${m.toPoolId}`).join(', ')}`);
    case 'InstanceVolumesMigrated':
      return completed('VM.MIGRATE', `Volumes migrated: ${event.data.migrations.map((m) => `${m.volumeId} to storage pool ${m.toPoolId}`).join(', ')}`);
    case 'InstanceVolumeMigrationFailed':
      return failed('VM.MIGRATE', `Volume migration failed: ${event.data.reason}`);
    case 'InstanceVolumesPlaced':
      return completed('VOLUME.CREATE', `Created ${event.data.placements.map((p) => `volume ${p.volumeId} on storage pool ${p.storagePoolId}`).join(', ')}`);
    case 'InstanceErrored':
      return failed('VM.CREATE', `Deployment failed, instance is in Error: ${event.data.reason}`);
    case 'InstanceStopRequested':
      return started('VM.STOP', event.data.forced ? 'Stopping instance (forced)' : 'Stopping instance');
    case 'InstanceStopped':
      return completed('VM.STOP', 'Instance stopped');
    case 'InstanceStopFailed':
      return failed('VM.STOP', `Instance failed to stop: ${event.data.reason}`);
    case 'InstanceRebootRequested':
      return started('VM.REBOOT', event.data.forced ? 'Rebooting instance (forced)' : 'Rebooting instance');
    case 'InstanceRebooted':
      return completed('VM.REBOOT', 'Instance rebooted');
    case 'InstanceRebootFailed':
      return failed('VM.REBOOT', `Instance failed to reboot: ${event.data.reason}`);
    case 'InstanceDestroyed':
      return completed('VM.DESTROY', event.data.expunge ? 'Instance destroyed, to be expunged' : 'Instance destroyed');
    case 'InstanceRecovered':
      return completed('VM.RECOVER', 'Instance recovered');
    case 'InstanceExpungeRequested':
      return started('VM.EXPUNGE', 'Expunging instance');
    case 'InstanceExpungeFailed':
      return failed('VM.EXPUNGE', `Expunge failed: ${event.data.reason}`);
    case 'InstanceExpunged':
      return completed('VM.EXPUNGE', 'Instance expunged');
    case 'InstanceMigrationRequested':
      return started('VM.MIGRATE', `Migrating instance to host ${event.data.targetHostId}`);
    case 'InstanceMigrated':
      return completed('VM.MIGRATE', `Instance migrated to host ${event.data.hostId}`);
    case 'InstanceMigrationFailed':
      return failed('VM.MIGRATE', `Migration failed: ${event.data.reason}`);
    case 'InstancePowerStateReported':
      return completed(
        event.data.state === 'Running' ? 'VM.START' : 'VM.STOP',
        `Host ${event.data.hostId} reported the instance powered ${event.data.powerState === 'running' ? 'on' : 'off'}; now ${event.data.state}`,
      );
    case 'InstanceUpdated':
      return completed('VM.UPDATE', `Updated ${Object.keys(event.data.changes).join(', ')}`);
    case 'InstanceAffinityGroupsUpdated':
      return completed('VM.AG.UPDATE', `Affinity groups set to [${event.data.affinityGroupIds.join(', ')}]`);
    case 'InstanceVolumeUpdated':
      return completed('VOLUME.UPDATE', `Volume ${event.data.volumeId} delete protection ${event.data.deleteProtection ? 'on' : 'off'}`);
    case 'InstanceServiceOfferingChanged':
      return completed('VM.UPGRADE', `Service offering changed to ${event.data.serviceOffering.name}`);
    case 'InstanceScaleRequested':
      return started('VM.UPGRADE', `Scaling to ${event.data.cpuNumber} × ${event.data.cpuSpeed} MHz, ${event.data.memory} MiB`);
    case 'InstanceScaled':
      return completed('VM.UPGRADE', `Scaled to ${event.data.cpuNumber} × ${event.data.cpuSpeed} MHz, ${event.data.memory} MiB`);
    case 'InstanceScaleFailed':
      return failed('VM.UPGRADE', `Scaling failed: ${event.data.reason}`);
    case 'InstanceRestored':
      return completed('VM.RESTORE', `Root volume replaced from template ${event.data.template.id}`);
    // The started/completed descriptions follow the @ActionEvent ones of VMSnapshotManagerImpl's commands.
    case 'InstanceVMSnapshotRequested':
      return started('VMSNAPSHOT.CREATE', `creating VM snapshot ${event.data.displayName} (${event.data.snapshotType})`);
    case 'InstanceVMSnapshotCreated':
      return completed('VMSNAPSHOT.CREATE', `VM snapshot ${event.data.vmSnapshotId} created`);
    case 'InstanceVMSnapshotRevertRequested':
      return started('VMSNAPSHOT.REVERTTO', `reverting to VM snapshot ${event.data.vmSnapshotId}`);
    case 'InstanceVMSnapshotReverted':
      return completed('VMSNAPSHOT.REVERTTO', `Reverted to VM snapshot ${event.data.vmSnapshotId}`);
    case 'InstanceVMSnapshotDeleteRequested':
      return started('VMSNAPSHOT.DELETE', `deleting VM snapshot ${event.data.vmSnapshotId}`);
    case 'InstanceVMSnapshotsPurgeRequested':
      return started('VMSNAPSHOT.DELETE', `deleting the instance's VM snapshots (${event.data.vmSnapshotIds.length}) before it is ${event.data.then.action === 'unmanage' ? 'unmanaged' : 'destroyed'}`);
    case 'InstanceVMSnapshotDeleted':
      return completed('VMSNAPSHOT.DELETE', `VM snapshot ${event.data.vmSnapshotId} deleted`);
    case 'InstanceVMSnapshotTaskFailed': {
      const type = event.data.task === 'create' ? 'VMSNAPSHOT.CREATE' : event.data.task === 'revert' ? 'VMSNAPSHOT.REVERTTO' : 'VMSNAPSHOT.DELETE';
      return failed(type, `VM snapshot ${event.data.vmSnapshotId} ${event.data.task} failed: ${event.data.reason}`);
    }
    case 'InstanceDeploymentAbandoned':
      return failed('VM.CREATE', `Deployment abandoned before the instance was recorded: ${event.data.reason}`);
    // The lease events' descriptions are CloudStack's (VMLeaseManagerImpl, UserVmManagerImpl), "for for" and trailing space included.
    case 'LeaseUpdated':
      return completed('VM.UPDATE', `Lease set to ${event.data.duration} days from now, expiring ${event.data.expiryDate} with action ${event.data.expiryAction}`);
    case 'LeaseDisabled':
      return completed('VM.LEASE.DISABLED', 'Disabling lease on the instance');
    case 'LeaseCancelled':
      return completed('VM.LEASE.CANCELLED', `Lease is cancelled for the instance: ${event.data.name} (id: ${event.data.instanceId}) `);
    case 'LeaseExpiring':
      return completed('VM.LEASE.EXPIRING', `Lease expiring for for instance: ${event.data.name} (id: ${event.data.instanceId}) with action: ${event.data.expiryAction}`);
    case 'LeaseExpired':
      return completed('VM.LEASE.EXPIRED', `Executing lease expiry action (${event.data.expiryAction}) for instance: ${event.data.name} (id: ${event.data.instanceId})`);
  }
}

/**
 * The action event an affinity group event stands for (resource: the group), or null for the placements
 * the orchestrator keeps on the group's stream, which the instances' own VM.START/VM.MIGRATE tell.
 */
export function affinityGroupActionEvent(event: AffinityGroupEvent): ActionEvent | null {
  const { name, type } = event.data;
  switch (event.type) {
    case 'AffinityGroupCreated':
      return completed('AG.CREATE', `Created affinity group ${name} (${type})`);
    case 'AffinityGroupDeleted':
      return completed('AG.DELETE', `Deleted affinity group ${name} (${type})`);
    case 'AffinityMemberPlaced':
    case 'AffinityMemberUnplaced':
    case 'AffinityMemberSettled':
      return null;
  }
}

/** CloudStack's VMSchedulerImpl event type per action (FORCE_STOP → VM.SCHEDULE.FORCE.STOP). */
const SCHEDULE_ACTION_EVENT: Readonly<Record<VMScheduleAction, ActionEventType>> = {
  START: 'VM.SCHEDULE.START',
  STOP: 'VM.SCHEDULE.STOP',
  REBOOT: 'VM.SCHEDULE.REBOOT',
  FORCE_STOP: 'VM.SCHEDULE.FORCE.STOP',
  FORCE_REBOOT: 'VM.SCHEDULE.FORCE.REBOOT',
};

const DISABLED_BECAUSE = {
  INSTANCE_EXPUNGED: 'its instance was expunged',
  END_DATE: 'no fire is left before its end date',
  NO_NEXT_FIRE: 'its schedule fires no more',
} as const;

/**
 * The action event a schedule event stands for (resource: the schedule, as CloudStack's VMSchedule
 * entity). The fires' descriptions are CloudStack's (VMSchedulerImpl): "Scheduled action" when a fire
 * is armed, "Executing action" when it runs — recorded even if the instance then refuses the action,
 * as CloudStack does; skipped and missed fires, which CloudStack only logs, are recorded too.
 */
export function scheduleActionEvent(event: VMScheduleEvent): ActionEvent {
  const d = event.data;
  const type = SCHEDULE_ACTION_EVENT[d.action];
  switch (event.type) {
    case 'VMScheduleCreated':
      return completed('VM.SCHEDULE.CREATE', `Created schedule ${d.scheduleId} (${d.action}, "${event.data.schedule}" in ${event.data.timeZone}) for instance ${d.instanceName}`);
    case 'VMScheduleUpdated':
      return completed('VM.SCHEDULE.UPDATE', `Updated schedule ${d.scheduleId} ("${event.data.schedule}" in ${event.data.timeZone}, ${event.data.enabled ? 'enabled' : 'disabled'}) of instance ${d.instanceName}`);
    case 'VMScheduleDeleted':
      return completed('VM.SCHEDULE.DELETE', `Deleted schedule ${d.scheduleId} of instance ${d.instanceName}`);
    case 'VMScheduleDisabled':
      return completed('VM.SCHEDULE.UPDATE', `Disabled schedule ${d.scheduleId} of instance ${d.instanceName}: ${DISABLED_BECAUSE[event.data.reason]}`);
    case 'VMScheduleArmed':
      return scheduled(type, `Scheduled action (${d.action}) [vm: ${d.instanceName}, schedule: ${d.scheduleId}] at ${event.data.fireAt}`);
    case 'VMScheduleFired':
      return completed(type, `Executing action (${d.action}) for VM: ${d.instanceName}`);
    case 'VMScheduleFireSkipped':
      return completed(type, `Skipped scheduled action (${d.action}) for VM: ${d.instanceName} at ${event.data.fireAt}: ${event.data.reason}`);
    case 'VMScheduleFiresMissed':
      return failed(
        type,
        `Missed ${event.data.count} scheduled action(s) (${d.action}) for VM: ${d.instanceName} from ${event.data.first} to ${event.data.last}: vmledger was not running and they are more than a period old`,
      );
  }
}

/** The events of the streams the administration of the cloud writes to (everything but instances). */
export type AdministrationDomainEvent =
  | AccountEvent
  | ZoneEvent
  | HostEvent
  | StoragePoolEvent
  | NetworkEvent
  | OfferingEvent
  | TemplateEvent
  | ConfigEvent;

/** An administration action event names the resource it created or changed. */
export interface AdministrationActionEvent extends ActionEvent {
  readonly resourceId: string;
  /** CloudStack's ApiCommandResourceType name where it has one. */
  readonly resourceType: string;
}

const created = (type: ActionEventType, resourceType: string, resourceId: string, description: string): AdministrationActionEvent => ({
  ...completed(type, description),
  resourceType,
  resourceId,
});

/**
 * The action event an administration event stands for, or null for the bookkeeping that operations
 * do on these streams (capacity, addresses, names). Every event type is listed, so a new one does not
 * compile until someone decides whether auditors see it. Descriptions name the resource but never
 * carry a secret: a host's password is only a reference in its event and stays out, as do URLs
 * (which may hold credentials).
 */
export function administrationActionEvent(event: AdministrationDomainEvent): AdministrationActionEvent | null {
  switch (event.type) {
    case 'AccountCreated': {
      const { accountId, name, role, domainPath } = event.data;
      return created('ACCOUNT.CREATE', 'Account', accountId, `Created account ${name} (${role}) in domain ${domainPath}`);
    }
    case 'ZoneCreated':
      return created('ZONE.CREATE', 'Zone', event.data.zoneId, `Created zone ${event.data.name} (${event.data.networkType})`);
    case 'ClusterAdded': {
      const { clusterId, name, hypervisor, zoneId } = event.data;
      return created('CLUSTER.ADD', 'Cluster', clusterId, `Added cluster ${name} (${hypervisor}) to zone ${zoneId}`);
    }
    case 'HostAdded': {
      const { hostId, name, driver, cpuNumber, cpuSpeed, memory, clusterId } = event.data;
      return created('HOST.ADD', 'Host', hostId, `Added host ${name} (${driver}, ${cpuNumber} × ${cpuSpeed} MHz, ${memory} MiB) to cluster ${clusterId}`);
    }
    case 'StoragePoolCreated': {
      const { poolId, name, type, scope, capacityBytes, zoneId } = event.data;
      return created('CREATE.STORAGE.POOL', 'StoragePool', poolId, `Created storage pool ${name} (${type}, ${scope} scope, ${capacityBytes} bytes) in zone ${zoneId}`);
    }
    case 'NetworkCreated': {
      const { networkId, name, networkType, vlan, cidr, zoneId } = event.data;
      const shape = [networkType, vlan === null ? undefined : `vlan ${vlan}`, cidr ?? undefined].filter((part) => part !== undefined).join(', ');
      return created('NETWORK.CREATE', 'Network', networkId, `Created network ${name} (${shape}) in zone ${zoneId}`);
    }
    case 'ServiceOfferingCreated':
      return created(
        'SERVICE.OFFERING.CREATE',
        'ServiceOffering',
        event.data.offeringId,
        `Created service offering ${event.data.name} (${describeCompute(event.data.compute)})`,
      );
    case 'DiskOfferingCreated': {
      const { offeringId, name, diskSize } = event.data;
      // In GiB, as the operator gave it (createDiskOffering's diskSize).
      const size = diskSize === null ? 'custom size' : `${diskSize / 1024 ** 3} GiB`;
      return created('DISK.OFFERING.CREATE', 'DiskOffering', offeringId, `Created disk offering ${name} (${size})`);
    }
    case 'TemplateRegistered': {
      const { templateId, name, format, hypervisor } = event.data;
      return created('TEMPLATE.CREATE', 'Template', templateId, `Registered template ${name} (${format}, ${hypervisor})`);
    }
    // No configuration key holds a secret (domain/config/registry.ts), so the value is shown as set.
    case 'ConfigurationUpdated': {
      const { name, value, zoneId } = event.data;
      return created('CONFIGURATION.VALUE.EDIT', 'Configuration', name, `Set ${name} to ${value} ${configScope(zoneId)}`);
    }
    case 'ConfigurationReset': {
      const { name, zoneId } = event.data;
      return created('CONFIGURATION.VALUE.EDIT', 'Configuration', name, `Reset ${name} to its default ${configScope(zoneId)}`);
    }
    // No API operation changes these yet, or they are bookkeeping done on behalf of an instance,
    // whose own action event already tells the story.
    case 'UserCreated':
    case 'UserApiKeyRotated':
    case 'UserDisabled':
    case 'UserEnabled':
    case 'AccountDisabled':
    case 'AccountEnabled':
    case 'InstanceNameReserved':
    case 'InstanceNameReleased':
    case 'AffinityGroupNameReserved':
    case 'AffinityGroupNameReleased':
    case 'ZoneDisabled':
    case 'ZoneEnabled':
    case 'HostCapacityReserved':
    case 'HostCapacityReleased':
    case 'HostStatusChanged':
    case 'HostCapabilitiesReported':
    case 'HostDisabled':
    case 'HostEnabled':
    case 'HostMaintenancePrepared':
    case 'HostEnteredMaintenance':
    case 'HostMaintenanceCancelled':
    case 'HostTagsUpdated':
    case 'HostRemoved':
    case 'StoragePoolSpaceReserved':
    case 'StoragePoolSpaceReleased':
    case 'NicAddressAllocated':
    case 'NicAddressReleased':
    case 'NetworkDeleted':
    case 'OfferingDeleted':
    case 'TemplateDeleted':
    // Uniqueness claims taken for the resource whose own creation event is the action.
    case 'NameClaimed':
    case 'NameReleased':
    case 'NetworkAddressingClaimed':
    case 'NetworkAddressingReleased':
      return null;
  }
}

function describeCompute(compute: ComputeSpec): string {
  switch (compute.kind) {
    case 'fixed':
      return `${compute.cpuNumber} × ${compute.cpuSpeed} MHz, ${compute.memory} MiB`;
    case 'customConstrained':
      return `custom: ${compute.minCpuNumber}–${compute.maxCpuNumber} × ${compute.cpuSpeed} MHz, ${compute.minMemory}–${compute.maxMemory} MiB`;
    case 'customUnconstrained':
      return compute.cpuSpeed === null ? 'custom' : `custom × ${compute.cpuSpeed} MHz`;
  }
}

function configScope(zoneId: string | null): string {
  return zoneId === null ? 'globally' : `in zone ${zoneId}`;
}
