// Given/when/then of the workflows (sagas/workflows/): given the job's events and the instance's
// history, when the workflow decides, then its next step.
import { describe, expect, it } from 'vitest';
import type { UnnumberedAgentCommand } from '../../../domain/agent-protocol/index.js';
import { fold } from '../../../domain/shared/decider.js';
import { instanceDecider, type Instance, type InstanceCommand, type InstanceEvent } from '../../../domain/instance/index.js';
import type { AgentReplyRecord, JobEvent } from '../../../domain/job/index.js';
import { deployWorkflow } from '../../../sagas/workflows/deploy.js';
import { importVmWorkflow, importWorkflow } from '../../../sagas/workflows/import.js';
import { destroyWorkflow } from '../../../sagas/workflows/destroy.js';
import { domainSpec } from '../../../sagas/workflows/domain-spec.js';
import { CAPACITY_PREFIX } from '../../../sagas/workflows/finish.js';
import { WORKFLOWS, workflowOf } from '../../../sagas/workflows/registry.js';
import { stopWorkflow } from '../../../sagas/workflows/stop.js';
import type { Step } from '../../../sagas/workflows/workflow.js';
import { given, TIMEOUTS as timeouts } from '../../support/given-workflow.js';
import { AT, ID, deploy, eventsOf, nic1, nic2, owner } from '../instance/fixtures.js';

const NOW = '2025-03-01T10:00:05.000Z';
const JOB = ID.deployJob;

const opened = (jobId: string, cmd: string): JobEvent => ({ type: 'JobOpened', data: { jobId, cmd, instanceId: ID.vm, accountId: ID.account, createdAt: AT } });
/** The deploy job's events after its opening. */
const job = (...events: JobEvent[]): JobEvent[] => [opened(JOB, 'deployVirtualMachine'), ...events];
/** The deploy workflow's next step. */
const nextStep = (jobEvents: JobEvent[], _instance: Instance, history: InstanceEvent[], now: string, t = timeouts): Step =>
  given(deployWorkflow, { job: jobEvents, instance: history }).when(now, t).step;

function instance(history: InstanceEvent[]): Instance {
  const state = fold(instanceDecider, history);
  if (!state.exists) throw new Error('instance setup');
  return state;
}

const chosen = (hostId: string): JobEvent => ({ type: 'JobHostChosen', data: { phase: 'start', hostId } });
const issued = (n: number, phase: string, command: UnnumberedAgentCommand): JobEvent => ({
  type: 'JobAgentCommandIssued',
  data: { phase, command: { ...command, commandId: `${JOB}.${n}` }, timeoutAt: '2025-03-01T10:00:35.000Z', issuedAt: AT },
});
const replied = (n: number, outcome: AgentReplyRecord['outcome'], error?: AgentReplyRecord['error']): JobEvent => ({
  type: 'JobAgentReplied',
  data: { reply: { commandId: `${JOB}.${n}`, outcome, powerState: outcome === 'succeeded' ? 'running' : 'stopped', ...(error ? { error } : {}) }, receivedAt: NOW },
});
const timedOut = (n: number): JobEvent => ({ type: 'JobTimerFired', data: { commandId: `${JOB}.${n}`, firedAt: NOW } });

function recorded(step: Step): InstanceCommand {
  if (step.kind !== 'record') throw new Error(`expected a record step, got ${step.kind}`);
  return step.command;
}

