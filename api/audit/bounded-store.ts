// The log as it stood at one position: what a scratch read model is rebuilt from, so that it can be
// compared with a live read model whose checkpoint is at that position. Read-only.
import type {
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StoredEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionMessage,
} from '../../adapters/eventstore/port.js';

const PAGE = 1000;

export function logUpTo(store: EventStore, upTo: number): EventStore {
  const bounded: EventStore = {
    append(): Promise<AppendResult> {
      return Promise.reject(new Error('the log as of a position is read-only'));
    },
    async readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
      return (await store.readStream(stream, options)).filter((event) => event.position <= upTo);
    },
    async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      const events = await store.readAll(options);
      const cut = events.findIndex((event) => event.position > upTo);
      return cut === -1 ? events : events.slice(0, cut);
    },
    ...(store.readAllText
      ? {
          async readAllText(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
            const events = await store.readAllText!(options);
            const cut = events.findIndex((event) => event.position > upTo);
            return cut === -1 ? events : events.slice(0, cut);
          },
        }
      : {}),
    subscribe(options: SubscribeOptions = {}): Subscription {
      return new BoundedSubscription(bounded, options);
    },
    async headPosition(): Promise<number> {
      return Math.min(upTo, await store.headPosition());
    },
    async isPosition(position: number): Promise<boolean> {
      return position <= upTo && (await store.isPosition(position));
    },
    // The view does not own the log it looks at.
    close: async () => undefined,
  };
  return bounded;
}

/** Delivers the events up to the bound, says it is caught up there, then waits for close: nothing is ever live. */
class BoundedSubscription implements Subscription {
  private closed = false;
  private release: (() => void) | undefined;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  /** `store` is the bounded view, so reading it to its head stops at the bound. */
  constructor(
    private readonly store: EventStore,
    private readonly options: SubscribeOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    const from = this.options.fromPosition ?? 'start';
    let position = from === 'start' ? 0 : from === 'end' ? await this.store.headPosition() : from;
    for (;;) {
      if (this.closed) return;
      const page = await this.store.readAll({ fromPosition: position, maxCount: PAGE, ...(this.options.filter ? { filter: this.options.filter } : {}) });
      for (const event of page) {
        if (this.closed) return;
        position = event.position;
        yield { kind: 'event', event };
      }
      if (page.length < PAGE) break;
    }
    if (this.closed) return;
    yield { kind: 'caught_up', position: Math.max(position, await this.store.headPosition()) };
    await this.released;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.release?.();
  }
}
