// migrateVirtualMachine: reserve the target host, then the source host's agent live-migrates the domain.
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { settle } from './agent-outcome.js';
import { resourcesOf } from './domain-spec.js';
import { CAPACITY_PREFIX } from './finish.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const migratePhase: Phase<'migrate'> = ({ job, instance, now, timeouts }, pending) => {
  const source = instance.hostId ?? pending.sourceHostId;
  const target = pending.targetHostId;
  const jobId = job.jobId;
  const fail = (reason: string): InstanceCommand => ({ type: 'RecordMigrationFailed', instanceId: instance.id, jobId, at: now, reason });
  if (!source) return { kind: 'record', command: fail('the instance is on no host') };
  const last = lastCommandOf(job, 'migrate');
  if (!last) {
    return {
      kind: 'issue',
      phase: 'migrate',
      command: { type: 'MigrateDomain', hostId: source, instanceId: instance.id, instanceName: instance.instanceName, targetHostId: target },
      timeoutMs: timeouts.agentMs,
      reserve: { hostId: target, ...resourcesOf(instance) },
      onRefused: { record: (reason) => fail(`${CAPACITY_PREFIX}${reason}`) },
      step: 'MIGRATING',
    };
  }
  return settle(last, {
    ok: { type: 'RecordMigrationSucceeded', instanceId: instance.id, jobId, at: now, hostId: target },
    failed: fail,
    host: source,
    timeoutMs: timeouts.agentMs,
  });
};

export const migrateWorkflow: Workflow = {
  cmd: 'migrateVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'MIGRATING', progress: 30 }],
  compensation: ['give-back-capacity'],
  decide: phased({ migrate: migratePhase }),
};
