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
  /** Given by deciders whose streams grow with the cloud, so that a cold stream is not folded from its start. */
  readonly snapshot?: StateSnapshotting<State>;
}

/** Events a stream grows by between two snapshots of its state, unless a decider says otherwise. */
export const DEFAULT_SNAPSHOT_EVERY = 500;

/**
 * How a decider's state is kept as a snapshot: derived data beside the log, never an event, so a
 * snapshot that is lost or does not fit only costs folding the stream again.
 */
export interface StateSnapshotting<State> {
  /** Names the state among snapshots of the same stream (one decider's, not another's). */
  readonly kind: string;
  /** Changed whenever the state's shape or its JSON changes: a snapshot of another version is ignored. */
  readonly version: number;
  /** A snapshot is taken each time the stream has grown by this many events. */
  readonly every: number;
  /** The state as plain JSON (persistent maps as arrays); must be pure. */
  toJson(state: State): unknown;
  /** The inverse of toJson for this version; throws on what toJson cannot have written. */
  fromJson(json: unknown): State;
}

/**
 * Snapshotting for a state that is plain JSON already (records, arrays, strings, numbers, booleans,
 * null; no persistent maps, no undefined that matters): it is written and read back as it is.
 */
export function plainStateSnapshotting<State extends object>(kind: string, version: number, every = DEFAULT_SNAPSHOT_EVERY): StateSnapshotting<State> {
  return {
    kind,
    version,
    every,
    toJson: (state) => state,
    fromJson(json) {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`a ${kind} snapshot is an object`);
      return json as State;
    },
  };
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
