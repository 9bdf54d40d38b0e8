// CloudStack's action events (the audit trail operators read) derived from domain events. They
// are a view, not stored twice: this mapping is the only place a domain event's action type is
// decided, among the types declared in domain/shared/action-event-types.ts.
import type { InstanceDomainEvent } from '../../domain/instance/index.js';
import type { ActionEventType } from '../../domain/shared/action-event-types.js';

export type ActionEventState = 'Scheduled' | 'Started' | 'Completed';
export type ActionEventLevel = 'INFO' | 'ERROR';

export interface ActionEvent {
  readonly type: ActionEventType;
  readonly state: ActionEventState;
  readonly level: ActionEventLevel;
  readonly description: string;
}

const started = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Started', level: 'INFO', description });
const completed = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Completed', level: 'INFO', description });
const failed = (type: ActionEventType, description: string): ActionEvent => ({ type, state: 'Completed', level: 'ERROR', description });

/** The action event an instance event stands for. */
export function instanceActionEvent(event: InstanceDomainEvent): ActionEvent {
  switch (event.type) {
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
    case 'InstanceSnapshotCreated':
      return completed('VMSNAPSHOT.CREATE', `VM snapshot ${event.data.vmSnapshotId} created`);
    case 'InstanceSnapshotDeleted':
      return completed('VMSNAPSHOT.DELETE', `VM snapshot ${event.data.vmSnapshotId} deleted`);
  }
}
