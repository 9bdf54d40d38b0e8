// Building one decision: events are appended in order and the instance is evolved as they go, so a
// usage record is always drawn from the state its fact produced (the new offering, the new root volume).
import { reject, type Rejection } from '../shared/decider.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import { evolveInstance, type Instance, type PendingOperation } from './state.js';
import { transition, type MachineEvent, type VmState } from './state-machine.js';

export class Outcome {
  private readonly appended: InstanceEvent[] = [];
  private current: Instance;

  constructor(start: Instance) {
    this.current = start;
  }

  get state(): Instance {
    return this.current;
  }

  add(...events: readonly InstanceEvent[]): this {
    for (const event of events) {
      this.appended.push(event);
      const next = evolveInstance(this.current, event);
      if (next.exists) this.current = next;
    }
    return this;
  }

  get events(): readonly InstanceEvent[] {
    return this.appended;
  }
}

/** `to` when the §1.3 table takes `event` from the instance's state there; otherwise the refusal. */
export function expectMove<S extends VmState>(instance: Instance, event: MachineEvent, to: S, refusal?: string): S | Rejection {
  return transition(instance.state, event) === to
    ? to
    : reject('INVALID_STATE', refusal ?? messages.noTransition(instance, event));
}

/**
 * An outcome must settle the job the instance is busy with, through an edge the table has; a late
 * answer to a superseded job is refused rather than applied to the newer one.
 */
export function expectPending<K extends PendingOperation['kind']>(
  instance: Instance,
  kind: K,
  jobId: string,
): Extract<PendingOperation, { kind: K }> | Rejection {
  const pending = instance.pending;
  if (pending === null || pending.kind !== kind || pending.jobId !== jobId) {
    return reject('INVALID_STATE', messages.staleJob(instance, jobId));
  }
  return pending as Extract<PendingOperation, { kind: K }>;
}
