// Rejection texts of VM snapshots, word for word as CloudStack's VMSnapshotManagerImpl writes them
// (behaviour §5.1, typos and spacing included) so operators can search for them; vmledger's own
// refusals name the snapshot and say what to do instead.
export const vmSnapshotMessages = {
  notFound: (id: string) => `unable to find the vm snapshot with id ${id}`,
  instanceWrongState: (instanceId: string) =>
    `Creating vm snapshot failed due to VM:${instanceId} is not in the running or Stopped state`,
  memoryNotRunning: 'Can not snapshot memory when VM is not in Running state',
  noRootVolume: (instanceId: string) => `Unable to find root volume for the user vm:${instanceId}`,
  displayNameTooLong: 'Creating VM snapshot failed due to length of VM snapshot vsDisplayName should not exceed 255',
  descriptionTooLong: 'Creating VM snapshot failed due to length of VM snapshot vsDescription should not exceed 255',
  duplicateName: (displayName: string) => `Creating VM snapshot failed due to VM snapshot with name${displayName}  already exists`,
  overMaximum: (max: number) =>
    `Creating vm snapshot failed due to a VM can just have : ${max} VM snapshots. Please delete old ones`,
  activeTask: 'There is other active vm snapshot tasks on the instance, please try again later',
  revertInstanceWrongState: 'VM Snapshot reverting failed due to vm is not in the state of Running or Stopped.',
  revertTypeMismatch:
    'VM Snapshot revert not allowed. This will result in VM state change. You can revert running VM to disk and memory type snapshot and stopped VM to disk type snapshot',
  revertNotReady: 'VM Snapshot reverting failed due to vm snapshot is not in the state of Created.',
  deleteWrongState: (name: string) =>
    `Can't delete the vm snapshotshot ${name} due to it is not in Created or Error, or Expunging State`,
  deleteFailed: (name: string, instance: string, reason: string) => `Delete vm snapshot ${name} of vm ${instance} failed due to ${reason}`,
  purgeFailed: (instance: string) => `Unable to delete vm snapshots for ${instance}`,
  rebootWithActiveTask: (instance: string) => `Unable to reboot VM ${instance} due to: ${instance} has active VM snapshots tasks`,
  // vmledger's own: CloudStack has no message for these.
  noTransition: (id: string, from: string, event: string) => `VM snapshot ${id} cannot go from ${from} via ${event}`,
  // CloudStack's unmanage only drops them from its database; here the host deletes them, which can fail.
  purgeBeforeUnmanageFailed: (instance: string) => `Unable to delete vm snapshots for ${instance}, so it was not unmanaged and stays managed`,
  // Names no host: placement is not shown to users.
  diskOfRunningUnsupported:
    "A disk-only snapshot of a running instance needs an external snapshot, which the hypervisor on the instance's host cannot revert; " +
    'use snapshotMemory=true to snapshot the running instance with its memory, or stop the instance first',
  migrateWithSnapshots:
    'VM with VM Snapshots cannot be migrated: the hypervisor keeps its snapshots on the source host, please remove all VM snapshots first',
} as const;
