import {
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AppendExpectedRevision,
  type JSONType,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import {
  EventStoreClosedError,
  InvalidAppendError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../port.js';
import { GENESIS_HASH, chainContentOfText, seal, storedLink, type ChainContent } from '../hash-chain.js';
import { assertExpectedRevision, assertStreamName, serialiseEvents, type SerialisedEvent } from '../validation.js';
import { connectClient, type EsdbClient } from './esdb-client.js';
import { isSystemRecord, matchesFilter, toRecorded } from './esdb-mapping.js';
import { EsdbSubscription } from './esdb-subscription.js';

/** How often an 'any'/'stream_exists' append, pinned to the revision it read, retries when another writer gets in first. */
const PINNED_ATTEMPTS = 20;
/** How far back an 'any'/'stream_exists' append looks for its own ids, as the SQLite store does. */
const ANY_REPEAT_LOOKBACK = 100;

interface StreamTip {
  readonly revision: number;
  readonly hash: string;
}
const EMPTY_STREAM: StreamTip = { revision: -1, hash: GENESIS_HASH };

export interface EsdbEventStoreOptions {
  /** Page size of reads through `$all` (readAll, headPosition). At least 2. */
  readonly readBatchSize?: number;
}

/**
 * The production event store: EventStoreDB through `@eventstore/db-client`.
 *
 * Positions are ESDB commit positions (byte offsets into the transaction log: increasing, not gap-free).
 * Every event written without an explicit transaction, which is all of ours, has its own commit position
 * equal to its prepare position, so `{ commit: n, prepare: n }` names the event at n.
 *
 * Reads go to the leader: a command handler re-reads a stream after a conflict and must see the write
 * that beat it.
 */
export class EsdbEventStore implements EventStore {
  private closed = false;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly pageSize: number;

  private constructor(
    private readonly client: EsdbClient,
    options: EsdbEventStoreOptions,
  ) {
    // A page re-reads the last event of the previous one (reads from a position are inclusive), so a
    // page of one would never move.
    this.pageSize = Math.max(2, options.readBatchSize ?? 500);
  }

  static connect(connectionString: string, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    return new EsdbEventStore(connectClient(connectionString), options);
  }

  /** The store over a client already made: the tests' scripted fake of `@eventstore/db-client`. */
  static withClient(client: EsdbClient, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    return new EsdbEventStore(client, options);
  }

  /**
   * Each event is sealed into its stream's hash chain, which needs the exact predecessor: an exact or
   * no_stream append chains to the event it names; an 'any' or 'stream_exists' append reads the
   * stream's last event and is pinned to that revision (re-read and retried when another writer gets
   * in first), after looking for its own ids among the recent events, since pinning gives up ESDB's
   * 'any' deduplication.
   */
  async append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    assertStreamName(stream);
    assertExpectedRevision(expected);
    const serialised = serialiseEvents(events);
    if (serialised.length === 0) return this.appendNothing(stream, expected);
    const contents = serialised.map(chainContentOfText);

    if (expected === 'no_stream') return this.appendSealed(stream, serialised, contents, expected, EMPTY_STREAM);
    if (typeof expected === 'number') return this.appendSealed(stream, serialised, contents, expected, await this.tipAt(stream, expected));
    for (let attempt = 1; ; attempt++) {
      const repeat = await this.findRepeat(stream, serialised);
      if (repeat) return repeat;
      const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
      if (expected === 'stream_exists' && !last) throw new WrongExpectedRevisionError(stream, expected, 'no_stream');
      const tip = last ? tipOf(last) : EMPTY_STREAM;
      try {
        return await this.appendSealed(stream, serialised, contents, tip.revision === -1 ? 'no_stream' : tip.revision, tip);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= PINNED_ATTEMPTS) throw new WrongExpectedRevisionError(stream, expected, error.actual);
      }
    }
  }

  private async appendSealed(
    stream: string,
    serialised: readonly SerialisedEvent[],
    contents: readonly ChainContent[],
    expected: 'no_stream' | number,
    tip: StreamTip,
  ): Promise<AppendResult> {
    let previous = tip.hash;
    const proposed = serialised.map((event, i) => {
      const sealed = seal(previous, stream, tip.revision + 1 + i, contents[i]!);
      previous = sealed.link.hash;
      return jsonEvent({
        id: event.id,
        type: event.type,
        // The client JSON.stringify()s whatever it is given, which gives back the canonical texts the
        // objects were parsed from; its JSONType merely leaves out the scalars (numbers, booleans,
        // null) that our data may also be.
        data: JSON.parse(sealed.data) as JSONType,
        metadata: JSON.parse(sealed.metadata) as JSONType,
      });
    });
    let lastRevision: number;
    try {
      const result = await this.client.appendToStream(stream, proposed, {
        expectedRevision: toEsdbExpected(expected),
      });
      if (!result.success) {
        // Only with `throwOnAppendFailure=false` in the connection string; the client's batch append
        // then reports the actual revision wrongly, so ask the stream.
        throw new WrongExpectedRevisionError(stream, expected, toActual(await this.lastRevision(stream)));
      }
      lastRevision = Number(result.nextExpectedRevision);
    } catch (error) {
      throw translateAppendError(error, stream, expected);
    }

    // The server answers with the commit position of the write only (and, for an idempotent repeat,
    // with the stored events' revisions): read the events back for each one's own position.
    const firstRevision = lastRevision - serialised.length + 1;
    const stored = await this.readStream(stream, { fromRevision: firstRevision, maxCount: serialised.length });
    if (stored.length !== serialised.length || stored.some((event, i) => event.id !== serialised[i]!.id)) {
      throw new Error(
        `append to ${stream} succeeded, but revisions ${firstRevision}..${lastRevision} do not hold the appended events`,
      );
    }
    return { revision: lastRevision, positions: stored.map((event) => event.position) };
  }

  /** The event an exact-revision append follows; when it is missing ESDB refuses the append anyway. */
  private async tipAt(stream: string, revision: number): Promise<StreamTip> {
    const [event] = await this.readStream(stream, { fromRevision: revision, maxCount: 1 });
    return event && event.revision === revision ? tipOf(event) : { revision, hash: GENESIS_HASH };
  }

  /** The stored result when these ids already follow one another among the stream's recent events. */
  private async findRepeat(stream: string, events: readonly SerialisedEvent[]): Promise<AppendResult | undefined> {
    const recent = (await this.readStream(stream, { direction: 'backwards', maxCount: ANY_REPEAT_LOOKBACK })).reverse();
    const start = recent.findIndex((event) => event.id === events[0]!.id);
    if (start === -1) return undefined;
    const stored = await this.readStream(stream, { fromRevision: recent[start]!.revision, maxCount: events.length });
    if (stored.length !== events.length || stored.some((event, i) => event.id !== events[i]!.id)) return undefined;
    return { revision: stored[stored.length - 1]!.revision, positions: stored.map((event) => event.position) };
  }

  /** An empty append writes nothing, so ESDB would not check the expected revision: check it here. */
  private async appendNothing(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const current = await this.lastRevision(stream);
    const holds =
      expected === 'any' ||
      (expected === 'stream_exists' && current !== -1) ||
      (expected === 'no_stream' && current === -1) ||
      expected === current;
    if (!holds) throw new WrongExpectedRevisionError(stream, expected, toActual(current));
    return { revision: current, positions: [] };
  }

  /** The stream's last revision, -1 when it does not exist. */
  private async lastRevision(stream: string): Promise<number> {
    const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
    return last?.revision ?? -1;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    assertStreamName(stream);
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    const maxCount = options.maxCount ?? -1;
    if (maxCount === 0) return [];
    const read = this.client.readStream(stream, {
      direction: forwards ? FORWARDS : BACKWARDS,
      fromRevision: options.fromRevision === undefined ? (forwards ? START : END) : BigInt(options.fromRevision),
      ...(maxCount > 0 ? { maxCount } : {}),
      requiresLeader: true,
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        if (resolved.event) events.push(toRecorded(resolved.event));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  /**
   * Pages through `$all` and filters here: this client's `readAll` takes no server-side filter (only
   * subscriptions do).
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const from = options.fromPosition === undefined || options.fromPosition === 'start' ? 0 : options.fromPosition;
    const limit = options.maxCount === undefined || options.maxCount < 0 ? Number.POSITIVE_INFINITY : options.maxCount;
    const events: RecordedEvent[] = [];
    if (limit === 0) return events;
    // ESDB reads from a position inclusively; the port's position is exclusive, hence `after`.
    let after = from;
    let cursor: ReadPosition = from === 0 ? START : { commit: BigInt(from), prepare: BigInt(from) };
    for (;;) {
      const read = this.client.readAll({ fromPosition: cursor, maxCount: this.pageSize, requiresLeader: true });
      let received = 0;
      let last: Position | undefined;
      for await (const resolved of read) {
        received++;
        const record = resolved.event;
        if (!record) continue;
        last = record.position;
        const position = Number(record.position.commit);
        if (position <= after) continue;
        after = position;
        if (isSystemRecord(record) || !matchesFilter(record, options.filter)) continue;
        events.push(toRecorded(record));
        if (events.length >= limit) {
          await read.cancel();
          return events;
        }
      }
      if (received < this.pageSize || !last) return events;
      cursor = last;
    }
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const subscription = new EsdbSubscription(
      this.client,
      options,
      () => this.headPosition(),
      (closed) => this.subscriptions.delete(closed),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** The position of the last event that is not ESDB's own: reads `$all` backwards past its `$` events. */
  async headPosition(): Promise<number> {
    this.assertOpen();
    let cursor: ReadPosition = END;
    for (;;) {
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: cursor, maxCount: this.pageSize, requiresLeader: true });
      let received = 0;
      let last: Position | undefined;
      for await (const resolved of read) {
        received++;
        const record = resolved.event;
        if (!record) continue;
        last = record.position;
        if (!isSystemRecord(record)) {
          await read.cancel();
          return Number(record.position.commit);
        }
      }
      if (received < this.pageSize || !last) return 0;
      cursor = last;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosedError();
  }
}

function tipOf(event: RecordedEvent): StreamTip {
  // An event written before the chain existed is followed from the genesis hash; verify reports it.
  return { revision: event.revision, hash: storedLink(event.metadata)?.hash ?? GENESIS_HASH };
}

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      // Exact revisions, not ANY: ESDB's event-id deduplication is only guaranteed for them.
      return BigInt(expected);
  }
}

function toActual(lastRevision: number): number | 'no_stream' {
  return lastRevision === -1 ? 'no_stream' : lastRevision;
}

function translateAppendError(error: unknown, stream: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return new WrongExpectedRevisionError(stream, expected, actual === NO_STREAM ? 'no_stream' : Number(actual));
  }
  if (error instanceof MaxAppendSizeExceededError) {
    // Refused by the server before anything was written, as our own size checks would have.
    return new InvalidAppendError(
      'events',
      `the append to ${stream} is over EventStoreDB's maximum append size of ${error.maxAppendSize} bytes`,
    );
  }
  return error;
}
