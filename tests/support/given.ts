// given/when/then for every decider: the decider's contract in one line per case.
//
//   given(decider, history).when(command).then(expectedEvents)                  -> the state after them
//   given(decider, history).when(command).then('CONFLICT', { field, message })  -> the state before
//
// Events are compared exactly (order, every field, no stray `undefined`); a rejection by its code, and
// by its field and message when given (a string is the whole message, a RegExp a part of it). Every
// rejection must carry a message: a refusal without one is no clear error.
//
// The workflow counterpart (given events, when input, then steps/events) sits next to this file and
// keeps this shape: `given…(workflow, history).when(input).then(expected)`, returning the state after,
// with `.accepted()` (the events, failing on a rejection) for the few tests that check them piecewise.

import { expect } from 'vitest';
import { fold, isRejection, type Decider, type DomainEvent, type RejectionCode } from '../../domain/shared/decider.js';

/** What a rejection must say besides its code. `field: undefined` asserts that no field is blamed. */
export interface RejectionDetail {
  /** The whole message, or a RegExp for a part of it. */
  readonly message?: string | RegExp;
  readonly field?: string | undefined;
}

export interface When<State, Event extends DomainEvent> {
  /** Asserts the command is accepted and returns its events, for tests that check them piecewise. */
  accepted(): readonly Event[];
  /** Asserts exactly these events and returns the state after them. */
  then(expected: readonly Event[]): State;
  /** Asserts a rejection with this code (and message/field, when given) and returns the state before. */
  then(code: RejectionCode, detail?: RejectionDetail): State;
}

export interface Given<Command, State, Event extends DomainEvent> {
  /** The state the history folds to, frozen. */
  readonly state: State;
  when(command: Command): When<State, Event>;
}

/** Decides on the fold of `history`. */
export function given<Command, State, Event extends DomainEvent>(
  decider: Decider<Command, State, Event>,
  history: readonly Event[] = [],
): Given<Command, State, Event> {
  return givenState(decider, fold(decider, history));
}

/**
 * Decides on a state built by hand: for states no history reaches (a stuck or unknown power state).
 * Prefer `given(decider, history)`, which exercises `evolve` too.
 */
export function givenState<Command, State, Event extends DomainEvent>(
  decider: Decider<Command, State, Event>,
  state: State,
): Given<Command, State, Event> {
  // Frozen, so a decide() or evolve() that mutates the state it is handed throws (strict-mode ESM).
  const before = deepFreeze(state);
  return {
    state: before,
    when(command: Command): When<State, Event> {
      const decision = decider.decide(command, before);
      function then(expected: readonly Event[]): State;
      function then(code: RejectionCode, detail?: RejectionDetail): State;
      function then(expected: readonly Event[] | RejectionCode, detail: RejectionDetail = {}): State {
        if (typeof expected === 'string') {
          if (!isRejection(decision)) {
            throw new Error(`expected a ${expected} rejection, got events ${JSON.stringify(decision.map((e) => e.type))}`);
          }
          expect(decision.code, decision.message).toBe(expected);
          expect(decision.message.length, 'a rejection says why').toBeGreaterThan(0);
          if (typeof detail.message === 'string') expect(decision.message).toBe(detail.message);
          if (detail.message instanceof RegExp) expect(decision.message).toMatch(detail.message);
          if ('field' in detail) expect(decision.field).toBe(detail.field);
          return before;
        }
        const events = accepted();
        expect([...events]).toStrictEqual([...expected]);
        let after = before;
        for (const event of events) after = decider.evolve(after, event);
        return after;
      }
      function accepted(): readonly Event[] {
        if (isRejection(decision)) throw new Error(`expected events, got ${decision.code}: ${decision.message}`);
        return decision;
      }
      return { accepted, then };
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
