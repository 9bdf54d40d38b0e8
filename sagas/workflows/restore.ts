// restoreVirtualMachine: a running instance is stopped, its root volume replaced from the template
// (the instance decider does that when the stop is recorded), and started again.
import { phased } from './phased.js';
import { startPhase } from './start.js';
import { stopPhase } from './stop.js';
import type { Workflow } from './workflow.js';

export const restoreWorkflow: Workflow = {
  cmd: 'restoreVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'STOPPING', progress: 20 },
    { step: 'FORCING_STOP', progress: 35 },
    { step: 'PLANNING', progress: 50 },
    { step: 'STARTING', progress: 70 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ stop: stopPhase, start: startPhase }),
};
