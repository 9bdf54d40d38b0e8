// The ControlPlane the GraphQL layer serves, assembled from the operations.
import { shownLease } from './instances/lease.js';
import { getInstance } from '../../projections/instances/queries.js';
import { accounts, authenticate, createAccount } from './accounts.js';
import { db, guarded, visibilityOf, type ControlPlaneContext } from './context.js';
import { events, usageEvents, virtualMachineAsOf } from './history.js';
import * as infrastructure from './infrastructure/index.js';
import * as instances from './instances/index.js';
import * as schedules from './instances/schedules.js';
import * as affinity from './affinity.js';
import * as vmsnapshots from './instances/vmsnapshots.js';
import { JobWatcher, asyncJobs, findJob } from './jobs.js';
import { osTypes } from './os-types.js';
import { eventsShownTo, instanceShownTo, instancesShownTo, jobShownTo, jobsShownTo } from './placement.js';
import type { Caller, ControlPlane, JobView } from './port.js';
import type { VirtualMachineView } from '../../projections/instances/view.js';
import { usageRecords } from './usage.js';

export function createControlPlane(context: ControlPlaneContext, services: infrastructure.InfrastructureServices): ControlPlane {
  const watcher = new JobWatcher(context);
  // Every instance and job leaves through placement.ts, which keeps placement from USER callers.
  const job = async (caller: Caller, running: Promise<JobView>) => jobShownTo(caller, await running);
  const instance = async (caller: Caller, running: Promise<VirtualMachineView>) => instanceShownTo(caller, await running);
  return {
    authenticate: (apiKey) => authenticate(context, apiKey),

    deployVirtualMachine: (caller, args) => job(caller, instances.deployVirtualMachine(context, caller, args)),
    startVirtualMachine: (caller, args) => job(caller, instances.startVirtualMachine(context, caller, args)),
    stopVirtualMachine: (caller, args) => job(caller, instances.stopVirtualMachine(context, caller, args)),
    rebootVirtualMachine: (caller, args) => job(caller, instances.rebootVirtualMachine(context, caller, args)),
    destroyVirtualMachine: (caller, args) => job(caller, instances.destroyVirtualMachine(context, caller, args)),
    migrateVirtualMachine: (caller, args) => job(caller, instances.migrateVirtualMachine(context, caller, args)),
    migrateVirtualMachineWithVolume: (caller, args) => job(caller, instances.migrateVirtualMachineWithVolume(context, caller, args)),
    restoreVirtualMachine: (caller, args) => job(caller, instances.restoreVirtualMachine(context, caller, args)),
    scaleVirtualMachine: (caller, args) => job(caller, instances.scaleVirtualMachine(context, caller, args)),
    unmanagedInstances: (caller, args) => instances.unmanagedInstances(context, caller, args),
    importUnmanagedInstance: (caller, args) => job(caller, instances.importUnmanagedInstance(context, caller, args)),
    unmanageVirtualMachine: (caller, args) => job(caller, instances.unmanageVirtualMachine(context, caller, args)),
    vmsForImport: (caller, args) => instances.vmsForImport(context, caller, args, services.secrets),
    importVm: (caller, args) => job(caller, instances.importVm(context, caller, args, services.secrets)),
    importVmTasks: (caller, args) => instances.importVmTasks(context, caller, args),
    importVmPreview: (caller, args) => instances.importVmPreview(context, caller, args, services.secrets),
    recoverVirtualMachine: (caller, args) => instance(caller, instances.recoverVirtualMachine(context, caller, args)),
    expungeVirtualMachine: (caller, args) => instances.expungeVirtualMachine(context, caller, args),
    updateVirtualMachine: (caller, args) => instance(caller, instances.updateVirtualMachine(context, caller, args)),
    changeServiceForVirtualMachine: (caller, args) => instance(caller, instances.changeServiceForVirtualMachine(context, caller, args)),

    virtualMachines: (caller, args) => instancesShownTo(caller, instances.virtualMachines(context, caller, args)),
    shownLease: (view) => shownLease(context, view),
    virtualMachine: (caller, id) => instanceShownTo(caller, getInstance(db(context), visibilityOf(context, caller), id)),
    virtualMachineAsOf: async (caller, id, at) => instanceShownTo(caller, await virtualMachineAsOf(context, caller, id, at)),
    asyncJob: (caller, id) => jobShownTo(caller, findJob(context, caller, id)),
    asyncJobs: (caller, args) => jobsShownTo(caller, asyncJobs(context, caller, args)),
    createVMSchedule: (caller, args) => schedules.createVMSchedule(context, caller, args),
    updateVMSchedule: (caller, args) => schedules.updateVMSchedule(context, caller, args),
    deleteVMSchedule: (caller, args) => schedules.deleteVMSchedule(context, caller, args),
    vmSchedules: (caller, args) => schedules.vmSchedules(context, caller, args),
    createAffinityGroup: (caller, args) => affinity.createAffinityGroup(context, caller, args),
    deleteAffinityGroup: (caller, args) => affinity.deleteAffinityGroup(context, caller, args),
    updateVMAffinityGroup: (caller, args) => instance(caller, affinity.updateVMAffinityGroup(context, caller, args)),
    affinityGroups: (caller, args) => affinity.affinityGroups(context, caller, args),
    createVMSnapshot: (caller, args) => job(caller, vmsnapshots.createVMSnapshot(context, caller, args)),
    revertToVMSnapshot: (caller, args) => job(caller, vmsnapshots.revertToVMSnapshot(context, caller, args)),
    deleteVMSnapshot: (caller, args) => job(caller, vmsnapshots.deleteVMSnapshot(context, caller, args)),
    vmSnapshots: (caller, args) => vmsnapshots.vmSnapshots(context, caller, args),
    onJobUpdated: (caller, id, listener) => watcher.watch(caller, id, (updated) => listener(jobShownTo(caller, updated))),

    events: (caller, args) => eventsShownTo(caller, events(context, caller, args)),
    usageEvents: (caller, args) => usageEvents(context, caller, args),
    usageRecords: (caller, args) => usageRecords(context, caller, args),

    createZone: (caller, args) => infrastructure.createZone(context, caller, args),
    addCluster: (caller, args) => infrastructure.addCluster(context, caller, args),
    addHost: (caller, args) => infrastructure.addHost(context, caller, args, services),
    createStoragePool: (caller, args) => infrastructure.createStoragePool(context, caller, args),
    createNetwork: (caller, args) => infrastructure.createNetwork(context, caller, args),
    createServiceOffering: (caller, args) => infrastructure.createServiceOffering(context, caller, args),
    createDiskOffering: (caller, args) => infrastructure.createDiskOffering(context, caller, args),
    registerTemplate: (caller, args) => infrastructure.registerTemplate(context, caller, args),
    createAccount: (caller, args) => createAccount(context, caller, args),
    updateConfiguration: (caller, args) => infrastructure.updateConfiguration(context, caller, args),

    zones: (caller, args) => guarded(() => infrastructure.zones(context, caller, args)),
    clusters: (caller, args) => guarded(() => infrastructure.clusters(context, caller, args)),
    hosts: (caller, args) => guarded(() => infrastructure.hosts(context, caller, args)),
    storagePools: (caller, args) => guarded(() => infrastructure.storagePools(context, caller, args)),
    networks: (caller, args) => guarded(() => infrastructure.networks(context, caller, args)),
    serviceOfferings: (caller, args) => guarded(() => infrastructure.serviceOfferings(context, caller, args)),
    diskOfferings: (caller, args) => guarded(() => infrastructure.diskOfferings(context, caller, args)),
    templates: (caller, args) => guarded(() => infrastructure.templates(context, caller, args)),
    accounts: (caller, args) => guarded(() => accounts(context, caller, args)),
    configurations: (caller, args) => guarded(() => infrastructure.configurations(context, caller, args)),
    osTypes: (_caller, args) => osTypes(args),

    async health() {
      const detail: Record<string, unknown> = { readModel: { position: context.readModel.position, caughtUp: context.readModel.isCaughtUp } };
      try {
        detail.eventStore = { head: await context.store.headPosition() };
      } catch (error) {
        return { ok: false, detail: { ...detail, eventStore: { error: error instanceof Error ? error.message : String(error) } } };
      }
      const ok = context.readModel.error === undefined;
      if (!ok) detail.readModel = { ...(detail.readModel as object), stopped: true };
      return { ok, detail };
    },
  };
}
