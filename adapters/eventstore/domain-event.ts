import type { DomainEvent } from '../../domain/shared/decider.js';
import type { RecordedEvent } from './port.js';

/**
 * The one place a stored event becomes a domain event again. Stored events are never rewritten:
 * when an event's shape changes, its old schemaVersion is upcast here, at read time. Every event
 * so far is at version 1, so there is nothing to upcast yet.
 */
export function toDomainEvent<E extends DomainEvent>(recorded: Pick<RecordedEvent, 'type' | 'data'>): E {
  return { type: recorded.type, data: recorded.data } as unknown as E;
}
