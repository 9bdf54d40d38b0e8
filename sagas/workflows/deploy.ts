// deployVirtualMachine: the instance is recorded by the API (its name, NICs and job claimed first);
// with startVm the workflow then starts it as startVirtualMachine does. A deployment that never
// recorded its instance is undone by its compensation (../deploy-compensation.ts), in one place.
import { phased } from './phased.js';
import { startPhase } from './start.js';
import type { Workflow } from './workflow.js';

export const deployWorkflow: Workflow = {
  cmd: 'deployVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'PLANNING', progress: 10 },
    { step: 'STARTING', progress: 40 },
  ],
  compensation: ['abandon-deployment', 'give-back-capacity'],
  decide: phased({ start: startPhase }),
};
