// Given/when/then of importVm from VMware (behaviour §4.7; sagas/workflows/import-vmware.ts): given
// the job's events and the instance's import request, when the workflow decides, then its next step:
// convert on the conversion host, import on the import host, the outcome recorded; a timeout or a
// failed import cleans the temporary files up before the failure is recorded. And the agent's
// progress mapped into the job's 0–100.
import { describe, expect, it } from 'vitest';
import type { AgentCommand, UnnumberedAgentCommand } from '../../../domain/agent-protocol/index.js';
import { fold } from '../../../domain/shared/decider.js';
import { instanceDecider, type Instance, type InstanceEvent, type VmwareImportSource } from '../../../domain/instance/index.js';
import type { AgentReplyRecord, JobEvent } from '../../../domain/job/index.js';
import { importVmWorkflow } from '../../../sagas/workflows/import.js';
import { progressWithin } from '../../../sagas/workflows/registry.js';
import type { Step } from '../../../sagas/workflows/workflow.js';
import { given } from '../../support/given-workflow.js';
import { AT, ID, deploy, eventsOf } from '../instance/fixtures.js';

const NOW = '2025-03-01T10:00:05.000Z';
const JOB = 'job-import-vmware';
const source: VmwareImportSource = {
  remote: { host: '10.9.0.20', port: 22, username: 'root' },
  passwordRef: 'secret-ref-v',
  vmName: 'v2vtest',
  vmxPath: '/vmfs/volumes/datastore1/v2vtest/v2vtest.vmx',
  convertHostId: 'host-convert',
  temporary: { poolId: 'pool-tmp', path: '/mnt/tmp-pool' },
  extraParams: ['-v'],
  convertTimeoutMs: 3 * 3_600_000,
  destinationPath: '/mnt/dest-pool',
};
const deployed = eventsOf(deploy({ startVm: false }))[0]!;
if (deployed.type !== 'InstanceDeployed') throw new Error('the fixture deploys first');
const { startVm: _startVm, requestedHostId: _requested, lease: _lease, ...shape } = deployed.data;
// The source's disks in reverse order of the volumes (positions say which disk is which volume).
const positions = shape.volumes.map((_v, i) => shape.volumes.length - 1 - i);
const requested: InstanceEvent[] = [
  { type: 'InstanceImportRequested', data: { ...shape, jobId: JOB, state: 'Stopped', hostId: ID.host1, diskPositions: positions, importedFrom: null, vmware: source } },
];
const vm: Instance = (() => {
  const state = fold(instanceDecider, requested);
  if (!state.exists) throw new Error('instance setup');
  return state;
})();
const opened: JobEvent = { type: 'JobOpened', data: { jobId: JOB, cmd: 'importVm', instanceId: ID.vm, accountId: ID.account, createdAt: AT } };
const issued = (n: number, phase: string, step: Step): JobEvent => {
  if (step.kind !== 'issue') throw new Error(`expected a command, got ${step.kind}`);
  return { type: 'JobAgentCommandIssued', data: { phase, command: { ...step.command, commandId: `${JOB}.${n}` } as AgentCommand, timeoutAt: '2025-03-01T13:01:05.000Z', issuedAt: AT } };
};
const replied = (n: number, outcome: AgentReplyRecord['outcome'], extra: Partial<AgentReplyRecord> = {}): JobEvent => ({
  type: 'JobAgentReplied',
  data: { reply: { commandId: `${JOB}.${n}`, outcome, powerState: 'missing', ...extra }, receivedAt: NOW },
});
const timedOut = (n: number): JobEvent => ({ type: 'JobTimerFired', data: { commandId: `${JOB}.${n}`, firedAt: NOW } });
const next = (job: JobEvent[]): Step => given(importVmWorkflow, { job: [opened, ...job], instance: requested }).when(NOW).step;
const converted = {
  bootMode: 'BIOS' as const,
  disks: [
    { position: 0, path: `/mnt/tmp-pool/${ID.vm}-sda`, virtualSize: 1024, format: 'qcow2', bus: 'virtio' },
    { position: 1, path: `/mnt/tmp-pool/${ID.vm}-sdb`, virtualSize: 2048, format: 'qcow2', bus: 'virtio' },
  ],
};
const convertStep = next([]);
const convertIssued = issued(0, 'convert', convertStep);
const importStep = next([convertIssued, replied(0, 'succeeded', { converted })]);
const importIssued = issued(1, 'import', importStep);
const cleanupCommand = (hostId: string): UnnumberedAgentCommand => ({ type: 'ImportConvertedDisks', hostId, instanceId: ID.vm, instanceName: vm.instanceName, tempPath: '/mnt/tmp-pool', outputName: ID.vm, disks: [] });

