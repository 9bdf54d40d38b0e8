// The event store port: EventStoreDB semantics, implemented by the embedded SQLite store and by
// EventStoreDB itself. Everything above this file talks to the log only through these types, and may
// count only on what holds on both:
// - positions are opaque tokens handed out by the store (of events, checkpoints, caught-up, the head):
//   increasing, but sparse byte offsets on EventStoreDB; that they are gap-free (1, 2, 3…) is a
//   SQLite-only fact, which `audit verify` checks there alone. Any other number may name no place in
//   the log (`isPosition` tells);
// - an idempotent re-append is guaranteed for exact and no_stream expectations only; for 'any' and
//   'stream_exists' a repeat is recognised among the stream's recent events only;
// - size limits are per append (MAX_APPEND_BYTES);
// - a subscription may end with a retriable error (SubscriptionDroppedError).

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * The most one append may hold, in bytes: the UTF-8 of every event's data and metadata as stored (with
 * its hash-chain link) and its type counted twice. Both stores refuse a bigger append with
 * `InvalidAppendError` before writing anything. It is EventStoreDB's default MaxAppendSize, which
 * the server applies to the whole append (counting less of it than this does); a writer that merges
 * appends splits them under it.
 */
export const MAX_APPEND_BYTES = 1024 * 1024;

/**
 * What a writer hands to `append`. `id` is a UUID; re-appending the same ids at the same place with an
 * exact or no_stream expectation is a no-op that returns the first result.
 */
export interface EventData {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
}

/** An event as stored: its place in its stream (`revision`, from 0) and in the whole log (`position`, an opaque token). */
export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly data: JsonValue;
  readonly metadata: JsonObject;
  /** When the store committed the event (ISO-8601 UTC); the domain's own time is in metadata.occurredAt. */
  readonly recordedAt: string;
}

/** An event as a store that keeps JSON text holds it: data and metadata not yet parsed. */
export interface StoredEvent extends Omit<RecordedEvent, 'data' | 'metadata'> {
  readonly data: string;
  readonly metadata: string;
}

/**
 * What the writer believes about the stream before its append.
 * A number is the exact revision of the stream's last event.
 */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | number;

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  readonly revision: number;
  /** Log positions of the appended events, in order (of the stored ones on an idempotent repeat). */
  readonly positions: readonly number[];
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  readonly direction?: Direction;
  /** Inclusive. Defaults to the first (forwards) or last (backwards) event. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface EventFilter {
  /** Keep events whose type starts with one of these. */
  readonly eventTypePrefixes?: readonly string[];
  /** Keep events whose stream name starts with one of these. */
  readonly streamNamePrefixes?: readonly string[];
}

/**
 * A log position, exclusive: reading "from 41" yields the event at the first position after 41. A
 * number must be one the store handed out (or 0): positions are not arithmetic.
 */
export type FromPosition = 'start' | 'end' | number;

export interface ReadAllOptions {
  readonly fromPosition?: Exclude<FromPosition, 'end'>;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  /** Every event up to `position` has been delivered; what follows is live. Sent once. */
  | { readonly kind: 'caught_up'; readonly position: number }
  /**
   * A filtered subscription passed this position without an event for it; a consumer may store it
   * as its checkpoint so that a restart does not rescan what the filter skipped.
   */
  | { readonly kind: 'checkpoint'; readonly position: number };

export interface SubscribeOptions {
  readonly fromPosition?: FromPosition;
  readonly filter?: EventFilter;
}

/**
 * A catch-up subscription: iterate it; `close()` (or leaving the loop) ends it. It may end with an
 * error: a retriable SubscriptionDroppedError means subscribing again from the last position taken
 * carries on without a gap (the EventStoreDB store first resumes by itself).
 */
export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  close(): Promise<void>;
}

export interface EventStore {
  append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Forwards through the whole log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(options?: SubscribeOptions): Subscription;
  /**
   * `readAll` without parsing, for readers that pass the text through or hash it (usage tail, audit
   * verify). Offered by stores that keep events as JSON text; optional, so readers fall back to `readAll`.
   */
  readAllText?(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Position of the last event in the log (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * Whether `position` names a place in this log: 0 (before everything) or the position of a record
   * still in it. A reader given a position from outside (`usage tail --from`) checks it here: on
   * EventStoreDB a number between two records reads garbage or fails.
   */
  isPosition(position: number): Promise<boolean>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Errors. Typed so callers branch on `instanceof`, never on messages.

export abstract class EventStoreError extends Error {
  abstract readonly code: string;
}

export class WrongExpectedRevisionError extends EventStoreError {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or 'no_stream'. */
    readonly actual: number | 'no_stream',
  ) {
    super(`append to ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** The caller handed the store something it must never write; nothing was written. */
export class InvalidAppendError extends EventStoreError {
  readonly code = 'INVALID_APPEND';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidAppendError';
  }
}

/**
 * A stored event that cannot be read back: its data or metadata is not JSON. A store never writes
 * such text (appends are validated), so the file was changed under it; the error names the event.
 */
export class CorruptEventError extends EventStoreError {
  readonly code = 'CORRUPT_EVENT';
  constructor(
    readonly stream: string,
    readonly revision: number,
    readonly position: number,
    readonly part: 'data' | 'metadata',
    detail: string,
  ) {
    super(`event at position ${position} (${stream} revision ${revision}) is corrupt: its ${part} is not JSON (${detail})`);
    this.name = 'CorruptEventError';
  }
}

/**
 * The stream was deleted in the store by someone else (vmledger deletes nothing): EventStoreDB's
 * tombstone (`hard`, which also refuses reads) or its soft delete (`soft`: the stream reads as empty,
 * and writing into it would continue its old revisions). Nothing is written to it.
 */
export class StreamDeletedError extends EventStoreError {
  readonly code = 'STREAM_DELETED';
  constructor(
    readonly stream: string,
    readonly how: 'hard' | 'soft',
  ) {
    super(`stream ${stream} was deleted in the store (${how === 'hard' ? 'tombstoned' : 'soft-deleted'}); it can no longer be written`);
    this.name = 'StreamDeletedError';
  }
}

/**
 * A subscription ended because the store lost it. `retriable`: the connection or the cluster failed
 * (and a store that resumes by itself, as the EventStoreDB one does, gave up); subscribing again from
 * the last position taken carries on without a gap. Otherwise another try will not mend it.
 */
export class SubscriptionDroppedError extends EventStoreError {
  readonly code = 'SUBSCRIPTION_DROPPED';
  constructor(
    readonly retriable: boolean,
    override readonly cause: unknown,
  ) {
    super(`the subscription was dropped${retriable ? '' : ' for good'}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SubscriptionDroppedError';
  }
}

export class EventStoreClosedError extends EventStoreError {
  readonly code = 'STORE_CLOSED';
  constructor() {
    super('the event store is closed');
    this.name = 'EventStoreClosedError';
  }
}
