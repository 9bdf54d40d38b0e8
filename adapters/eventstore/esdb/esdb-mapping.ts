// Translation between the EventStoreDB client's records and filters and the port's types, shared by the
// store and its subscriptions.
import {
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
  type AllStreamSubscription,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import type { EventFilter, JsonObject, JsonValue, RecordedEvent } from '../port.js';

/** The fields of a client record that we use; stream reads and $all reads both provide them. */
export interface EsdbRecord {
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly created: Date;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position | undefined;
}

// Servers before 22.6 do not fill in the $all position of an event read from a stream: the client then
// reports 0 or ulong.MaxValue. No event of ours can sit at 0 (the log opens with system records).
const POSITION_UNKNOWN_FROM = 2n ** 63n;

/** The event's log position as the port numbers it (its commit position), or undefined when the server did not say. */
export function commitPosition(record: EsdbRecord): number | undefined {
  const commit = record.position?.commit;
  if (commit === undefined || commit <= 0n || commit >= POSITION_UNKNOWN_FROM) return undefined;
  return Number(commit);
}

/** ESDB's own bookkeeping ($stats, $metadata, projections' links…) is not part of our log. */
export function isSystemRecord(record: { readonly type: string; readonly streamId: string }): boolean {
  return record.type.startsWith('$') || record.streamId.startsWith('$');
}

export function matchesFilter(record: { readonly type: string; readonly streamId: string }, filter: EventFilter | undefined): boolean {
  const types = filter?.eventTypePrefixes ?? [];
  const streams = filter?.streamNamePrefixes ?? [];
  return (
    (types.length === 0 || types.some((prefix) => record.type.startsWith(prefix))) &&
    (streams.length === 0 || streams.some((prefix) => record.streamId.startsWith(prefix)))
  );
}

/**
 * The filter to hand the server. ESDB filters on one thing per read, so when both prefix kinds are given
 * the stream-name prefixes (a category: usually the narrower) go to the server and the caller re-checks
 * everything with `matchesFilter`. Without prefixes, the server still drops its own `$` events.
 */
export function serverFilter(
  filter: EventFilter | undefined,
  onCheckpoint?: (position: Position) => void,
): Filter {
  const callback = onCheckpoint
    ? { checkpointReached: (_subscription: AllStreamSubscription, position: Position) => onCheckpoint(position) }
    : {};
  const streams = filter?.streamNamePrefixes ?? [];
  if (streams.length > 0) return streamNameFilter({ prefixes: [...streams], ...callback });
  const types = filter?.eventTypePrefixes ?? [];
  if (types.length > 0) return eventTypeFilter({ prefixes: [...types], ...callback });
  return excludeSystemEvents(callback);
}

export class EsdbPositionUnavailableError extends Error {
  constructor(eventId: string) {
    super(
      `EventStoreDB did not report the log position of event ${eventId}; ` +
        'vmledger needs EventStoreDB 22.6 or later, which reports positions on stream reads',
    );
    this.name = 'EsdbPositionUnavailableError';
  }
}

export function toRecorded(record: EsdbRecord): RecordedEvent {
  const position = commitPosition(record);
  if (position === undefined) throw new EsdbPositionUnavailableError(record.id);
  return {
    id: record.id,
    type: record.type,
    stream: record.streamId,
    revision: Number(record.revision),
    position,
    data: toJsonValue(record.data),
    metadata: toJsonObject(record.metadata),
    recordedAt: record.created.toISOString(),
  };
}

// The client parses JSON events itself; only events written by someone else as binary (or with
// malformed JSON) arrive as bytes or as the raw text.
function toJsonValue(data: unknown): JsonValue {
  if (data instanceof Uint8Array) return parseOr(Buffer.from(data).toString('utf8'), (text) => text);
  return data as JsonValue;
}

function toJsonObject(metadata: unknown): JsonObject {
  const value = metadata instanceof Uint8Array ? parseOr(Buffer.from(metadata).toString('utf8'), () => null) : metadata;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

function parseOr(text: string, fallback: (text: string) => JsonValue): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return fallback(text);
  }
}