describe('importVm from VMware: convert, then import', () => {
  it('given a new import, then the conversion host is sent ConvertVmwareGuest (password by reference only) while the job is PREPARING', () => {
    expect(convertStep).toMatchObject({ kind: 'issue', phase: 'convert', step: 'PREPARING', timeoutMs: 3 * 3_600_000 + 60_000 });
    expect(convertStep.kind === 'issue' && convertStep.command).toEqual({
      type: 'ConvertVmwareGuest',
      hostId: 'host-convert',
      instanceId: ID.vm,
      instanceName: vm.instanceName,
      source: { kind: 'esxi-ssh', host: '10.9.0.20', port: 22, username: 'root', vmxPath: '/vmfs/volumes/datastore1/v2vtest/v2vtest.vmx' },
      passwordRef: 'secret-ref-v',
      tempPath: '/mnt/tmp-pool',
      outputName: ID.vm,
      timeoutMs: 3 * 3_600_000,
      extraParams: ['-v'],
    });
  });

  it('given the conversion under way, then the workflow waits for it', () => {
    expect(next([convertIssued])).toEqual({ kind: 'wait', until: '2025-03-01T13:01:05.000Z' });
  });

  it('given the conversion succeeded, then the import host is sent the converted disk of each volume (by source position) into the destination pool, at IMPORTING', () => {
    expect(importStep).toMatchObject({ kind: 'issue', phase: 'import', step: 'IMPORTING' });
    expect(importStep.kind === 'issue' && importStep.command).toEqual({
      type: 'ImportConvertedDisks',
      hostId: ID.host1,
      instanceId: ID.vm,
      instanceName: vm.instanceName,
      tempPath: '/mnt/tmp-pool',
      outputName: ID.vm,
      disks: vm.volumes.map((volume, i) => ({ volumeId: volume.id, sourcePath: converted.disks[positions[i]!]!.path, toPath: '/mnt/dest-pool' })),
    });
  });

  it('given the import succeeded, then the instance is recorded imported, Stopped', () => {
    expect(next([convertIssued, replied(0, 'succeeded', { converted }), importIssued, replied(1, 'succeeded')])).toMatchObject({
      kind: 'record',
      command: { type: 'RecordImported', jobId: JOB, powerState: 'stopped' },
    });
  });

  it('given the conversion failed, then the conversion host is sent the clean-up too (CloudStack\'s finally: the agent may have died before removing its files), then the import fails with CloudStack\'s words and the host\'s', () => {
    const failedConversion = [convertIssued, replied(0, 'failed', { error: { message: 'virt-v2v exited with 1' } })];
    const step = next(failedConversion);
    expect(step).toMatchObject({ kind: 'issue', phase: 'cleanup', step: 'CLEANING_UP' });
    expect(step.kind === 'issue' && step.command).toEqual(cleanupCommand('host-convert'));
    expect(next([...failedConversion, issued(1, 'cleanup', step), replied(1, 'succeeded')])).toMatchObject({
      kind: 'record',
      command: { type: 'RecordImportFailed', reason: 'The convert process failed for instance v2vtest from VMware to KVM on host host-convert: virt-v2v exited with 1' },
    });
  });
});

describe('importVm from VMware: temporary files cleaned up on every failure', () => {
  it('given the conversion timed out, then the conversion host is sent the clean-up first (CLEANING_UP), then the failure is recorded', () => {
    const step = next([convertIssued, timedOut(0)]);
    expect(step).toMatchObject({ kind: 'issue', phase: 'cleanup', step: 'CLEANING_UP' });
    expect(step.kind === 'issue' && step.command).toEqual(cleanupCommand('host-convert'));
    const cleanup = issued(1, 'cleanup', step);
    expect(next([convertIssued, timedOut(0), cleanup])).toMatchObject({ kind: 'wait' });
    expect(next([convertIssued, timedOut(0), cleanup, replied(1, 'succeeded')])).toMatchObject({
      kind: 'record',
      command: { type: 'RecordImportFailed', reason: 'The convert process failed for instance v2vtest from VMware to KVM on host host-convert: host host-convert did not answer within 10865 s' },
    });
  });

  it('given the import failed, then the import host cleans up, and the failure is recorded even when the clean-up fails too', () => {
    const failedImport = [convertIssued, replied(0, 'succeeded', { converted }), importIssued, replied(1, 'failed', { error: { message: 'qemu-img: not a qcow2' } })];
    const step = next(failedImport);
    expect(step.kind === 'issue' && step.command).toEqual(cleanupCommand(ID.host1));
    expect(next([...failedImport, issued(2, 'cleanup', step), replied(2, 'failed', { error: { message: 'rm: busy' } })])).toMatchObject({
      kind: 'record',
      command: { type: 'RecordImportFailed', reason: 'The import process failed for instance v2vtest from VMware to KVM on host host-1: qemu-img: not a qcow2' },
    });
  });

  it('given a conversion that wrote no disk for a volume, then no import is tried: clean-up, then the failure', () => {
    const short = { ...converted, disks: converted.disks.slice(1) };
    const step = next([convertIssued, replied(0, 'succeeded', { converted: short })]);
    expect(step.kind === 'issue' && step.command).toEqual(cleanupCommand(ID.host1));
    expect(next([convertIssued, replied(0, 'succeeded', { converted: short }), issued(1, 'cleanup', step), timedOut(1)])).toMatchObject({
      kind: 'record',
      command: { type: 'RecordImportFailed', reason: 'The import process failed for instance v2vtest from VMware to KVM on host host-1: the conversion wrote no disk for the source\'s disk at position 0' },
    });
  });
});

describe('an agent\'s progress in the job\'s 0–100', () => {
  it('given the conversion\'s 0–100, then it runs over 5–90, its stage the step; the import\'s over 90–100', () => {
    expect(progressWithin(importVmWorkflow, 'ConvertVmwareGuest', 'export', 0)).toEqual({ step: 'EXPORTING', progress: 5 });
    expect(progressWithin(importVmWorkflow, 'ConvertVmwareGuest', 'convert', 50)).toEqual({ step: 'CONVERTING', progress: 47 });
    expect(progressWithin(importVmWorkflow, 'ConvertVmwareGuest', 'convert', 100)).toEqual({ step: 'CONVERTING', progress: 90 });
    expect(progressWithin(importVmWorkflow, 'ImportConvertedDisks', 'import', 50)).toEqual({ step: 'IMPORTING', progress: 95 });
  });
  it('given a command the workflow gives no band, then it is not the job\'s progress', () => {
    expect(progressWithin(importVmWorkflow, 'StartDomain', 'copy', 50)).toBeUndefined();
  });
});
