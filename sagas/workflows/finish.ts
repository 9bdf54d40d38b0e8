// The step every workflow ends with, however it ends: once the instance no longer waits on the job,
// capacity is put right (the compensation of every reservation the job made), what an expunge leaves
// is freed, and the job is closed with the outcome the instance's history gives it.
import type { JobError } from '../../domain/job/index.js';
import type { Instance, InstanceEvent } from '../../domain/instance/index.js';
import { resourcesOf } from './domain-spec.js';
import type { Step, VolumeHoldings, WorkflowInput } from './workflow.js';

/** A failure reason that begins with this prefix is reported as INSUFFICIENT_CAPACITY. */
export const CAPACITY_PREFIX = 'Insufficient capacity: ';

export function finish({ job, instance, history }: WorkflowInput): Step {
  const touched = new Set<string>([...Object.values(job.chosenHosts), ...job.rejectedHosts, ...job.commands.map((c) => c.command.hostId)]);
  for (const c of job.commands) if (c.command.type === 'MigrateDomain') touched.add(String(c.command.targetHostId));
  const onHost = instance.hostId !== null && ['Running', 'Starting', 'Stopping', 'Migrating'].includes(instance.state) ? instance.hostId : null;
  if (onHost) touched.delete(onHost);
  // The last host of a stopped, destroyed or expunged instance holds nothing for it any more.
  if (!onHost && instance.lastHostId) touched.add(instance.lastHostId);
  return {
    kind: 'finish',
    release: [...touched].sort(),
    keep: onHost ? { hostId: onHost, ...resourcesOf(instance) } : null,
    volumes: volumeHoldings(instance, history),
    freeAddresses: instance.expunged,
    error: jobError(job.jobId, history),
  };
}

/**
 * The storage an instance's volumes hold until they are expunged (a destroyed volume still takes its
 * space, as in CloudStack): a replaced root, a volume moved off a pool or an expunged instance gives
 * its reservations back.
 */
export function volumeHoldings(instance: Instance, history: readonly InstanceEvent[]): VolumeHoldings {
  const ids = new Set<string>();
  for (const event of history) {
    if (event.type === 'InstanceDeployed') for (const v of event.data.volumes) ids.add(v.id);
    if (event.type === 'InstanceRestored') ids.add(event.data.rootVolume.id);
  }
  for (const v of instance.volumes) ids.add(v.id);
  const hold = instance.expunged
    ? []
    : instance.volumes
        .filter((v) => v.state !== 'Expunged' && v.storagePoolId !== null)
        .map((v) => ({ poolId: v.storagePoolId as string, volumeId: v.id, bytes: v.size }));
  return { ids: [...ids].sort(), hold };
}

const FAILURES = new Set([
  'InstanceStartFailed',
  'InstanceErrored',
  'InstanceStopFailed',
  'InstanceRebootFailed',
  'InstanceMigrationFailed',
  'InstanceScaleFailed',
  'InstanceExpungeFailed',
  'InstanceVMSnapshotTaskFailed',
  'InstanceVolumeMigrationFailed',
  'InstanceImportFailed',
  'InstanceUnmanageFailed',
]);

/** How the job ended, from the last instance event that settled it. */
export function jobError(jobId: string, history: readonly InstanceEvent[]): JobError | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const event = history[i]!;
    const data = event.data as { jobId?: unknown; settledJobId?: unknown; reason?: unknown };
    const expungeOfThisJob = jobId.startsWith('expunge-') && (event.type === 'InstanceExpunged' || event.type === 'InstanceExpungeFailed');
    if (data.jobId !== jobId && data.settledJobId !== jobId && !expungeOfThisJob) continue;
    if (event.type === 'InstancePowerStateReported') {
      // An agent report settled it: it went the way the operation wanted unless the instance stopped while starting.
      return (event.data.state === 'Stopped' && history.some((e) => e.type === 'InstanceStartRequested' && e.data.jobId === jobId))
        ? failure('INTERNAL_ERROR', `host ${event.data.hostId} reported the instance stopped while it was starting`)
        : null;
    }
    if (!FAILURES.has(event.type)) return null;
    const reason = typeof data.reason === 'string' ? data.reason : 'the operation failed';
    return reason.startsWith(CAPACITY_PREFIX) ? failure('INSUFFICIENT_CAPACITY', reason.slice(CAPACITY_PREFIX.length)) : failure('INTERNAL_ERROR', reason);
  }
  return null;
}

function failure(code: 'INSUFFICIENT_CAPACITY' | 'INTERNAL_ERROR', message: string): JobError {
  return { code, errorCode: code === 'INSUFFICIENT_CAPACITY' ? 533 : 530, message };
}
