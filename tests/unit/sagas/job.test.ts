import { describe, expect, it } from 'vitest';
import type { AgentCommand } from '../../../domain/agent-protocol/index.js';
import { fold, isRejection } from '../../../domain/shared/decider.js';
import { jobDecider, jobIdOfCommand, type JobEvent } from '../../../domain/job/index.js';
import { given } from '../../support/given.js';

const AT = '2025-03-01T10:00:00.000Z';
const open: JobEvent = { type: 'JobOpened', data: { jobId: 'j1', cmd: 'startVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', createdAt: AT, resource: { type: 'VirtualMachine', id: 'vm-1' } } };
const domain = { instanceId: 'vm-1', instanceName: 'i-2-14-VM', cpuNumber: 1, cpuSpeed: 500, memory: 512, nics: [], volumes: [] };
const start = (n: number): AgentCommand => ({ commandId: `j1.${n}`, type: 'StartDomain', hostId: 'h1', domain });
const issued = (n: number): JobEvent => ({ type: 'JobAgentCommandIssued', data: { phase: 'start', command: start(n), timeoutAt: AT, issuedAt: AT } });

describe('job: the saga\'s memory', () => {
  it('names the resource it acts on: its instance unless told otherwise, also for jobs opened before jobs named one', () => {
    const opened: JobEvent = { type: 'JobOpened', data: { jobId: 'j1', cmd: 'startVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', createdAt: AT } };
    const legacy = fold(jobDecider, [opened]);
    expect(legacy.exists && legacy.resource).toEqual({ type: 'VirtualMachine', id: 'vm-1' });
    const named = jobDecider.decide({ type: 'OpenJob', jobId: 'j1', cmd: 'x', instanceId: 'vm-1', accountId: 'a-1', at: AT, resource: { type: 'VirtualMachine', id: 'vm-9' } }, fold(jobDecider, []));
    expect(!isRejection(named) && named[0]?.type === 'JobOpened' && named[0].data.resource).toEqual({ type: 'VirtualMachine', id: 'vm-9' });
  });

  it('keeps the workflow step it entered last, with its progress', () => {
    const progress = { step: 'STARTING', progress: 40 };
    given(jobDecider, [open, { type: 'JobHostChosen', data: { phase: 'start', hostId: 'h1' } }])
      .when({ type: 'IssueAgentCommand', phase: 'start', command: start(0), timeoutAt: AT, at: AT, progress })
      .then([{ type: 'JobAgentCommandIssued', data: { phase: 'start', command: start(0), timeoutAt: AT, issuedAt: AT, progress } }]);
    const history: JobEvent[] = [
      open,
      { type: 'JobHostChosen', data: { phase: 'start', hostId: 'h1', progress: { step: 'PLANNING', progress: 10 } } },
      { type: 'JobAgentCommandIssued', data: { phase: 'start', command: start(0), timeoutAt: AT, issuedAt: AT, progress } },
    ];
    const job = fold(jobDecider, history);
    expect(job.exists && job.progress).toEqual(progress);
  });

  it('opens once', () => {
    given(jobDecider).when({ type: 'OpenJob', jobId: 'j1', cmd: 'startVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', at: AT }).then([open]);
    given(jobDecider, [open]).when({ type: 'OpenJob', jobId: 'j1', cmd: 'other', instanceId: 'vm-2', accountId: 'a-1', at: AT }).then([]);
    given(jobDecider).when({ type: 'CompleteJob', error: null, at: AT }).then('NOT_FOUND');
  });

  it('gives a command sent again by another process a deadline of its own, until it is answered or timed out', () => {
    const later = '2025-03-01T10:05:00.000Z';
    const resend = { type: 'ResendAgentCommand', commandId: 'j1.0', timeoutAt: later, at: AT } as const;
    const resent: JobEvent = { type: 'JobAgentCommandResent', data: { commandId: 'j1.0', timeoutAt: later, resentAt: AT } };
    const job = given(jobDecider, [open, issued(0)]).when(resend).then([resent]);
    expect(job.exists && job.commands[0]).toMatchObject({ timeoutAt: later, sentAt: AT });
    given(jobDecider, [open, issued(0), { type: 'JobTimerFired', data: { commandId: 'j1.0', firedAt: AT } }]).when(resend).then([]);
    given(jobDecider, [open, issued(0), { type: 'JobAgentReplied', data: { reply: { commandId: 'j1.0', outcome: 'succeeded', powerState: 'running' }, receivedAt: AT } }]).when(resend).then([]);
    given(jobDecider, [open]).when({ ...resend, commandId: 'j1.7' }).then([]);
  });

  it("keeps a deployment's claims, named before they are made, for its compensation", () => {
    const claims = [{ networkId: 'net-1', nicId: 'nic-1' }];
    const opened: JobEvent = { type: 'JobOpened', data: { jobId: 'j1', cmd: 'deployVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', createdAt: AT, resource: { type: 'VirtualMachine', id: 'vm-1' }, claims } };
    const job = given(jobDecider).when({ type: 'OpenJob', jobId: 'j1', cmd: 'deployVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', at: AT, claims }).then([opened]);
    expect(job.exists && job.claims).toEqual(claims);
  });

  it('records a host choice once, and a rejection only of the current choice', () => {
    const chosen: JobEvent = { type: 'JobHostChosen', data: { phase: 'start', hostId: 'h1' } };
    given(jobDecider, [open]).when({ type: 'ChooseHost', phase: 'start', hostId: 'h1', at: AT }).then([chosen]);
    given(jobDecider, [open, chosen]).when({ type: 'ChooseHost', phase: 'start', hostId: 'h1', at: AT }).then([]);
    given(jobDecider, [open, chosen]).when({ type: 'RejectHost', phase: 'start', hostId: 'h2', reason: 'x', at: AT }).then([]);
    given(jobDecider, [open, chosen])
      .when({ type: 'RejectHost', phase: 'start', hostId: 'h1', reason: 'full', at: AT })
      .then([{ type: 'JobHostRejected', data: { phase: 'start', hostId: 'h1', reason: 'full' } }]);
  });

  it('numbers agent commands in sequence and issues each once', () => {
    given(jobDecider, [open]).when({ type: 'IssueAgentCommand', phase: 'start', command: start(0), timeoutAt: AT, at: AT }).then([issued(0)]);
    given(jobDecider, [open, issued(0)]).when({ type: 'IssueAgentCommand', phase: 'start', command: start(0), timeoutAt: AT, at: AT }).then([]);
    given(jobDecider, [open]).when({ type: 'IssueAgentCommand', phase: 'start', command: start(3), timeoutAt: AT, at: AT }).then('CONFLICT');
    expect(jobIdOfCommand('job-with.dots.7')).toBe('job-with.dots');
  });

  it('takes one reply per command, none after its timer fired, and none for commands it never sent', () => {
    const reply = { commandId: 'j1.0', outcome: 'succeeded' as const, powerState: 'running' as const };
    const replied: JobEvent = { type: 'JobAgentReplied', data: { reply, receivedAt: AT } };
    const fired: JobEvent = { type: 'JobTimerFired', data: { commandId: 'j1.0', firedAt: AT } };
    given(jobDecider, [open, issued(0)]).when({ type: 'RecordAgentReply', reply, at: AT }).then([replied]);
    given(jobDecider, [open, issued(0), replied]).when({ type: 'RecordAgentReply', reply, at: AT }).then([]);
    given(jobDecider, [open, issued(0), fired]).when({ type: 'RecordAgentReply', reply, at: AT }).then([]);
    given(jobDecider, [open]).when({ type: 'RecordAgentReply', reply, at: AT }).then([]);
    given(jobDecider, [open, issued(0)]).when({ type: 'FireTimer', commandId: 'j1.0', at: AT }).then([fired]);
    given(jobDecider, [open, issued(0), replied]).when({ type: 'FireTimer', commandId: 'j1.0', at: AT }).then([]);
  });

  it('ends once, as a success or with its error', () => {
    const error = { code: 'INTERNAL_ERROR', errorCode: 530, message: 'boom' };
    const failed: JobEvent = { type: 'JobFailed', data: { completedAt: AT, error } };
    const state = given(jobDecider, [open]).when({ type: 'CompleteJob', error, at: AT }).then([failed]);
    given(jobDecider, [open]).when({ type: 'CompleteJob', error: null, at: AT }).then([{ type: 'JobSucceeded', data: { completedAt: AT } }]);
    given(jobDecider, [open, failed]).when({ type: 'CompleteJob', error: null, at: AT }).then([]);
    given(jobDecider, [open, failed]).when({ type: 'ChooseHost', phase: 'start', hostId: 'h1', at: AT }).then([]);
    expect(state.exists && [state.status, state.error]).toEqual(['FAILED', error]);
  });
});

