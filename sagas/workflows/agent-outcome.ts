// How a phase reads the answer to its last agent command: done, failed (with the host's reason, or
// its silence), or still to wait for.
import type { Job } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import type { Step } from './workflow.js';

export type IssuedCommand = Job['commands'][number];

export function settle(
  last: IssuedCommand,
  outcome: { ok: InstanceCommand; failed: (reason: string) => InstanceCommand; host: string; timeoutMs: number },
): Step {
  if (last.reply?.outcome === 'succeeded') return { kind: 'record', command: outcome.ok };
  if (last.reply?.outcome === 'failed' || last.timedOut) {
    return { kind: 'record', command: outcome.failed(failureReason(last, outcome.host, outcome.timeoutMs)) };
  }
  return { kind: 'wait', until: last.timeoutAt };
}

export function failureReason(last: IssuedCommand, hostId: string, timeoutMs: number): string {
  if (last.timedOut) return `host ${hostId} did not answer ${last.command.type} within ${Math.round(timeoutMs / 1000)} s`;
  const error = last.reply?.error;
  if (!error) return `host ${hostId} failed ${last.command.type}`;
  return error.detail ? `${error.message}: ${error.detail}` : error.message;
}
