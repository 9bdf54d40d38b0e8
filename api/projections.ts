import { accountProjections } from '../projections/accounts/index.js';
import { affinityGroupsProjection } from '../projections/affinity/index.js';
import { configurationProjection } from '../projections/configuration/index.js';
import { eventsProjection } from '../projections/events/projection.js';
import { infrastructureProjections } from '../projections/infrastructure/index.js';
import { instancesProjection } from '../projections/instances/projection.js';
import { importVmTasksProjection } from '../projections/import-vm-tasks/index.js';
import { jobsProjection } from '../projections/jobs/projection.js';
import type { Projection } from '../projections/projection.js';
import { vmSchedulesProjection } from '../projections/schedules/index.js';
import { timersProjection } from '../projections/timers/index.js';
import { usageRecordsProjection } from '../projections/usage-records/index.js';
import { usageEventsProjection } from '../projections/usage/projection.js';
import { vmSnapshotsProjection } from '../projections/vmsnapshots/index.js';

/** Every read model the API serves; a change here or in any projection rebuilds the read model once. */
export const projections: readonly Projection[] = [
  ...infrastructureProjections,
  ...accountProjections,
  configurationProjection,
  instancesProjection,
  // After instances: a finished job's result is the instance row as of that moment.
  jobsProjection,
  eventsProjection,
  usageEventsProjection,
  usageRecordsProjection,
  timersProjection,
  vmSchedulesProjection,
  // After instances: the planner's question joins members to their instance rows.
  affinityGroupsProjection,
  vmSnapshotsProjection,
  importVmTasksProjection,
];