describe('job: an agent\'s progress on a long command (AgentProgress), throttled', () => {
  const issuedAt = (n: number, progress: { step: string; progress: number }): JobEvent => ({
    type: 'JobAgentCommandIssued',
    data: { phase: 'convert', command: start(n), timeoutAt: AT, issuedAt: AT, progress },
  });
  const report = (percent: number, step: string, progress: number) => ({ type: 'RecordAgentProgress' as const, commandId: 'j1.0', percent, progress: { step, progress }, at: AT });
  const progressed = (percent: number, step: string, progress: number): JobEvent => ({ type: 'JobAgentProgressed', data: { commandId: 'j1.0', percent, progress: { step, progress }, reportedAt: AT } });
  const running = [open, issuedAt(0, { step: 'EXPORTING', progress: 5 })];

  it('given a command under way, when its agent reports a percent, then the job keeps it as its step and progress', () => {
    const job = given(jobDecider, running).when(report(10, 'EXPORTING', 7)).then([progressed(10, 'EXPORTING', 7)]);
    expect(job.exists && job.progress).toEqual({ step: 'EXPORTING', progress: 7 });
  });

  it('given a kept percent, when the next report moves less than one percent in the same step, then nothing is appended', () => {
    given(jobDecider, [...running, progressed(10, 'EXPORTING', 7)]).when(report(10.6, 'EXPORTING', 7)).then([]);
    given(jobDecider, [...running, progressed(10, 'EXPORTING', 7)]).when(report(11, 'EXPORTING', 7)).then([progressed(11, 'EXPORTING', 7)]);
  });

  it('given a kept percent, when the step changes, then it is kept even at the same percent', () => {
    given(jobDecider, [...running, progressed(100, 'EXPORTING', 20)]).when(report(0, 'CONVERTING', 20)).then([progressed(0, 'CONVERTING', 20)]);
  });

  it('given a later report kept, when an earlier one arrives (redelivered, reordered), then it is stale and dropped', () => {
    given(jobDecider, [...running, progressed(50, 'CONVERTING', 50)]).when(report(90, 'EXPORTING', 19)).then([]);
    given(jobDecider, [...running, progressed(50, 'CONVERTING', 50)]).when(report(40, 'CONVERTING', 50)).then([]);
  });

  it('given a command answered, timed out or never issued, or a finished job, then a report is dropped', () => {
    const replied: JobEvent = { type: 'JobAgentReplied', data: { reply: { commandId: 'j1.0', outcome: 'succeeded', powerState: 'stopped' }, receivedAt: AT } };
    given(jobDecider, [...running, replied]).when(report(60, 'CONVERTING', 60)).then([]);
    given(jobDecider, [...running, { type: 'JobTimerFired', data: { commandId: 'j1.0', firedAt: AT } }]).when(report(60, 'CONVERTING', 60)).then([]);
    given(jobDecider, [open]).when(report(60, 'CONVERTING', 60)).then([]);
    given(jobDecider, [...running, { type: 'JobSucceeded', data: { completedAt: AT } }]).when(report(60, 'CONVERTING', 60)).then([]);
  });
});