describe('deploy workflow: its start', () => {
  const history = eventsOf(deploy({ startVm: true }));
  const starting = instance(history);
  const startOn = (hostId: string): UnnumberedAgentCommand => ({ type: 'StartDomain', hostId, domain: domainSpec(starting) });

  it('asks the planner for a host first', () => {
    const step = nextStep(job(), starting, history, NOW, timeouts);
    expect(step.kind).toBe('choose-host');
    if (step.kind !== 'choose-host') return;
    expect(step.onNone(`${CAPACITY_PREFIX}no host`)).toMatchObject({ type: 'RecordStartFailed', jobId: JOB, reason: `${CAPACITY_PREFIX}no host` });
  });

  it('reserves the chosen host and sends StartDomain with the instance as the host must define it', () => {
    const step = nextStep(job(chosen(ID.host1)), starting, history, NOW, timeouts);
    expect(step).toMatchObject({
      kind: 'issue',
      phase: 'start',
      reserve: { hostId: ID.host1, cpuNumber: 1, cpuSpeed: 500, memory: 512 },
      onRefused: { rejectHost: ID.host1 },
      timeoutMs: 30_000,
      command: { type: 'StartDomain', hostId: ID.host1, domain: { instanceId: ID.vm, instanceName: 'i-alice-web-1', memory: 512 } },
    });
  });

  it('gives the host each NIC with its MAC, address and its network\'s VLAN', () => {
    const tagged = instance(eventsOf(deploy({ startVm: true, nics: [{ ...nic1, vlan: 100 }, { ...nic2, vlan: null }] })));
    expect(domainSpec(tagged).nics).toEqual([
      { nicId: ID.nic1, networkId: ID.net1, mac: nic1.macAddress, ip: null, vlan: 100, deviceId: 0 },
      { nicId: ID.nic2, networkId: ID.net2, mac: nic2.macAddress, ip: nic2.ipAddress, vlan: null, deviceId: 1 },
    ]);
    // A NIC recorded before NICs carried their VLAN is untagged.
    expect(domainSpec(starting).nics.map((nic) => nic.vlan)).toEqual([null]);
  });

  it('waits for the reply until the command times out', () => {
    expect(nextStep(job(chosen(ID.host1), issued(0, 'start', startOn(ID.host1))), starting, history, NOW, timeouts)).toEqual({
      kind: 'wait',
      until: '2025-03-01T10:00:35.000Z',
    });
  });

  it('records the start on the host that answered', () => {
    const step = nextStep(job(chosen(ID.host1), issued(0, 'start', startOn(ID.host1)), replied(0, 'succeeded')), starting, history, NOW, timeouts);
    expect(recorded(step)).toEqual({ type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: NOW, hostId: ID.host1 });
  });

  it('records the host\'s failure with its stderr', () => {
    const step = nextStep(
      job(chosen(ID.host1), issued(0, 'start', startOn(ID.host1)), replied(0, 'failed', { message: 'virsh start failed', detail: 'error: no space' })),
      starting,
      history,
      NOW,
      timeouts,
    );
    expect(recorded(step)).toMatchObject({ type: 'RecordStartFailed', reason: 'virsh start failed: error: no space' });
  });

  it('gives up on a host that does not answer in time', () => {
    const step = nextStep(job(chosen(ID.host1), issued(0, 'start', startOn(ID.host1)), timedOut(0)), starting, history, NOW, timeouts);
    expect(recorded(step)).toMatchObject({ type: 'RecordStartFailed', reason: `host ${ID.host1} did not answer StartDomain within 30 s` });
  });

  it('sends the start again to a newly chosen host after a refused reservation', () => {
    const rejected: JobEvent = { type: 'JobHostRejected', data: { phase: 'start', hostId: ID.host1, reason: 'full' } };
    const step = nextStep(job(chosen(ID.host1), rejected, chosen(ID.host2)), starting, history, NOW, timeouts);
    expect(step).toMatchObject({ kind: 'issue', command: { hostId: ID.host2 } });
  });
});

