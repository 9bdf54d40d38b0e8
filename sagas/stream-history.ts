// The events of the streams a process keeps coming back to (an instance and its job while its saga
// runs), held in memory and topped up with what was appended since, instead of re-read whole at
// every step. Bounded: the least recently used streams are dropped and read again when needed.
import { toDomainEvent } from '../adapters/eventstore/domain-event.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import type { DomainEvent } from '../domain/shared/decider.js';

const PAGE = 1000;
/** Streams whose events are kept (VMLEDGER_HISTORY_CACHE_SIZE): those of the jobs under way, many times over. */
export const DEFAULT_HISTORY_CACHE_SIZE = 1_000;

export class StreamHistory {
  private readonly streams = new Map<string, { revision: number; events: DomainEvent[] }>();

  constructor(
    private readonly store: EventStore,
    private readonly maxStreams = DEFAULT_HISTORY_CACHE_SIZE,
  ) {}

  /** How many streams' events are held now: never more than the bound. */
  get size(): number {
    return this.streams.size;
  }

  /** Every event of the stream, in order, as of now. */
  async read<E extends DomainEvent>(stream: string): Promise<readonly E[]> {
    let entry = this.streams.get(stream);
    this.streams.delete(stream);
    entry ??= { revision: -1, events: [] };
    for (;;) {
      const page = await this.store.readStream(stream, { fromRevision: entry.revision + 1, maxCount: PAGE });
      for (const recorded of page) entry.events.push(toDomainEvent(recorded));
      if (page.length > 0) entry.revision = page[page.length - 1]!.revision;
      if (page.length < PAGE) break;
    }
    this.streams.set(stream, entry);
    if (this.streams.size > this.maxStreams) {
      const oldest = this.streams.keys().next().value;
      if (oldest !== undefined) this.streams.delete(oldest);
    }
    return entry.events as E[];
  }

  forget(stream: string): void {
    this.streams.delete(stream);
  }
}
