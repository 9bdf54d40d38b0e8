// importUnmanagedInstance: the host's agent adopts the domain (writes vmledger's record into it); the
// instance is then Running if the domain runs there and Stopped otherwise, as the host answered.
import { lastCommandOf } from '../../domain/job/index.js';
import { failureReason } from './agent-outcome.js';
import { domainSpec } from './domain-spec.js';
import { vmwarePhase } from './import-vmware.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

/** What an unanswered copy says: how long was waited, and the setting that says so. */
function timedOutCopy(hostId: string, copyTimeoutMs: number, agentMs: number): string {
  return `Host ${hostId} did not answer the copy of the disks within ${copyTimeoutMs / 60_000} min per disk (remote.kvm.instance.disks.copy.timeout) and ${agentMs / 1000} s: its agent may be down`;
}

/**
 * An external host's domain (behaviour §4.6 `external`): the destination host's agent copies each
 * disk into its storage as the instance's volume; the instance is then Stopped there, its domain
 * defined at its first start. No domain is adopted.
 */
const copyPhase: Phase<'import'> = ({ job, instance, now, timeouts }, pending) => {
  const external = pending.external!;
  const jobId = job.jobId;
  const last = lastCommandOf(job, 'copy');
  if (!last) {
    return {
      kind: 'issue',
      phase: 'copy',
      command: {
        type: 'CopyRemoteVolumes',
        hostId: pending.hostId,
        instanceId: instance.id,
        instanceName: instance.instanceName,
        remote: external.remote,
        passwordRef: external.passwordRef,
        tmpPath: external.tmpPath,
        copyTimeoutMs: external.copyTimeoutMs,
        volumes: instance.volumes.map((volume, i) => ({ volumeId: volume.id, sourcePath: external.disks[i]!.path, sourceFormat: external.disks[i]!.format })),
      },
      // The disks' copy timeouts, and an ordinary command's for the agent's own steps (checks, renames).
      timeoutMs: external.copyTimeoutMs * instance.volumes.length + timeouts.agentMs,
      step: 'COPYING',
    };
  }
  const reply = last.reply;
  if (reply?.outcome === 'succeeded') return { kind: 'record', command: { type: 'RecordImported', instanceId: instance.id, jobId, at: now, powerState: 'stopped' } };
  if (reply?.outcome === 'failed' || last.timedOut) {
    const why = reply?.error?.message ?? timedOutCopy(pending.hostId, external.copyTimeoutMs, timeouts.agentMs);
    return { kind: 'record', command: { type: 'RecordImportFailed', instanceId: instance.id, jobId, at: now, reason: `Failed to import volumes while importing vm: ${instance.instanceName}. ${why}` } };
  }
  return { kind: 'wait', until: last.timeoutAt };
};

export const importPhase: Phase<'import'> = (context, pending) => {
  if (pending.external) return copyPhase(context, pending);
  // A disk image on a pool (behaviour §4.6 `local`/`shared`): the host's agent checked it when the
  // import was asked for, and it stays where it is; the instance is Stopped there, its domain
  // defined on the image at its first start.
  if (pending.diskImage) return { kind: 'record', command: { type: 'RecordImported', instanceId: context.instance.id, jobId: context.job.jobId, at: context.now, powerState: 'stopped' } };
  if (pending.vmware) return vmwarePhase(context, pending);
  const { job, instance, now, timeouts } = context;
  const jobId = job.jobId;
  const last = lastCommandOf(job, 'import');
  if (!last) {
    return {
      kind: 'issue',
      phase: 'import',
      command: { type: 'ManageDomain', hostId: pending.hostId, instanceId: instance.id, instanceName: instance.instanceName, domain: domainSpec(instance), diskPositions: pending.diskPositions },
      timeoutMs: timeouts.agentMs,
      step: 'IMPORTING',
    };
  }
  const reply = last.reply;
  if (reply?.outcome === 'succeeded') {
    return { kind: 'record', command: { type: 'RecordImported', instanceId: instance.id, jobId, at: now, powerState: reply.powerState === 'running' ? 'running' : 'stopped' } };
  }
  if (reply?.outcome === 'failed' || last.timedOut) {
    return { kind: 'record', command: { type: 'RecordImportFailed', instanceId: instance.id, jobId, at: now, reason: failureReason(last, pending.hostId, timeouts.agentMs) } };
  }
  return { kind: 'wait', until: last.timeoutAt };
};

/**
 * importVm: from an external host the copy (COPYING), from VMware the conversion (PREPARING, then the
 * agent's EXPORTING and CONVERTING over 5–90) and the import of the converted disks (IMPORTING, 90–100).
 */
export const importVmWorkflow: Workflow = {
  cmd: 'importVm',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'PREPARING', progress: 2 },
    { step: 'EXPORTING', progress: 5 },
    { step: 'COPYING', progress: 10 },
    { step: 'CONVERTING', progress: 20 },
    { step: 'IMPORTING', progress: 90 },
    { step: 'CLEANING_UP', progress: 95 },
  ],
  agentProgress: { CopyRemoteVolumes: { from: 10, to: 100 }, ConvertVmwareGuest: { from: 5, to: 90 }, ImportConvertedDisks: { from: 90, to: 100 } },
  compensation: ['give-back-capacity', 'abandon-deployment'],
  decide: phased({ import: importPhase }),
};

export const importWorkflow: Workflow = {
  cmd: 'importUnmanagedInstance',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'IMPORTING', progress: 50 }],
  // A failed import leaves no instance: finishing gives back its addresses and name (it is expunged);
  // one that died before recording its instance is undone as an interrupted deployment is.
  compensation: ['give-back-capacity', 'abandon-deployment'],
  decide: phased({ import: importPhase }),
};
