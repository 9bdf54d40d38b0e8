// The shape every aggregate and policy in domain/ follows. Pure: time, ids and randomness come in
// through the command, never from the environment.

/** A domain event before it is stored: a past-tense fact, or a `usage.<TYPE>` record. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

export type RejectionCode =
  | 'BAD_USER_INPUT'
  | 'INVALID_STATE'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'INSUFFICIENT_CAPACITY';

/** A command the domain refuses. Nothing is appended for it. */
export interface Rejection {
  readonly kind: 'rejection';
  readonly code: RejectionCode;
  readonly message: string;
  /** The offending argument, in the API's camelCase, when one is to blame. */
  readonly field?: string;
}

export function reject(code: RejectionCode, message: string, field?: string): Rejection {
  return field === undefined ? { kind: 'rejection', code, message } : { kind: 'rejection', code, message, field };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'rejection';
}

export type Decision<E extends DomainEvent> = readonly E[] | Rejection;

export interface Decider<Command, State, Event extends DomainEvent> {
  readonly initialState: State;
  decide(command: Command, state: State): Decision<Event>;
  evolve(state: State, event: Event): State;
}

/** Folds events over a decider's initial state. */
export function fold<State, Event extends DomainEvent>(
  decider: Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>,
  events: Iterable<Event>,
): State {
  let state = decider.initialState;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
