// given(history).when(command).then(expected): the decider's contract in one line per case.
import { expect } from 'vitest';
import { fold, isRejection, type RejectionCode } from '../../../domain/shared/decider.js';
import { instanceDecider, type InstanceCommand, type InstanceEvent, type InstanceState } from '../../../domain/instance/index.js';

export interface RejectionDetail {
  readonly message?: string | RegExp;
  readonly field?: string;
}

export function given(history: readonly InstanceEvent[]) {
  return {
    when(command: InstanceCommand) {
      const before = fold(instanceDecider, history);
      const decision = instanceDecider.decide(command, before);
      return {
        decision,
        /** Exact events (order, fields, no stray undefined), or the rejection code (and its message/field). */
        then(expected: readonly InstanceEvent[] | RejectionCode, detail: RejectionDetail = {}): InstanceState {
          if (typeof expected === 'string') {
            if (!isRejection(decision)) {
              throw new Error(`expected a ${expected} rejection, got events ${JSON.stringify(decision.map((e) => e.type))}`);
            }
            expect(decision.code).toBe(expected);
            if (typeof detail.message === 'string') expect(decision.message).toBe(detail.message);
            if (detail.message instanceof RegExp) expect(decision.message).toMatch(detail.message);
            if ('field' in detail) expect(decision.field).toBe(detail.field);
            return before;
          }
          if (isRejection(decision)) throw new Error(`expected events, got ${decision.code}: ${decision.message}`);
          expect(decision).toStrictEqual(expected);
          return decision.reduce(instanceDecider.evolve, before);
        },
      };
    },
  };
}

