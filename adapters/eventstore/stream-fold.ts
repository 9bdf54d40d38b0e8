// Folding a stream from the log, a page at a time, from wherever the caller already has its state: a
// cached state, a snapshot (state-snapshots.ts), or the decider's initial state.
import type { Decider, DomainEvent } from '../../domain/shared/decider.js';
import { toDomainEvent } from './domain-event.js';
import type { EventStore, RecordedEvent } from './port.js';
import type { StateSnapshots } from './state-snapshots.js';

/** Events read per request: a long stream is never read into memory whole. */
export const PAGE = 1000;

export interface FoldStart<State> {
  readonly state: State;
  /** The revision `state` has folded up to; -1 for the initial state. */
  readonly revision: number;
  /** Given for a snapshot: the id the log must hold at `revision` for `state` to be this stream's. */
  readonly eventId?: string;
}

export interface Folded<State> {
  readonly state: State;
  readonly revision: number;
  /** The id of the event at `revision`, when the fold read it (undefined when there was nothing new). */
  readonly eventId: string | undefined;
}

/**
 * Folds the events after `start.revision` onto `start.state`. A start with an `eventId` is checked in
 * the same read (which then begins at its revision): undefined when the log holds another event there,
 * or none.
 */
export function foldStream<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  evolve: (state: State, event: Event) => State,
  start: FoldStart<State> & { readonly eventId: string },
): Promise<Folded<State> | undefined>;
export function foldStream<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  evolve: (state: State, event: Event) => State,
  start: Omit<FoldStart<State>, 'eventId'>,
  onRecorded?: (recorded: RecordedEvent, event: Event) => void,
): Promise<Folded<State>>;
export async function foldStream<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  evolve: (state: State, event: Event) => State,
  start: FoldStart<State>,
  onRecorded?: (recorded: RecordedEvent, event: Event) => void,
): Promise<Folded<State> | undefined> {
  let { state, revision } = start;
  let eventId: string | undefined;
  let check = start.eventId;
  for (;;) {
    const page = await store.readStream(stream, { fromRevision: check === undefined ? revision + 1 : revision, maxCount: PAGE });
    let skip = 0;
    if (check !== undefined) {
      const first = page[0];
      if (first?.revision !== revision || first.id !== check) return undefined;
      check = undefined;
      skip = 1;
    }
    for (let index = skip; index < page.length; index++) {
      const recorded = page[index]!;
      const event = toDomainEvent<Event>(recorded);
      onRecorded?.(recorded, event);
      state = evolve(state, event);
      revision = recorded.revision;
      eventId = recorded.id;
    }
    if (page.length < PAGE) return { state, revision, eventId };
  }
}

/**
 * The stream's state: from `cached` when given, else from the decider's snapshot when the log still
 * agrees with it, else from the start. Offers the result as a snapshot (taken when the fold crossed
 * one of the decider's `every`).
 */
export async function loadFolded<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  decider: Decider<never, State, Event>,
  options: { readonly cached?: { readonly state: State; readonly revision: number } | undefined; readonly snapshots?: StateSnapshots | undefined },
): Promise<{ state: State; revision: number }> {
  const evolve = decider.evolve.bind(decider);
  let since = options.cached?.revision ?? -1;
  let folded: Folded<State> | undefined;
  if (options.cached) {
    folded = await foldStream(store, stream, evolve, { state: options.cached.state, revision: options.cached.revision });
  } else if (options.snapshots) {
    const restored = await options.snapshots.restore(stream, decider);
    if (restored) {
      folded = await foldStream(store, stream, evolve, restored);
      if (folded) since = restored.revision;
    }
  }
  folded ??= await foldStream(store, stream, evolve, { state: decider.initialState, revision: -1 });
  options.snapshots?.offer(stream, decider, since, folded);
  return { state: folded.state, revision: folded.revision };
}
