// destroyVirtualMachine: the instance's VM snapshots are deleted first (CloudStack bug #3212: destroyed
// instances kept billing them), a running instance is then stopped; with expunge its domain and disks then go.
import { expungePhase } from './expunge.js';
import { phased } from './phased.js';
import { stopPhase } from './stop.js';
import { vmSnapshotPhase } from './vmsnapshot.js';
import type { Workflow } from './workflow.js';

export const destroyWorkflow: Workflow = {
  cmd: 'destroyVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'DELETING_SNAPSHOTS', progress: 10 },
    { step: 'STOPPING', progress: 20 },
    { step: 'FORCING_STOP', progress: 40 },
    { step: 'EXPUNGING', progress: 70 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ vmsnapshot: vmSnapshotPhase, stop: stopPhase, expunge: expungePhase }),
};
