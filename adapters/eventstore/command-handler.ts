// Where decisions meet the log: load a stream, fold it, decide, append with the revision that was
// read. A concurrent writer makes the append fail; the command is then re-decided on the new state.
import { v5 as uuidv5 } from 'uuid';
import { isRejection, type Decider, type DomainEvent, type Rejection } from '../../domain/shared/decider.js';
import { WrongExpectedRevisionError, type EventStore, type JsonObject } from './port.js';
import type { StateSnapshots } from './state-snapshots.js';
import { foldStream, loadFolded } from './stream-fold.js';

/** Namespace of every deterministic event id vmledger derives (UUIDv5). */
export const EVENT_ID_NAMESPACE = '6f1d2c1e-3b0a-5b8e-9c55-2a4f6f0c9d11';

export type Actor =
  | { readonly kind: 'user'; readonly userId: string; readonly accountId: string; readonly role: string }
  | { readonly kind: 'system'; readonly component: string };

/** Who asks, why, and when: becomes the metadata of every event the command appends. */
export interface CommandEnvelope {
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId?: string;
  /** ISO-8601 UTC, from the injected clock. */
  readonly occurredAt: string;
  /** Makes a retried command append nothing new: the event ids derive from it. */
  readonly idempotencyKey?: string;
}

export const SCHEMA_VERSION = 1;

export interface HandleCommandOptions<Command, State, Event extends DomainEvent> {
  readonly stream: string;
  readonly decider: Decider<Command, State, Event>;
  readonly command: Command;
  readonly envelope: CommandEnvelope;
  /** Fresh ids for commands without an idempotency key. */
  readonly newEventId: () => string;
  readonly maxAttempts?: number;
  /** Keeps folded states between commands, so a long stream is not re-read from its start each time. */
  readonly cache?: StateCache;
  /** Restores a stream missing from the cache from its snapshot (for deciders that take them), and takes new ones. */
  readonly snapshots?: StateSnapshots | undefined;
}

export interface CommandResult<State, Event extends DomainEvent> {
  readonly events: readonly Event[];
  readonly state: State;
  /** The stream's revision after the command (-1: the stream does not exist). */
  readonly revision: number;
  /** Log positions of the command's events; the read model has the command's effect once it reaches the last. */
  readonly positions: readonly number[];
  /** True when the idempotency key had already been handled and nothing was appended. */
  readonly duplicate: boolean;
}

/** The domain refused the command; nothing was appended. */
export class CommandRejectedError extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.message);
    this.name = 'CommandRejectedError';
  }
}

/**
 * For commands whose refusal means there is nothing left to do (released already, moved on already):
 * resolves undefined on a refusal, and still rejects on anything else.
 */
export async function unlessRefused<T>(run: Promise<T>): Promise<T | undefined> {
  try {
    return await run;
  } catch (error) {
    if (error instanceof CommandRejectedError) return undefined;
    throw error;
  }
}

/** Concurrent writers kept winning; the caller may retry later. */
export class ConcurrencyConflictError extends Error {
  readonly code = 'CONFLICT';
  constructor(
    readonly stream: string,
    readonly attempts: number,
  ) {
    super(`${stream} was modified concurrently ${attempts} times in a row; try again`);
    this.name = 'ConcurrencyConflictError';
  }
}

export function deterministicEventId(stream: string, idempotencyKey: string, index: number): string {
  return uuidv5(`${stream}|${idempotencyKey}|${index}`, EVENT_ID_NAMESPACE);
}

