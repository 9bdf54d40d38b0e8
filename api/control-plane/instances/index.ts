// The instance operations of API.md. Each checks and resolves its arguments against the read model
// (resolve.ts), hands the instance aggregate one command (whose refusal appends nothing), opens the
// job, starts its saga, and returns once the read model shows the effect (run.ts).
export { deployVirtualMachine } from './deploy.js';
export { migrateVirtualMachineWithVolume } from './volume-migration.js';
export { migrateVirtualMachine, rebootVirtualMachine, restoreVirtualMachine, startVirtualMachine, stopVirtualMachine } from './lifecycle.js';
export { destroyVirtualMachine, expungeVirtualMachine, recoverVirtualMachine } from './removal.js';
export { changeServiceForVirtualMachine, scaleVirtualMachine, updateVirtualMachine } from './changes.js';
export { virtualMachines } from './list.js';
export { offeringSnapshot, requireInstance } from './resolve.js';
export { importUnmanagedInstance, unmanagedInstances, unmanageVirtualMachine } from './import.js';
export { vmsForImport } from './import-external.js';
export { importVm, importVmPreview } from './import-vm.js';
export { importVmTasks } from './import-vm-tasks.js';