describe('stop workflow', () => {
  const history = eventsOf(
    deploy({ startVm: true }),
    { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host1 },
    { type: 'StopInstance', instanceId: ID.vm, jobId: 'job-stop', at: AT, caller: owner, forced: false },
  );
  const stopping = instance(history);
  const stopJob = (...events: JobEvent[]): JobEvent[] => [opened('job-stop', 'stopVirtualMachine'), ...events];
  const stopStep = (jobEvents: JobEvent[], _instance: Instance, h: InstanceEvent[], now: string, t = timeouts): Step => given(stopWorkflow, { job: jobEvents, instance: h }).when(now, t).step;
  const stopIssued = (n: number, forced: boolean): JobEvent => ({
    type: 'JobAgentCommandIssued',
    data: { phase: 'stop', command: { commandId: `job-stop.${n}`, type: 'StopDomain', hostId: ID.host1, instanceId: ID.vm, instanceName: stopping.instanceName, forced, timeoutMs: 10_000 }, timeoutAt: NOW, issuedAt: AT },
  });

  it('stops gracefully first, then forces the stop when the guest does not shut down in time', () => {
    expect(stopStep(stopJob(), stopping, history, NOW, timeouts)).toMatchObject({
      kind: 'issue',
      command: { type: 'StopDomain', hostId: ID.host1, instanceId: ID.vm, instanceName: stopping.instanceName, forced: false, timeoutMs: 10_000 },
      timeoutMs: 40_000,
    });
    const afterTimeout = stopJob(stopIssued(0, false), { type: 'JobTimerFired', data: { commandId: 'job-stop.0', firedAt: NOW } });
    expect(stopStep(afterTimeout, stopping, history, NOW, timeouts)).toMatchObject({ kind: 'issue', command: { type: 'StopDomain', forced: true } });
  });

  it('records a failed stop only when the forced stop failed too', () => {
    const both = stopJob(stopIssued(0, false), { type: 'JobTimerFired', data: { commandId: 'job-stop.0', firedAt: NOW } }, stopIssued(1, true), {
      type: 'JobAgentReplied',
      data: { reply: { commandId: 'job-stop.1', outcome: 'failed', powerState: 'running', error: { message: 'destroy refused' } }, receivedAt: NOW },
    });
    expect(recorded(stopStep(both, stopping, history, NOW, timeouts))).toMatchObject({ type: 'RecordStopFailed', jobId: 'job-stop', reason: 'destroy refused' });
  });
});

describe('every workflow: finishing', () => {
  it('closes a job the instance settled, giving back every host but the one it runs on', () => {
    const history = eventsOf(deploy({ startVm: true }), { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host2 });
    const step = nextStep(
      job(chosen(ID.host1), { type: 'JobHostRejected', data: { phase: 'start', hostId: ID.host1, reason: 'full' } }, chosen(ID.host2)),
      instance(history),
      history,
      NOW,
      timeouts,
    );
    const root = instance(history).volumes[0]!;
    expect(step).toEqual({
      kind: 'finish',
      release: [ID.host1],
      keep: { hostId: ID.host2, cpuNumber: 1, cpuSpeed: 500, memory: 512 },
      volumes: { ids: [root.id], hold: [{ poolId: ID.pool, volumeId: root.id, bytes: root.size }] },
      freeAddresses: false,
      error: null,
    });
  });

  it('keeps a destroyed volume in its pool until the instance is expunged, then gives every volume back', () => {
    const destroyed = eventsOf(
      deploy(),
      { type: 'DestroyInstance', instanceId: ID.vm, jobId: JOB, at: AT, caller: owner, expunge: false, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: true },
    );
    const root = instance(destroyed).volumes[0]!;
    expect(root.state).toBe('Destroy');
    expect(nextStep(job(), instance(destroyed), destroyed, NOW, timeouts)).toMatchObject({
      kind: 'finish',
      volumes: { ids: [root.id], hold: [{ poolId: ID.pool, volumeId: root.id, bytes: root.size }] },
    });
    const expunged = eventsOf(
      deploy(),
      { type: 'DestroyInstance', instanceId: ID.vm, jobId: JOB, at: AT, caller: owner, expunge: true, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: true },
      { type: 'RecordExpunged', instanceId: ID.vm, at: AT },
    );
    expect(nextStep(job(), instance(expunged), expunged, NOW, timeouts)).toMatchObject({ kind: 'finish', volumes: { ids: [root.id], hold: [] } });
  });

  it('reports a capacity failure as INSUFFICIENT_CAPACITY and releases the host it had chosen', () => {
    const history = eventsOf(deploy({ startVm: true }), { type: 'RecordStartFailed', instanceId: ID.vm, jobId: JOB, at: AT, reason: `${CAPACITY_PREFIX}no host has 512 MiB free` });
    const step = nextStep(job(), instance(history), history, NOW, timeouts);
    expect(step).toMatchObject({ kind: 'finish', release: [], keep: null, error: { code: 'INSUFFICIENT_CAPACITY', errorCode: 533, message: 'no host has 512 MiB free' } });
    expect(instance(history).state).toBe('Error');
  });

  it('frees addresses and the name once the instance is expunged', () => {
    const history = eventsOf(
      deploy(),
      { type: 'DestroyInstance', instanceId: ID.vm, jobId: JOB, at: AT, caller: owner, expunge: true, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: true },
      { type: 'RecordExpunged', instanceId: ID.vm, at: AT },
    );
    expect(nextStep(job(), instance(history), history, NOW, timeouts)).toMatchObject({ kind: 'finish', freeAddresses: true, error: null });
  });
});

