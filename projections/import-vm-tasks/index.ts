export { importVmTasksProjection, IMPORT_VM_TASK_STEPS } from './projection.js';
export { listImportVmTasks, type ImportVmTaskFilter, type ImportVmTaskRow, type ImportVmTaskState } from './queries.js';
