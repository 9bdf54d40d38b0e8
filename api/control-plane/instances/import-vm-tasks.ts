// importVmTasks (CloudStack's listImportVmTasks, admin): the VMware → KVM conversions of a zone,
// running and finished, from the import_vm_tasks read model. Durations are counted to now for a task
// still running and to its end for one finished, in whole seconds.
import { getZone } from '../../../projections/infrastructure/index.js';
import { listImportVmTasks, type ImportVmTaskRow, type ImportVmTaskState } from '../../../projections/import-vm-tasks/index.js';
import type { Connection, PageRequest } from '../../../projections/pagination.js';
import { db, guarded, now, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';

export const IMPORT_VM_TASK_FILTERS = ['ALL', 'RUNNING', 'COMPLETED', 'FAILED'] as const;
export type ImportVmTasksFilter = (typeof IMPORT_VM_TASK_FILTERS)[number];

export interface ImportVmTasksArgs extends PageRequest {
  readonly zoneId: string;
  readonly accountId?: string | null;
  readonly convertInstanceHostId?: string | null;
  readonly tasksFilter?: ImportVmTasksFilter | null;
}

export interface ImportVmTaskView {
  readonly id: string;
  readonly zoneId: string;
  readonly accountId: string;
  readonly virtualMachineId: string | null;
  readonly displayName: string;
  readonly state: ImportVmTaskState;
  readonly sourceHost: string;
  readonly sourceVmName: string;
  readonly step: string;
  readonly progress: number;
  readonly description: string;
  readonly convertInstanceHostId: string;
  readonly importInstanceHostId: string;
  readonly stepDuration: number;
  readonly duration: number;
  readonly created: string;
  readonly lastUpdated: string;
  readonly completed: string | null;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  PREPARING: 'Preparing the conversion: the conversion host is asked to export the guest',
  EXPORTING: "Exporting the guest's files from the VMware host to the temporary location",
  CONVERTING: 'Converting the guest with virt-v2v',
  IMPORTING: 'Importing the converted disks into the destination storage',
  CLEANING_UP: 'Removing the temporary files of a conversion that did not finish',
  COMPLETED: 'The instance was imported',
};

const seconds = (from: string, to: string): number => Math.max(0, Math.floor((Date.parse(to) - Date.parse(from)) / 1000));

function taskView(row: ImportVmTaskRow, at: string): ImportVmTaskView {
  const end = row.completed ?? at;
  return {
    id: row.id,
    zoneId: row.zoneId,
    accountId: row.accountId,
    // CloudStack names the instance once the task completed; a failed import leaves none.
    virtualMachineId: row.state === 'Completed' ? row.instanceId : null,
    displayName: row.displayName,
    state: row.state,
    sourceHost: row.sourceHost,
    sourceVmName: row.sourceVmName,
    step: row.step,
    progress: row.progress,
    description: row.state === 'Failed' ? (row.failure ?? 'The import failed') : (DESCRIPTIONS[row.step] ?? row.step),
    convertInstanceHostId: row.convertHostId,
    importInstanceHostId: row.importHostId,
    stepDuration: seconds(row.stepStarted, end),
    duration: seconds(row.created, end),
    created: row.created,
    lastUpdated: row.lastUpdated,
    completed: row.completed,
  };
}

export function importVmTasks(context: ControlPlaneContext, caller: Caller, args: ImportVmTasksArgs): Connection<ImportVmTaskView> {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', `Cannot perform this operation, caller account [${caller.accountId}] is not ROOT Admin.`);
  if (!getZone(db(context), args.zoneId)) throw new ApiError('BAD_USER_INPUT', 'Please specify a valid zone.', 'zoneId');
  const filter = args.tasksFilter ?? 'ALL';
  const state = filter === 'ALL' ? null : ((filter.charAt(0) + filter.slice(1).toLowerCase()) as ImportVmTaskState);
  const at = now(context);
  return guarded(() => {
    const page = listImportVmTasks(db(context), { zoneId: args.zoneId, accountId: args.accountId ?? null, convertHostId: args.convertInstanceHostId ?? null, state }, args);
    return { ...page, nodes: page.nodes.map((row) => taskView(row, at)) };
  });
}
