// Rejection texts. Where CloudStack has one for the same refusal it is kept word for word (typos and
// all, behaviour §1.4/§6) so operators can search for it; the rest name the instance and the value.
import { leaseMessages } from '../offering/index.js';
import type { Instance, PendingOperation } from './state.js';
import type { MachineEvent } from './state-machine.js';

const label = (vm: Instance): string => vm.displayName || vm.name;

export const messages = {
  notFound: (id: string) => `Unable to find virtual machine with id ${id}`,
  alreadyExists: (id: string) => `Virtual machine ${id} already exists`,
  deploymentAbandoned: (id: string, reason: string) => `The deployment of virtual machine ${id} was abandoned: ${reason}`,
  alreadyRunning: (vm: Instance) => `The virtual machine ${vm.id} (${label(vm)}) is already running`,
  cannot: (vm: Instance, operation: string) =>
    `Unable to ${operation} the virtual machine ${vm.id} (${label(vm)}) in state ${vm.state}`,
  noTransition: (vm: Instance, event: MachineEvent) =>
    `Unable to transition virtual machine ${vm.id} to a new state from ${vm.state} via ${event}`,
  staleJob: (vm: Instance, jobId: string) =>
    `Job ${jobId} is not the operation in progress on virtual machine ${vm.id} (in progress: ${vm.pending?.jobId ?? 'none'})`,
  busy: (vm: Instance, pending: PendingOperation) =>
    `The virtual machine ${vm.id} (${label(vm)}) is busy with ${pending.kind} job ${pending.jobId ?? '(none)'}`,
  volumeMigrationNotStopped: (vm: Instance) =>
    `The VM ${vm.id} (${label(vm)}) is ${vm.state}; its volumes are migrated offline only while it is Stopped`,
  volumeMigrationWithSnapshots: "VM's disk cannot be migrated, please remove all the VM Snapshots for this VM",
  rebootNotRunning: (vm: Instance) => `The VM ${vm.id} (${label(vm)}) is not running, unable to reboot it`,
  deleteProtected: (vm: Instance) =>
    `Instance [id = ${vm.id}, name = ${vm.name}] has delete protection enabled and cannot be deleted.`,
  // CloudStack words the destroyVirtualMachine check without the final period and deleteVolume's with it.
  volumeProtectedOnDestroy: (id: string, name: string) =>
    `Volume [id = ${id}, name = ${name}] has delete protection enabled and cannot be deleted`,
  volumeProtected: (id: string, name: string) =>
    `Volume [id = ${id}, name = ${name}] has delete protection enabled and cannot be deleted.`,
  notDataDisks: (ids: readonly string[]) =>
    `The following supplied volumes are not DATADISK attached to the VM: ${ids.join(', ')}`,
  noExpungePermission: 'Account does not have permission for expunging.',
  expungeForbidden: 'Expunging a vm can only be done by an Admin. Or when the allow.user.expunge.recover.vm key is set.',
  recoverForbidden: 'Recovering a vm can only be done by an Admin. Or when the allow.user.expunge.recover.vm key is set.',
  notInRightState: (vm: Instance) => `Vm with id ${vm.id} is not in the right state`,
  destroyBeforeExpunge: 'Please destroy vm with specified vmId before expunge',
  haNotOffered: "Can't enable ha for the vm as it's created from the Service offering having HA disabled",
  migrateForbidden: 'No permission to migrate VM, Only Root Admin can migrate a VM!',
  migrateNotRunning: (vm: Instance) => `VM is not Running, unable to migrate the vm ${vm.id}`,
  migrateSameHost:
    'Cannot migrate VM, VM is already present on this host, please specify valid destination host to migrate the VM',
  hostIdForbidden: 'Parameter hostid can only be specified by a Root Admin, permission denied',
  invalidLeaseDuration: leaseMessages.invalidDuration(true),
  userDataNotBase64: 'User data is not base64 encoded',
  leaseNeedsBoth: leaseMessages.needsBoth,
  leaseNotAtDeploy: (id: string) => `Lease can't be applied on instance with id: ${id}, it doesn't have lease associated during deployment`,
  leaseNotActive: (id: string) => `Lease can't be applied on instance with id: ${id}, it doesn't have active lease`,
  leaseExpired: 'Lease is not allowed to be redefined on expired leased instance',
  placementWithoutStart: 'hostId and clusterId place the first start of a deployment; they need startVm true',
  clusterIdForbidden: 'Parameter clusterid can only be specified by a Root Admin, permission denied',
  deployForOtherAccount: (caller: string, owner: string) =>
    `Account ${caller} does not have permission to deploy a virtual machine for account ${owner}`,
  invalidHostname:
    "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit",
  upgradeNotStopped: (vm: Instance) =>
    `Unable to upgrade virtual machine ${vm.id}  in state ${vm.state}; make sure the virtual machine is stopped`,
  sameOffering: (vm: Instance, offeringName: string) =>
    `Not upgrading vm ${vm.id} since it already has the requested service offering (${offeringName})`,
  scaleNotRunning: (vm: Instance) =>
    `Unable to scale virtual machine ${vm.id} in state ${vm.state}; make sure the virtual machine is running`,
  scaleZoneDisabled: 'Dynamically scaling virtual machines is disabled for this zone, please contact your admin.',
  scaleNotScalable: (vm: Instance) => `Unable to scale ${vm.id} as it does not have tools to support dynamic scaling.`,
  scaleFlagMismatch:
    'Unable to Scale VM: since dynamic scaling enabled flag is not same for new service offering and old service offering',
  scaleDown: (to: { memory: number; cpuSpeed: number; cpuNumber: number }, from: { memory: number; cpuSpeed: number; cpuNumber: number }) =>
    `While the VM is running, only scalling up it is supported. New service offering {"memory": ${to.memory}, "speed": ${to.cpuSpeed}, "cpu": ${to.cpuNumber}} should` +
    ` have at least one value (ram, speed or cpu) greater than the current values {"memory": ${from.memory}, "speed": ${from.cpuSpeed}, "cpu": ${from.cpuNumber}}.`,
  scaleKvmFixed:
    'Unable to live scale VM on KVM when current service offering is a "Fixed Offering". KVM needs the tag "maxMemory" to live scale and it is only configured when VM is deployed with a custom service offering and "Dynamic Scalable" is enabled.',
  dynamicScalingTemplate: 'Dynamic Scaling cannot be enabled for the VM since its template does not have dynamic scaling enabled',
  dynamicScalingOffering:
    'Dynamic Scaling cannot be enabled for the VM since its service offering does not have dynamic scaling enabled',
  dynamicScalingZone: 'Dynamic Scaling cannot be enabled for the VM since corresponding global setting is set to false',
  restoreWrongState: (vm: Instance) =>
    `Vm ${vm.id} currently in ${vm.state} state, restore vm can only execute when VM in Running or Stopped`,
  restoreNoRoot: (vm: Instance) => `Can not find root volume for VM ${vm.id}`,
  restoreWithSnapshots: 'Unable to restore VM, please remove VM snapshots before restoring VM',
  rootSmallerThanTemplate: (rootSize: number, templateSize: number) =>
    `Root disk size [${rootSize}] is smaller than the template size [${templateSize}]`,
  snapshotWrongState: (vm: Instance) =>
    `Creating vm snapshot failed due to VM:${vm.id} is not in the running or Stopped state`,
  volumeNotFound: (id: string) => `Unable to find volume with id ${id}`,
  duplicateId: (what: string, id: string) => `${what} id ${id} is used more than once`,
  networkTwice: (networkId: string) => `Network ${networkId} is named more than once in networkIds; an instance has one NIC per network`,
  manyDefaultNics: (ids: readonly string[]) => `Only one NIC can be the default NIC; marked default: ${ids.join(', ')}`,
  extraConfigInDetails: "'extraconfig' should not be included in details as key",
  leaseInDetails: 'lease parameters should not be included in details as key',
  deniedDetail: (key: string) => `You're not allowed to add or edit the restricted setting: ${key}`,
  readOnlyDetail: (key: string) => `You're not allowed to add or edit the read-only setting: ${key}`,
  invalidTime: (at: string) => `Invalid timestamp ${JSON.stringify(at)}: expected ISO-8601`,
} as const;