export async function handleCommand<Command, State, Event extends DomainEvent>(
  store: EventStore,
  options: HandleCommandOptions<Command, State, Event>,
): Promise<CommandResult<State, Event>> {
  const { stream, decider, command, envelope } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const key = envelope.idempotencyKey;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const loaded = await loadState(store, stream, decider, options, key);
    if (loaded.repeat) {
      return { events: loaded.repeat.events, state: loaded.state, revision: loaded.revision, positions: loaded.repeat.positions, duplicate: true };
    }
    const decision = decider.decide(command, loaded.state);
    if (isRejection(decision)) throw new CommandRejectedError(decision);
    if (decision.length === 0) {
      return { events: [], state: loaded.state, revision: loaded.revision, positions: [], duplicate: false };
    }
    const metadata = envelopeMetadata(envelope);
    const toAppend = decision.map((event, index) => ({
      id: key === undefined ? options.newEventId() : deterministicEventId(stream, key, index),
      type: event.type,
      data: event.data,
      metadata,
    }));
    try {
      const result = await store.append(stream, toAppend, loaded.revision === -1 ? 'no_stream' : loaded.revision);
      const state = decision.reduce(decider.evolve, loaded.state);
      options.cache?.set(stream, decider, { state, revision: result.revision });
      // A repeat of these ids is stored at these very revisions, so the last id names the state either way.
      options.snapshots?.offer(stream, decider, loaded.revision, { state, revision: result.revision, eventId: toAppend[toAppend.length - 1]!.id });
      return { events: decision, state, revision: result.revision, positions: result.positions, duplicate: false };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      options.cache?.delete(stream, decider);
    }
  }
  throw new ConcurrencyConflictError(stream, maxAttempts);
}

export function envelopeMetadata(envelope: CommandEnvelope): JsonObject {
  const metadata: JsonObject = {
    correlationId: envelope.correlationId,
    causationId: envelope.causationId ?? envelope.correlationId,
    actor: { ...envelope.actor },
    occurredAt: envelope.occurredAt,
    schemaVersion: SCHEMA_VERSION,
  };
  if (envelope.idempotencyKey !== undefined) metadata.idempotencyKey = envelope.idempotencyKey;
  return metadata;
}

interface Loaded<State, Event> {
  state: State;
  revision: number;
  repeat?: { events: Event[]; positions: number[] };
}

/**
 * Folds the stream (from the cached state, else from its snapshot, when there is one). With an
 * idempotency key it also collects the events an earlier run of the same command appended,
 * recognised by their derived ids; those may lie anywhere, before a snapshot too, so a keyed command
 * always reads its stream from the start.
 */
async function loadState<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  decider: Decider<never, State, Event>,
  options: Pick<HandleCommandOptions<never, State, Event>, 'cache' | 'snapshots'>,
  idempotencyKey: string | undefined,
): Promise<Loaded<State, Event>> {
  const { cache, snapshots } = options;
  if (idempotencyKey === undefined) {
    const { state, revision } = await loadFolded(store, stream, decider, { cached: cache?.get<State>(stream, decider), snapshots });
    if (cache && revision >= 0) cache.set(stream, decider, { state, revision });
    return { state, revision };
  }
  let repeat: Loaded<State, Event>['repeat'];
  const folded = await foldStream<State, Event>(store, stream, decider.evolve.bind(decider), { state: decider.initialState, revision: -1 }, (recorded, event) => {
    const index = repeat?.events.length ?? 0;
    if (recorded.id === deterministicEventId(stream, idempotencyKey, index)) {
      repeat ??= { events: [], positions: [] };
      repeat.events.push(event);
      repeat.positions.push(recorded.position);
    }
  });
  snapshots?.offer(stream, decider, -1, folded);
  const { state, revision } = folded;
  if (cache && revision >= 0) cache.set(stream, decider, { state, revision });
  return repeat ? { state, revision, repeat } : { state, revision };
}

/** A bounded map from (stream, decider) to the state folded so far. */
export class StateCache {
  private readonly entries = new Map<string, { state: unknown; revision: number }>();
  private readonly deciderIds = new WeakMap<object, number>();
  private nextDeciderId = 0;

  constructor(private readonly maxEntries = 10_000) {}

  /** How many states are held now: never more than the bound. */
  get size(): number {
    return this.entries.size;
  }

  get<State>(stream: string, decider: object): { state: State; revision: number } | undefined {
    const key = this.key(stream, decider);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Refresh recency: Map iteration order is insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry as { state: State; revision: number };
  }

  set(stream: string, decider: object, entry: { state: unknown; revision: number }): void {
    const key = this.key(stream, decider);
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(stream: string, decider: object): void {
    this.entries.delete(this.key(stream, decider));
  }

  private key(stream: string, decider: object): string {
    let id = this.deciderIds.get(decider);
    if (id === undefined) {
      id = this.nextDeciderId++;
      this.deciderIds.set(decider, id);
    }
    return `${id}|${stream}`;
  }
}
