import { describe, expect, it } from 'vitest';
import type { AgentCommand } from '../../../domain/agent-protocol/index.js';
import { fold, isRejection } from '../../../domain/shared/decider.js';
import { jobDecider, jobIdOfCommand, type JobCommand, type JobEvent } from '../../../domain/job/index.js';

const AT = '2025-03-01T10:00:00.000Z';
const open: JobEvent = { type: 'JobOpened', data: { jobId: 'j1', cmd: 'startVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', createdAt: AT } };
const domain = { instanceId: 'vm-1', instanceName: 'i-2-14-VM', cpuNumber: 1, cpuSpeed: 500, memory: 512, nics: [], volumes: [] };
const start = (n: number): AgentCommand => ({ commandId: `j1.${n}`, type: 'StartDomain', hostId: 'h1', domain });
const issued = (n: number): JobEvent => ({ type: 'JobAgentCommandIssued', data: { phase: 'start', command: start(n), timeoutAt: AT, issuedAt: AT } });

function given(...history: JobEvent[]) {
  const state = fold(jobDecider, history);
  return {
    when: (command: JobCommand) => {
      const decision = jobDecider.decide(command, state);
      return {
        then: (expected: JobEvent[] | string) => {
          if (typeof expected === 'string') {
            expect(isRejection(decision) && decision.code).toBe(expected);
          } else {
            expect(decision).toEqual(expected);
          }
        },
      };
    },
  };
}

describe('job: the saga\'s memory', () => {
  it('opens once', () => {
    given().when({ type: 'OpenJob', jobId: 'j1', cmd: 'startVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', at: AT }).then([open]);
    given(open).when({ type: 'OpenJob', jobId: 'j1', cmd: 'other', instanceId: 'vm-2', accountId: 'a-1', at: AT }).then([]);
    given().when({ type: 'CompleteJob', error: null, at: AT }).then('NOT_FOUND');
  });

  it('gives a command sent again by another process a deadline of its own, until it is answered or timed out', () => {
    const later = '2025-03-01T10:05:00.000Z';
    const resend = { type: 'ResendAgentCommand', commandId: 'j1.0', timeoutAt: later, at: AT } as const;
    const resent: JobEvent = { type: 'JobAgentCommandResent', data: { commandId: 'j1.0', timeoutAt: later, resentAt: AT } };
    given(open, issued(0)).when(resend).then([resent]);
    const job = fold(jobDecider, [open, issued(0), resent]);
    expect(job.exists && job.commands[0]).toMatchObject({ timeoutAt: later, sentAt: AT });
    given(open, issued(0), { type: 'JobTimerFired', data: { commandId: 'j1.0', firedAt: AT } }).when(resend).then([]);
    given(open, issued(0), { type: 'JobAgentReplied', data: { reply: { commandId: 'j1.0', outcome: 'succeeded', powerState: 'running' }, receivedAt: AT } }).when(resend).then([]);
    given(open).when({ ...resend, commandId: 'j1.7' }).then([]);
  });

  it("keeps a deployment's claims, named before they are made, for its compensation", () => {
    const claims = [{ networkId: 'net-1', nicId: 'nic-1' }];
    const opened: JobEvent = { type: 'JobOpened', data: { jobId: 'j1', cmd: 'deployVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', createdAt: AT, claims } };
    given().when({ type: 'OpenJob', jobId: 'j1', cmd: 'deployVirtualMachine', instanceId: 'vm-1', accountId: 'a-1', at: AT, claims }).then([opened]);
    const job = fold(jobDecider, [opened]);
    expect(job.exists && job.claims).toEqual(claims);
  });

  it('records a host choice once, and a rejection only of the current choice', () => {
    const chosen: JobEvent = { type: 'JobHostChosen', data: { phase: 'start', hostId: 'h1' } };
    given(open).when({ type: 'ChooseHost', phase: 'start', hostId: 'h1', at: AT }).then([chosen]);
    given(open, chosen).when({ type: 'ChooseHost', phase: 'start', hostId: 'h1', at: AT }).then([]);
    given(open, chosen).when({ type: 'RejectHost', phase: 'start', hostId: 'h2', reason: 'x', at: AT }).then([]);
    given(open, chosen)
      .when({ type: 'RejectHost', phase: 'start', hostId: 'h1', reason: 'full', at: AT })
      .then([{ type: 'JobHostRejected', data: { phase: 'start', hostId: 'h1', reason: 'full' } }]);
  });

  it('numbers agent commands in sequence and issues each once', () => {
    given(open).when({ type: 'IssueAgentCommand', phase: 'start', command: start(0), timeoutAt: AT, at: AT }).then([issued(0)]);
    given(open, issued(0)).when({ type: 'IssueAgentCommand', phase: 'start', command: start(0), timeoutAt: AT, at: AT }).then([]);
    given(open).when({ type: 'IssueAgentCommand', phase: 'start', command: start(3), timeoutAt: AT, at: AT }).then('CONFLICT');
    expect(jobIdOfCommand('job-with.dots.7')).toBe('job-with.dots');
  });

  it('takes one reply per command, none after its timer fired, and none for commands it never sent', () => {
    const reply = { commandId: 'j1.0', outcome: 'succeeded' as const, powerState: 'running' as const };
    const replied: JobEvent = { type: 'JobAgentReplied', data: { reply, receivedAt: AT } };
    const fired: JobEvent = { type: 'JobTimerFired', data: { commandId: 'j1.0', firedAt: AT } };
    given(open, issued(0)).when({ type: 'RecordAgentReply', reply, at: AT }).then([replied]);
    given(open, issued(0), replied).when({ type: 'RecordAgentReply', reply, at: AT }).then([]);
    given(open, issued(0), fired).when({ type: 'RecordAgentReply', reply, at: AT }).then([]);
    given(open).when({ type: 'RecordAgentReply', reply, at: AT }).then([]);
    given(open, issued(0)).when({ type: 'FireTimer', commandId: 'j1.0', at: AT }).then([fired]);
    given(open, issued(0), replied).when({ type: 'FireTimer', commandId: 'j1.0', at: AT }).then([]);
  });

  it('ends once, as a success or with its error', () => {
    const error = { code: 'INTERNAL_ERROR', errorCode: 530, message: 'boom' };
    const failed: JobEvent = { type: 'JobFailed', data: { completedAt: AT, error } };
    given(open).when({ type: 'CompleteJob', error, at: AT }).then([failed]);
    given(open).when({ type: 'CompleteJob', error: null, at: AT }).then([{ type: 'JobSucceeded', data: { completedAt: AT } }]);
    given(open, failed).when({ type: 'CompleteJob', error: null, at: AT }).then([]);
    given(open, failed).when({ type: 'ChooseHost', phase: 'start', hostId: 'h1', at: AT }).then([]);
    const state = fold(jobDecider, [open, failed]);
    expect(state.exists && [state.status, state.error]).toEqual(['FAILED', error]);
  });
});