describe('workflows: named steps, progress, phases', () => {
  const history = eventsOf(deploy({ startVm: true }));

  it('names the step each move enters, and the workflow gives it its progress', () => {
    given(deployWorkflow, { job: job(), instance: history }).when(NOW).then({ kind: 'choose-host', step: 'PLANNING' });
    given(deployWorkflow, { job: job(chosen(ID.host1)), instance: history }).when(NOW).then({ kind: 'issue', step: 'STARTING' });
    expect(deployWorkflow.steps).toEqual([
      { step: 'PLANNING', progress: 10 },
      { step: 'STARTING', progress: 40 },
    ]);
  });

  it('a destroy with expunge goes through the stop, then the expunge, under one job', () => {
    const running = eventsOf(deploy({ startVm: true }), { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host1 });
    const destroyJob = 'job-destroy';
    const asked = eventsOf(
      deploy({ startVm: true }),
      { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host1 },
      { type: 'DestroyInstance', instanceId: ID.vm, jobId: destroyJob, at: AT, caller: owner, expunge: true, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: true },
    );
    expect(asked.length).toBeGreaterThan(running.length);
    const jobEvents = [opened(destroyJob, 'destroyVirtualMachine')];
    given(destroyWorkflow, { job: jobEvents, instance: asked }).when(NOW).then({ kind: 'issue', step: 'STOPPING', command: { type: 'StopDomain', forced: false } });
    const stopped = eventsOf(
      deploy({ startVm: true }),
      { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host1 },
      { type: 'DestroyInstance', instanceId: ID.vm, jobId: destroyJob, at: AT, caller: owner, expunge: true, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: true },
      { type: 'RecordStopSucceeded', instanceId: ID.vm, jobId: destroyJob, at: AT },
    );
    given(destroyWorkflow, { job: jobEvents, instance: stopped }).when(NOW).then({ kind: 'issue', step: 'EXPUNGING', command: { type: 'DestroyDomain', hostId: ID.host1 } });
  });

  it('a job whose instance waits on work its workflow has no phase for is an error, not a guess', () => {
    const rebooting = eventsOf(
      deploy({ startVm: true }),
      { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host1 },
      { type: 'RebootInstance', instanceId: ID.vm, jobId: 'job-x', at: AT, caller: owner, forced: false },
    );
    expect(() => given(stopWorkflow, { job: [opened('job-x', 'stopVirtualMachine')], instance: rebooting }).when(NOW)).toThrow(/no phase for the instance's pending reboot/);
  });

  it('only the deployment and the import (which record a new instance) name the abandon-deployment compensation; every workflow gives capacity back', () => {
    for (const workflow of WORKFLOWS) {
      expect(workflow.compensation).toContain('give-back-capacity');
      expect(workflow.compensation.includes('abandon-deployment')).toBe(workflow === deployWorkflow || workflow === importWorkflow || workflow === importVmWorkflow);
    }
  });

  it('runs every operation that opens a job, each with its own steps in rising progress', () => {
    const cmds = WORKFLOWS.map((w) => w.cmd).sort();
    expect(cmds).toEqual(
      [
        'createVMSnapshot',
        'deleteVMSnapshot',
        'deployVirtualMachine',
        'destroyVirtualMachine',
        'expungeVirtualMachine',
        'importUnmanagedInstance',
        'importVm',
        'migrateVirtualMachine',
        'migrateVirtualMachineWithVolume',
        'rebootVirtualMachine',
        'restoreVirtualMachine',
        'revertToVMSnapshot',
        'scaleVirtualMachine',
        'startVirtualMachine',
        'stopVirtualMachine',
        'unmanageVirtualMachine',
      ],
    );
    for (const workflow of WORKFLOWS) {
      expect(workflowOf(workflow.cmd)).toBe(workflow);
      const progress = workflow.steps.map((s) => s.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      for (const p of progress) expect(p > 0 && p < 100).toBe(true);
    }
    expect(() => workflowOf('launchMissiles')).toThrow(/no workflow runs/);
  });
});

describe('importVm: an external host\'s disks copied by the destination host\'s agent', () => {
  const IMPORT_JOB = 'job-import-vm';
  const source = {
    remote: { host: '10.9.0.7', port: 22, username: 'ops' },
    passwordRef: 'secret-ref-1',
    tmpPath: '/var/tmp',
    disks: [{ path: '/srv/vm/web.qcow2', format: 'qcow2' }],
    copyTimeoutMs: 600_000,
  };
  const deployed = eventsOf(deploy({ startVm: false }))[0]!;
  if (deployed.type !== 'InstanceDeployed') throw new Error('the fixture deploys first');
  const { startVm: _startVm, requestedHostId: _requested, lease: _lease, ...shape } = deployed.data;
  const requested: InstanceEvent[] = [
    {
      type: 'InstanceImportRequested',
      data: { ...shape, jobId: IMPORT_JOB, state: 'Stopped', hostId: ID.host1, diskPositions: shape.volumes.map((_v, i) => i), importedFrom: null, external: { ...source, disks: shape.volumes.map(() => source.disks[0]!) } },
    },
  ];
  const jobOpened: JobEvent = { type: 'JobOpened', data: { jobId: IMPORT_JOB, cmd: 'importVm', instanceId: ID.vm, accountId: ID.account, createdAt: AT } };
  const copyIssued = (command: UnnumberedAgentCommand): JobEvent => ({
    type: 'JobAgentCommandIssued',
    data: { phase: 'copy', command: { ...command, commandId: `${IMPORT_JOB}.0` }, timeoutAt: '2025-03-01T10:11:05.000Z', issuedAt: AT },
  });
  const copyReplied = (outcome: AgentReplyRecord['outcome'], error?: AgentReplyRecord['error']): JobEvent => ({
    type: 'JobAgentReplied',
    data: { reply: { commandId: `${IMPORT_JOB}.0`, outcome, powerState: 'missing', ...(error ? { error } : {}) }, receivedAt: NOW },
  });

  it('given a new import, then it issues CopyRemoteVolumes to the destination host with the password\'s reference only, at step COPYING', () => {
    const step = given(importVmWorkflow, { job: [jobOpened], instance: requested }).when(NOW).then({ kind: 'issue', phase: 'copy', step: 'COPYING' });
    expect(step.kind === 'issue' && step.command).toEqual({
      type: 'CopyRemoteVolumes',
      hostId: ID.host1,
      instanceId: ID.vm,
      instanceName: instance(requested).instanceName,
      remote: source.remote,
      passwordRef: 'secret-ref-1',
      tmpPath: '/var/tmp',
      copyTimeoutMs: 600_000,
      volumes: instance(requested).volumes.map((volume) => ({ volumeId: volume.id, sourcePath: '/srv/vm/web.qcow2', sourceFormat: 'qcow2' })),
    });
    // The copy's own timeout per disk, and an ordinary command's for the agent's checks.
    expect(step.kind === 'issue' && step.timeoutMs).toBe(600_000 * instance(requested).volumes.length + timeouts.agentMs);
  });

  it('given an agent timeout of 5 s, then the copy waits the disks\' copy timeouts and 5 s more (an operator shortens it with the agent timeout)', () => {
    const step = given(importVmWorkflow, { job: [jobOpened], instance: requested }).when(NOW, { ...timeouts, agentMs: 5_000 }).step;
    expect(step.kind === 'issue' && step.timeoutMs).toBe(600_000 * instance(requested).volumes.length + 5_000);
  });

  it('given the copy timed out (no answer: the agent is down), then the import fails saying so, with the setting to raise', () => {
    const issuedCopy = given(importVmWorkflow, { job: [jobOpened], instance: requested }).when(NOW).step;
    if (issuedCopy.kind !== 'issue') throw new Error('expected a command');
    const fired: JobEvent = { type: 'JobTimerFired', data: { commandId: `${IMPORT_JOB}.0`, firedAt: NOW } };
    const step = given(importVmWorkflow, { job: [jobOpened, copyIssued(issuedCopy.command), fired], instance: requested }).when(NOW).step;
    expect(step).toMatchObject({
      kind: 'record',
      command: {
        type: 'RecordImportFailed',
        reason: `Failed to import volumes while importing vm: ${instance(requested).instanceName}. Host ${ID.host1} did not answer the copy of the disks within 10 min per disk (remote.kvm.instance.disks.copy.timeout) and ${timeouts.agentMs / 1000} s: its agent may be down`,
      },
    });
  });

  it('given the copy succeeded, then the instance is recorded imported, stopped', () => {
    const issuedCopy = given(importVmWorkflow, { job: [jobOpened], instance: requested }).when(NOW).step;
    if (issuedCopy.kind !== 'issue') throw new Error('expected a command');
    const step = given(importVmWorkflow, { job: [jobOpened, copyIssued(issuedCopy.command), copyReplied('succeeded')], instance: requested }).when(NOW).step;
    expect(step).toMatchObject({ kind: 'record', command: { type: 'RecordImported', jobId: IMPORT_JOB, powerState: 'stopped' } });
  });

  it('given the copy failed, then the import fails with CloudStack\'s words and the host\'s', () => {
    const issuedCopy = given(importVmWorkflow, { job: [jobOpened], instance: requested }).when(NOW).step;
    if (issuedCopy.kind !== 'issue') throw new Error('expected a command');
    const step = given(importVmWorkflow, {
      job: [jobOpened, copyIssued(issuedCopy.command), copyReplied('failed', { message: 'Failed to copy volume due to: streaming from 10.9.0.7 failed' })],
      instance: requested,
    }).when(NOW).step;
    expect(step).toMatchObject({
      kind: 'record',
      command: { type: 'RecordImportFailed', reason: `Failed to import volumes while importing vm: ${instance(requested).instanceName}. Failed to copy volume due to: streaming from 10.9.0.7 failed` },
    });
  });
});

describe('importVm: a disk image on a pool, taken in place (behaviour §4.6 local/shared)', () => {
  const IMPORT_JOB = 'job-import-image';
  const deployed = eventsOf(deploy({ startVm: false }))[0]!;
  if (deployed.type !== 'InstanceDeployed') throw new Error('the fixture deploys first');
  const { startVm: _startVm, requestedHostId: _requested, lease: _lease, ...shape } = deployed.data;
  const root = shape.volumes.find((volume) => volume.type === 'ROOT')!;
  const requested: InstanceEvent[] = [
    {
      type: 'InstanceImportRequested',
      data: {
        ...shape,
        volumes: [{ ...root, path: '/pool/local/web.qcow2' }],
        jobId: IMPORT_JOB,
        state: 'Stopped',
        hostId: ID.host1,
        diskPositions: [0],
        importedFrom: null,
        diskImage: { source: 'LOCAL', path: '/pool/local/web.qcow2' },
      },
    },
  ];
  const jobOpened: JobEvent = { type: 'JobOpened', data: { jobId: IMPORT_JOB, cmd: 'importVm', instanceId: ID.vm, accountId: ID.account, createdAt: AT } };

  it('given a new import, then it is recorded imported, stopped, at once: the agent checked the image when it was asked for, and nothing moves', () => {
    given(importVmWorkflow, { job: [jobOpened], instance: requested }).when(NOW).then({ kind: 'record', command: { type: 'RecordImported', jobId: IMPORT_JOB, powerState: 'stopped' } });
  });

  it('given the imported instance, then every host is told the volume is the image file (a start attaches it, an expunge deletes it)', () => {
    const imported = fold(instanceDecider, requested);
    expect(imported.exists && domainSpec(imported).volumes).toEqual([expect.objectContaining({ volumeId: root.id, type: 'ROOT', path: '/pool/local/web.qcow2' })]);
  });
});
