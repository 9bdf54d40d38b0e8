import { describe, expect, it } from 'vitest';
import type { UnnumberedAgentCommand } from '../../../domain/agent-protocol/index.js';
import { fold } from '../../../domain/shared/decider.js';
import { instanceDecider, type Instance, type InstanceCommand, type InstanceEvent } from '../../../domain/instance/index.js';
import { jobDecider, type AgentReplyRecord, type Job, type JobEvent } from '../../../domain/job/index.js';
import { CAPACITY_PREFIX, domainSpec, nextStep, type Step } from '../../../sagas/operation.js';
import { AT, ID, deploy, eventsOf, nic1, nic2, owner } from '../instance/fixtures.js';

const timeouts = { agentMs: 30_000, gracefulStopMs: 10_000 };
const NOW = '2025-03-01T10:00:05.000Z';
const JOB = ID.deployJob;

function job(...events: JobEvent[]): Job {
  const state = fold(jobDecider, [
    { type: 'JobOpened', data: { jobId: JOB, cmd: 'deployVirtualMachine', instanceId: ID.vm, accountId: ID.account, createdAt: AT } },
    ...events,
  ]);
  if (!state.exists) throw new Error('job setup');
  return state;
}

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

describe('operation saga: start', () => {
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

describe('operation saga: stop', () => {
  const history = eventsOf(
    deploy({ startVm: true }),
    { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host1 },
    { type: 'StopInstance', instanceId: ID.vm, jobId: 'job-stop', at: AT, caller: owner, forced: false },
  );
  const stopping = instance(history);
  const stopJob = (...events: JobEvent[]) => ({ ...job(...events), jobId: 'job-stop' });
  const stopIssued = (n: number, forced: boolean): JobEvent => ({
    type: 'JobAgentCommandIssued',
    data: { phase: 'stop', command: { commandId: `job-stop.${n}`, type: 'StopDomain', hostId: ID.host1, instanceName: stopping.instanceName, forced, timeoutMs: 10_000 }, timeoutAt: NOW, issuedAt: AT },
  });

  it('stops gracefully first, then forces the stop when the guest does not shut down in time', () => {
    expect(nextStep(stopJob(), stopping, history, NOW, timeouts)).toMatchObject({
      kind: 'issue',
      command: { type: 'StopDomain', hostId: ID.host1, forced: false, timeoutMs: 10_000 },
      timeoutMs: 40_000,
    });
    const afterTimeout = stopJob(stopIssued(0, false), { type: 'JobTimerFired', data: { commandId: 'job-stop.0', firedAt: NOW } });
    expect(nextStep(afterTimeout, stopping, history, NOW, timeouts)).toMatchObject({ kind: 'issue', command: { type: 'StopDomain', forced: true } });
  });

  it('records a failed stop only when the forced stop failed too', () => {
    const both = stopJob(stopIssued(0, false), { type: 'JobTimerFired', data: { commandId: 'job-stop.0', firedAt: NOW } }, stopIssued(1, true), {
      type: 'JobAgentReplied',
      data: { reply: { commandId: 'job-stop.1', outcome: 'failed', powerState: 'running', error: { message: 'destroy refused' } }, receivedAt: NOW },
    });
    expect(recorded(nextStep(both, stopping, history, NOW, timeouts))).toMatchObject({ type: 'RecordStopFailed', jobId: 'job-stop', reason: 'destroy refused' });
  });
});

describe('operation saga: finishing', () => {
  it('closes a job the instance settled, giving back every host but the one it runs on', () => {
    const history = eventsOf(deploy({ startVm: true }), { type: 'RecordStartSucceeded', instanceId: ID.vm, jobId: JOB, at: AT, hostId: ID.host2 });
    const step = nextStep(
      job(chosen(ID.host1), { type: 'JobHostRejected', data: { phase: 'start', hostId: ID.host1, reason: 'full' } }, chosen(ID.host2)),
      instance(history),
      history,
      NOW,
      timeouts,
    );
    expect(step).toEqual({ kind: 'finish', release: [ID.host1], keep: { hostId: ID.host2, cpuNumber: 1, cpuSpeed: 500, memory: 512 }, freeAddresses: false, error: null });
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
