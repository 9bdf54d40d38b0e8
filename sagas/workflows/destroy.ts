// destroyVirtualMachine: a running instance is stopped first; with expunge its domain and disks then go.
import { expungePhase } from './expunge.js';
import { phased } from './phased.js';
import { stopPhase } from './stop.js';
import type { Workflow } from './workflow.js';

export const destroyWorkflow: Workflow = {
  cmd: 'destroyVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'STOPPING', progress: 20 },
    { step: 'FORCING_STOP', progress: 40 },
    { step: 'EXPUNGING', progress: 70 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ stop: stopPhase, expunge: expungePhase }),
};
