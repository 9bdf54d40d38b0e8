// importVm from VMware (behaviour §4.7): the conversion host's agent exports the stopped guest from
// its VMware host into the temporary location and converts it with virt-v2v (one command, whose
// progress the agent reports as EXPORTING then CONVERTING); the import host's agent then moves the
// converted disks into the destination pool as the instance's volumes (IMPORTING); the instance is
// recorded Stopped with the source's NICs' MACs (it already holds them: the API allocated them).
//
// Temporary files are removed in every outcome: the agent removes its own on a failed conversion and
// after a successful import; when a command fails or times out (its agent gone, or still busy), the
// workflow sends a clean-up first (ImportConvertedDisks with no disks: it only removes
// `<tempPath>/<outputName>*`; an agent runs one command per domain at a time, so it runs after a
// conversion still under way) and records the failure after it, whatever the clean-up's outcome.
// A control plane that restarts mid-conversion sends the command again (the runner's take-over):
// the agent's conversion is idempotent, so the workflow resumes.
import type { ConvertedGuest, UnnumberedAgentCommand } from '../../domain/agent-protocol/index.js';
import type { VmwareImportSource } from '../../domain/instance/index.js';
import { lastCommandOf, type IssuedCommand } from '../../domain/job/index.js';
import type { Phase, Step, WorkflowInput } from './workflow.js';

/** Margin over the conversion's own timeout for the agent's steps around it (export set-up, checks). */
const MARGIN_MS = 60_000;

export const vmwareMessages = {
  convertFailed: (vm: string, host: string, why: string) => `The convert process failed for instance ${vm} from VMware to KVM on host ${host}: ${why}`,
  importFailed: (vm: string, host: string, why: string) => `The import process failed for instance ${vm} from VMware to KVM on host ${host}: ${why}`,
  timedOut: (host: string, ms: number) => `host ${host} did not answer within ${Math.round(ms / 1000)} s`,
  diskMissing: (position: number) => `the conversion wrote no disk for the source's disk at position ${position}`,
} as const;

/** The converted files' prefix (virt-v2v's `-on`): the instance's id, so a replay names the same files. */
export const outputNameOf = (instanceId: string): string => instanceId;

/** Why a command did not succeed, in the agent's words or the timeout's. */
function why(issued: IssuedCommand): string {
  return issued.reply?.error?.message ?? vmwareMessages.timedOut(issued.command.hostId, Date.parse(issued.timeoutAt) - Date.parse(issued.sentAt));
}

const failed = (issued: IssuedCommand) => issued.reply?.outcome === 'failed' || issued.timedOut;

/** Removes what is left of the conversion on `hostId`, then (once it answered or timed out) the failure is recorded. */
function cleanUpThenFail({ job, instance, now, timeouts }: WorkflowInput, source: VmwareImportSource, hostId: string, reason: string): Step {
  const cleanup = lastCommandOf(job, 'cleanup');
  if (!cleanup) {
    const command: UnnumberedAgentCommand = {
      type: 'ImportConvertedDisks',
      hostId,
      instanceId: instance.id,
      instanceName: instance.instanceName,
      tempPath: source.temporary.path,
      outputName: outputNameOf(instance.id),
      disks: [],
    };
    // Queued behind a conversion still under way on that host: as long as the conversion may take.
    return { kind: 'issue', phase: 'cleanup', command, timeoutMs: source.convertTimeoutMs + timeouts.agentMs, step: 'CLEANING_UP' };
  }
  if (!cleanup.reply && !cleanup.timedOut) return { kind: 'wait', until: cleanup.timeoutAt };
  return { kind: 'record', command: { type: 'RecordImportFailed', instanceId: instance.id, jobId: job.jobId, at: now, reason } };
}

/** The disks the conversion wrote, as the import host's command takes them (one per volume, by the source disk's position). */
function disksToImport(converted: ConvertedGuest | undefined, volumeIds: readonly string[], positions: readonly number[], toPath: string): { disks: UnnumberedDisk[] } | { missing: number } {
  const disks: UnnumberedDisk[] = [];
  for (const [i, volumeId] of volumeIds.entries()) {
    const position = positions[i]!;
    const disk = converted?.disks.find((d) => d.position === position);
    if (!disk) return { missing: position };
    disks.push({ volumeId, sourcePath: disk.path, toPath });
  }
  return { disks };
}

type UnnumberedDisk = { readonly volumeId: string; readonly sourcePath: string; readonly toPath: string | null };

export const vmwarePhase: Phase<'import'> = (input, pending) => {
  const { job, instance, now, timeouts } = input;
  const source = pending.vmware!;
  const vm = source.vmName;
  const convert = lastCommandOf(job, 'convert');
  if (!convert) {
    const command: UnnumberedAgentCommand = {
      type: 'ConvertVmwareGuest',
      hostId: source.convertHostId,
      instanceId: instance.id,
      instanceName: instance.instanceName,
      source: { kind: 'esxi-ssh', ...source.remote, vmxPath: source.vmxPath },
      passwordRef: source.passwordRef,
      tempPath: source.temporary.path,
      outputName: outputNameOf(instance.id),
      timeoutMs: source.convertTimeoutMs,
      extraParams: source.extraParams,
    };
    // Sent while the job prepares; the agent's progress moves it on to EXPORTING and CONVERTING.
    return { kind: 'issue', phase: 'convert', command, timeoutMs: source.convertTimeoutMs + MARGIN_MS, step: 'PREPARING' };
  }
  // A failed conversion's agent removes its export and output itself, but the failure may have come
  // from a redelivery to an agent that restarted mid-conversion, with the first run's files still
  // there: the clean-up is sent whatever the outcome, as CloudStack's `finally` does.
  if (failed(convert)) return cleanUpThenFail(input, source, source.convertHostId, vmwareMessages.convertFailed(vm, source.convertHostId, why(convert)));
  if (!convert.reply) return { kind: 'wait', until: convert.timeoutAt };

  const imported = lastCommandOf(job, 'import');
  if (!imported) {
    const planned = disksToImport(convert.reply.converted, instance.volumes.map((v) => v.id), pending.diskPositions, source.destinationPath);
    if ('missing' in planned) return cleanUpThenFail(input, source, pending.hostId, vmwareMessages.importFailed(vm, pending.hostId, vmwareMessages.diskMissing(planned.missing)));
    const command: UnnumberedAgentCommand = {
      type: 'ImportConvertedDisks',
      hostId: pending.hostId,
      instanceId: instance.id,
      instanceName: instance.instanceName,
      tempPath: source.temporary.path,
      outputName: outputNameOf(instance.id),
      disks: planned.disks,
    };
    return { kind: 'issue', phase: 'import', command, timeoutMs: source.convertTimeoutMs + timeouts.agentMs, step: 'IMPORTING' };
  }
  if (failed(imported)) return cleanUpThenFail(input, source, pending.hostId, vmwareMessages.importFailed(vm, pending.hostId, why(imported)));
  if (!imported.reply) return { kind: 'wait', until: imported.timeoutAt };
  return { kind: 'record', command: { type: 'RecordImported', instanceId: instance.id, jobId: job.jobId, at: now, powerState: 'stopped' } };
};
